// Proves that the packed tarballs install into an empty directory without the workspace and import.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
});
