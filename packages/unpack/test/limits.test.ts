// Safety leftovers: layer blobs opened once, a cap on a layer's uncompressed size,
// UnpackError.is and the shared @oci error brand.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { unpackImage, UnpackError } from '../src/index.js';
import { makeImage } from './helpers/image.js';
import { makeTar } from './helpers/tar.js';
import { rejection, useScratch } from './helpers/scratch.js';

const scratch = useScratch('oci-unpack-limits-test-');
const target = scratch.target;
const assertNothingLeft = (): void => scratch.assertNothingLeft(['layout', 'outside']);
const fail = rejection;
const blobPath = (layoutDir: string, digest: string) => join(layoutDir, 'blobs', ...digest.split(':'));

describe.each([false, true])('maxLayerSize (worker: %s)', (worker) => {
  it('refuses a layer that uncompresses to more than the limit (ERR_LAYER_TOO_LARGE), nothing left', async () => {
    // 8 MiB of zeros: a 8 KiB blob (a small "decompression bomb" whose digests are consistent)
    const tar = await makeTar([{ name: 'zeros', content: Buffer.alloc(8 << 20) }]);
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar }]);
    const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false, worker, maxLayerSize: 1 << 20 }));
    expect(UnpackError.is(err, 'ERR_LAYER_TOO_LARGE'), String(err)).toBe(true);
    expect(err.name).toBe('UnpackError');
    expect(err.expected).toBe(String(1 << 20));
    expect(err.hint).toMatch(/max-layer-size/);
    assertNothingLeft();
  });

  it('accepts a layer of exactly the limit, and checks every layer', async () => {
    const small = await makeTar([{ name: 'a', content: 'a' }]);
    const big = await makeTar([{ name: 'b', content: Buffer.alloc(64 << 10, 1) }]);
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar: small }, { tar: big }]);
    const r = await unpackImage(layout, 'latest', target(), { rootless: false, worker, maxLayerSize: big.length });
    expect(r.layers).toHaveLength(2);
    fs.rmSync(target(), { recursive: true });
    const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false, worker, maxLayerSize: big.length - 1 }));
    expect(UnpackError.is(err, 'ERR_LAYER_TOO_LARGE'), String(err)).toBe(true);
    assertNothingLeft();
  });
});

describe('maxLayerSize', () => {
  it('applies to plain and zstd layers too', async () => {
    const tar = await makeTar([{ name: 'z', content: Buffer.alloc(256 << 10) }]);
    for (const compression of ['none', 'zstd'] as const) {
      const dir = join(scratch.dir(), `layout-${compression}`);
      const layout = await makeImage(dir, [{ tar, compression }]);
      const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false, maxLayerSize: 4096 }));
      expect(UnpackError.is(err, 'ERR_LAYER_TOO_LARGE'), `${compression}: ${String(err)}`).toBe(true);
      fs.rmSync(dir, { recursive: true });
    }
    assertNothingLeft();
  });

  it('refuses a limit that is not a byte count (ERR_INVALID_ARGUMENT)', async () => {
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar: await makeTar([{ name: 'a', content: 'a' }]) }]);
    for (const maxLayerSize of [-1, 1.5, Number.NaN]) {
      const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false, maxLayerSize }));
      expect(UnpackError.is(err, 'ERR_INVALID_ARGUMENT'), String(err)).toBe(true);
    }
    assertNothingLeft();
  });
});

describe.each([false, true])('layer blobs are opened once (worker: %s)', (worker) => {
  it('a blob swapped after unpacking started is not read: the bytes opened first are', async () => {
    const t0 = await makeTar([{ name: 'first', content: 'first' }]);
    const t1 = await makeTar([{ name: 'second', content: Buffer.alloc(2 << 20, 2) }]);
    const layoutDir = join(scratch.dir(), 'layout');
    const layout = await makeImage(layoutDir, [{ tar: t0 }, { tar: t1 }]);
    const manifest = (await layout.resolve('latest')).manifest;
    const victim = blobPath(layoutDir, manifest.layers[1]!.digest);
    // a different, valid layer under the same name: reading it by path now would be a digest mismatch
    const evil = zlib.gzipSync(await makeTar([{ name: 'evil', content: 'evil' }]));
    let swapped = false;
    const r = await unpackImage(layout, 'latest', target(), {
      rootless: false,
      worker,
      onProgress: (p) => {
        if (p.layer === 0 && !swapped) {
          swapped = true;
          fs.writeFileSync(`${victim}.new`, evil);
          fs.renameSync(`${victim}.new`, victim);
        }
      },
    });
    expect(swapped).toBe(true);
    expect(r.layers).toHaveLength(2);
    expect(fs.readdirSync(target()).sort()).toEqual(['first', 'second']);
  });
});

describe('corrupt gzip in the middle of a big layer', () => {
  it.each([false, true])('ERR_BAD_LAYER from inflate mid-stream, without hanging, nothing left (worker: %s)', async (worker) => {
    // a gzip member whose deflate data is fine for the first 2.5 MiB of the tar (random letters, ~1 MB
    // compressed: several reads), then a block of the invalid type 3: inflate fails there, mid-stream
    // (the blob's digest is taken of these bytes, so the gzip error itself is what is reported)
    const { randomBytes } = await import('node:crypto');
    const letters = randomBytes(3 << 20).map((b) => 0x61 + (b & 7));
    const tar = await makeTar([{ name: 'noise', content: Buffer.from(letters) }, { name: 'after', content: 'x' }]);
    const good = zlib.deflateRawSync(tar.subarray(0, 5 << 19), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const blob = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]), good, Buffer.from([0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0])]);
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar, mangle: () => blob }]);
    const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false, worker }));
    expect(UnpackError.is(err, 'ERR_BAD_LAYER'), String(err)).toBe(true);
    expect(err.message).toMatch(/invalid block type/);
    assertNothingLeft();
  }, 30_000);
});

describe('hostile blobs in the layout', () => {
  it('a layer blob that is a symlink out of the layout: ERR_UNSAFE_PATH, not followed, nothing left', async () => {
    const tar = await makeTar([{ name: 'a', content: 'a' }]);
    const layoutDir = join(scratch.dir(), 'layout');
    const layout = await makeImage(layoutDir, [{ tar }]);
    const manifest = (await layout.resolve('latest')).manifest;
    const p = blobPath(layoutDir, manifest.layers[0]!.digest);
    fs.mkdirSync(join(scratch.dir(), 'outside'));
    fs.renameSync(p, join(scratch.dir(), 'outside', 'blob'));
    fs.symlinkSync(join(scratch.dir(), 'outside', 'blob'), p);
    const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false }));
    expect(UnpackError.is(err, 'ERR_UNSAFE_PATH'), String(err)).toBe(true);
    assertNothingLeft();
  });

  it('a layer blob that is a fifo: refused without hanging', async () => {
    const tar = await makeTar([{ name: 'a', content: 'a' }]);
    const layoutDir = join(scratch.dir(), 'layout');
    const layout = await makeImage(layoutDir, [{ tar }]);
    const manifest = (await layout.resolve('latest')).manifest;
    const p = blobPath(layoutDir, manifest.layers[0]!.digest);
    fs.rmSync(p);
    execFileSync('mkfifo', [p]);
    const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false }));
    expect(UnpackError.is(err, 'ERR_UNSAFE_PATH'), String(err)).toBe(true);
    assertNothingLeft();
  });

  it('a missing layer blob: ERR_BLOB_UNKNOWN before anything is written', async () => {
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar: await makeTar([{ name: 'a', content: 'a' }]) }, { tar: await makeTar([{ name: 'b', content: 'b' }]), omitBlob: true }]);
    const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false }));
    expect(UnpackError.is(err, 'ERR_BLOB_UNKNOWN'), String(err)).toBe(true);
    expect(err.name).toBe('UnpackError');
    assertNothingLeft();
  });
});

describe('UnpackError.is', () => {
  it('recognises every @oci error by the shared Symbol.for("oci.error") brand, optionally with a code', async () => {
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar: await makeTar([{ name: 'a', content: 'a' }]) }]);
    // a ref the layout does not have: @oci/layout's LayoutError, passed through by unpackImage
    const err = await fail(unpackImage(layout, 'nope', target(), { rootless: false }));
    expect(err.name).not.toBe('UnpackError');
    expect(UnpackError.is(err)).toBe(true);
    expect(UnpackError.is(err, 'ERR_REF_UNKNOWN'), String(err)).toBe(true);
    expect(UnpackError.is(err, 'ERR_BAD_LAYER')).toBe(false);
    const own = new UnpackError('ERR_BAD_LAYER', 'x');
    expect(UnpackError.is(own, 'ERR_BAD_LAYER')).toBe(true);
    expect((own as unknown as Record<symbol, unknown>)[Symbol.for('oci.error')]).toBe(true);
    const foreign = Object.assign(new Error('y'), { code: 'ERR_BAD_LAYER' });
    expect(UnpackError.is(foreign)).toBe(false);
    expect(UnpackError.is(null)).toBe(false);
    expect(UnpackError.is('ERR_BAD_LAYER')).toBe(false);
    assertNothingLeft();
  });
});
