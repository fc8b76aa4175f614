// The CLI loader (tools/bundle-cli/loader.cjs, dist/cli-loader.cjs in every CLI package) writes one V8 code
// cache per command on the command's first run, reuses it afterwards, and rewrites one V8 rejects.
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
const cache = join(pkg, 'dist', 'oci-registry.cjs.list-tags.cache');
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
});
