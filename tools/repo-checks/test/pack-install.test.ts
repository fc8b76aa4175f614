// Proves that the packed tarballs install into an empty directory without the workspace and import.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishedPackages } from './packages.js';

const packages = publishedPackages();
const work = mkdtempSync(join(tmpdir(), 'oci-pack-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');

describe('packed tarballs', () => {
  beforeAll(() => {
    for (const { dir } of packages) {
      execFileSync('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir, stdio: 'pipe' });
    }
    const files = readdirSync(tarballs);
    const dependencies: Record<string, string> = {};
    for (const { manifest } of packages) {
      const base = `${manifest.name.slice(1).replace('/', '-')}-${manifest.version}.tgz`;
      expect(files).toContain(base);
      dependencies[manifest.name] = `file:${join(tarballs, base)}`;
    }
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', dependencies }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts=false', '--loglevel=error'], {
      cwd: app,
      stdio: 'pipe',
      timeout: 240_000,
    });
  }, 300_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.each(packages.map((p) => p.manifest.name as string))('%s installs on its own and imports', (name) => {
    const out = execFileSync(
      'node',
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(name)}); console.log(Object.keys(m).length);`],
      { cwd: app, encoding: 'utf8' },
    );
    expect(Number(out.trim())).toBeGreaterThan(0);
  });

  it.each(packages.flatMap((p) => Object.keys(p.manifest.bin ?? {})))('bin %s answers --help', (bin) => {
    const out = execFileSync(join(app, 'node_modules', '.bin', bin), ['--help'], { encoding: 'utf8' });
    expect(out).toMatch(/Usage|Commands|Options/i);
  });

  // @oci/cli-registry compiles its native front end at install (native/recopy.c), from the files it ships
  it('@oci/cli-registry builds native/oci-registry-recopy at install', () => {
    const built = join(app, 'node_modules', '@oci', 'cli-registry', 'native', 'oci-registry-recopy');
    const r = spawnSync(built, [], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/usage: oci-registry-recopy LAUNCHER copy/);
  });

  // npm links bins as symlinks: the sh launchers find their bin/NAME.js through the link, and start Node without
  // NODE_EXTRA_CA_CERTS (Node warns at start when it cannot load that file: no warning means it never saw it)
  it.each(packages.flatMap((p) => Object.entries<string>(p.manifest.bin ?? {})
    .filter(([, target]) => readFileSync(join(p.dir, target), 'utf8').startsWith('#!/bin/sh'))
    .map(([bin]) => bin)))('bin %s starts Node without NODE_EXTRA_CA_CERTS', (bin) => {
    const r = spawnSync(join(app, 'node_modules', '.bin', bin), ['--help'], {
      encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: join(work, 'no-such-ca.pem') },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Usage|Commands|Options/i);
    expect(r.stderr).not.toMatch(/extra certs/i);
    // the control: Node started directly with the same environment does warn, so the check above can fail
    const direct = spawnSync(process.execPath, ['-e', '0'], {
      encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: join(work, 'no-such-ca.pem') },
    });
    expect(direct.stderr).toMatch(/extra certs/i);
  });
});
