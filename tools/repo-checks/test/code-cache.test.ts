// The CLI loader (tools/bundle-cli/loader.cjs, dist/cli-loader.cjs in every CLI package) writes one V8 code
// cache per command on the command's first successful run (help runs have their own), reuses it afterwards,
// and rewrites one V8 rejects.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './packages.js';

// a copy of oci-registry's launcher, loader and bundle (the bundle needs nothing else), so that the other
// checks (pnpm pack of the package) never see a cache appear or go
const pkg = mkdtempSync(join(tmpdir(), 'oci-code-cache-'));
const from = join(repoRoot, 'packages', 'cli-registry');
cpSync(join(from, 'bin'), join(pkg, 'bin'), { recursive: true });
mkdirSync(join(pkg, 'dist'));
for (const f of ['cli-loader.cjs', 'oci-registry.cjs']) cpSync(join(from, 'dist', f), join(pkg, 'dist', f));
afterAll(() => rmSync(pkg, { recursive: true, force: true }));
const cache = join(pkg, 'dist', 'oci-registry.cjs.list-tags-help.cache');
const commandCache = join(pkg, 'dist', 'oci-registry.cjs.list-tags.cache');
const runHelp = () => {
  const r = spawnSync(join(pkg, 'bin', 'oci-registry'), ['list-tags', '--help'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/list-tags/);
};

describe('per-command V8 code cache of the CLI loader', () => {
  it('is written by the first run of a command, kept by the next, rewritten when V8 rejects it', () => {
    expect(existsSync(cache)).toBe(false);
    runHelp();
    expect(existsSync(cache)).toBe(true);
    const first = statSync(cache);
    expect(first.size).toBeGreaterThan(1000);

    runHelp();
    expect(statSync(cache).mtimeMs, 'an accepted cache is not rewritten').toBe(first.mtimeMs);

    writeFileSync(cache, Buffer.alloc(64, 7));
    runHelp();
    const again = readFileSync(cache);
    expect(again.length, 'a rejected cache is replaced by a real one').toBeGreaterThan(1000);
  });

  it('a help run does not write the command\'s own cache, nor does a failed run', () => {
    runHelp();
    expect(existsSync(commandCache), 'list-tags --help wrote the list-tags cache').toBe(false);
    // a usage error (exit 2) and a failure (exit 1): both ran only a part of list-tags
    const usage = spawnSync(join(pkg, 'bin', 'oci-registry'), ['list-tags'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    // (refused by registries.conf before any connection)
    const conf = join(pkg, 'blocked.conf');
    writeFileSync(conf, '[[registry]]\nlocation = "127.0.0.1:1"\nblocked = true\n');
    const failed = spawnSync(join(pkg, 'bin', 'oci-registry'), ['list-tags', 'docker://127.0.0.1:1/none'], { encoding: 'utf8', env: { ...process.env, CONTAINERS_REGISTRIES_CONF: conf } });
    expect(failed.status, failed.stderr).toBe(1);
    expect(existsSync(commandCache), 'a failed list-tags wrote its cache').toBe(false);
  });
});
