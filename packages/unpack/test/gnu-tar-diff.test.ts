// Differential test against GNU tar: archives written by python3's tarfile (ustar, gnu, pax; long
// names and link targets; unicode; base-256 numbers; sizes around the 512-byte block; many entries;
// header-only types with a size field; data after the end-of-archive marker) must give the tree
// `tar -x` gives, whatever the chunk boundaries; hostile ones (truncated, bad checksum, garbage
// numbers, malformed PAX records) must be refused with a coded error, leaving nothing at the target.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { diffTrees, snapshotTree } from '@oci/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { applyLayer, unpackImage, UnpackError } from '../src/index.js';
import { makeImage } from './helpers/image.js';

// generated at collection time: one test per archive
const base = fs.mkdtempSync(join(os.tmpdir(), 'oci-unpack-gnutar-test-'));
const gen = join(base, 'gen');
fs.mkdirSync(gen);
execFileSync('python3', [join(import.meta.dirname, 'fixtures', 'gen-tars.py'), gen]);
const names = fs.readdirSync(gen).sort();
const valid = names.filter((n) => n.startsWith('valid-'));
const bad = names.filter((n) => n.startsWith('bad-'));
const seedOf = (name: string) => [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** deterministic chunks of random sizes (1 byte to 70 KB, small ones often) */
async function* randomChunks(buf: Buffer, seed: number): AsyncGenerator<Uint8Array> {
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  for (let off = 0; off < buf.length; ) {
    const r = rnd();
    const n = r < 0.3 ? 1 + Math.floor(rnd() * 600) : 1 + Math.floor(rnd() * 70_000);
    yield new Uint8Array(buf.subarray(off, off + n));
    off += n;
  }
}

describe('GNU tar differential', () => {
  it('generates the corpus', () => {
    expect(valid.length).toBeGreaterThan(15);
    expect(bad.length).toBeGreaterThan(15);
  });

  it.each(valid)('%s: the tree GNU tar gives, in random chunks', async (name) => {
    {
      const k = seedOf(name);
      const tar = fs.readFileSync(join(gen, name));
      const want = join(base, `tar-${name}`);
      fs.mkdirSync(want);
      execFileSync('tar', ['--numeric-owner', '-xpf', join(gen, name), '-C', want], { stdio: 'pipe' });
      const expected = await snapshotTree(want, { xattrs: false });
      for (const seed of [1 + k, 1000 + k]) {
        const dir = join(base, `ours-${seed}-${name}`);
        fs.mkdirSync(dir);
        await applyLayer(dir, randomChunks(tar, seed), { rootless: false });
        expect(diffTrees(expected, await snapshotTree(dir, { xattrs: false })), `${name} (chunk seed ${seed})`).toEqual([]);
        fs.rmSync(dir, { recursive: true });
      }
      if (name.startsWith('valid-rich')) expect(expected.length, name).toBeGreaterThan(1500);
      fs.rmSync(want, { recursive: true });
    }
  });

  it.each(bad)('%s: refused with a coded error, nothing left at the target', async (name) => {
    {
      const k = seedOf(name);
      const tar = fs.readFileSync(join(gen, name));
      // through the whole pipeline (plain layer: the digests are right, the tar is not)
      const layout = await makeImage(join(base, `layout-${name}`), [{ tar, compression: 'none' }]);
      const target = join(base, `target-${name}`);
      const err = await unpackImage(layout, 'latest', target, { rootless: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(UnpackError.is(err), `${name}: ${String(err)}`).toBe(true);
      expect(['ERR_BAD_LAYER', 'ERR_UNSAFE_PATH'], `${name}: ${String(err)}`).toContain((err as UnpackError).code);
      expect(fs.existsSync(target), name).toBe(false);
      expect(fs.readdirSync(base).filter((n) => n.startsWith(`.target-${name}`)), name).toEqual([]);
      // and in random chunks straight into applyLayer
      const dir = join(base, `apply-${name}`);
      fs.mkdirSync(dir);
      const err2 = await applyLayer(dir, randomChunks(tar, 77 + k), { rootless: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(UnpackError.is(err2), `${name} (applyLayer): ${String(err2)}`).toBe(true);
    }
  });
});
