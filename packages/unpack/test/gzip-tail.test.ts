// A gzip layer followed by zero bytes (padding that gzip and zlib accept): zlib ends its output
// at the end of the gzip member, before the blob is read to its end, so the layer must not be
// taken as complete until the blob's digest and size were checked, in both decompression paths.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpackImage, UnpackError } from '../src/index.js';
import { makeImage } from './helpers/image.js';
import { makeTar } from './helpers/tar.js';

let base: string;
beforeEach(() => {
  base = fs.mkdtempSync(join(os.tmpdir(), 'oci-unpack-gztail-test-'));
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

const target = () => join(base, 'out');

async function image(): Promise<{ layout: Awaited<ReturnType<typeof makeImage>>; blobFile: string }> {
  // 2 MiB of incompressible data (the worker path by default) and 3 MiB of zeros after the gzip member
  const tar = await makeTar([{ name: 'data', content: randomBytes(2 << 20) }, { name: 'second', content: 'x' }]);
  const layout = await makeImage(join(base, 'layout'), [{ tar, mangle: (gz) => Buffer.concat([gz, Buffer.alloc(3 << 20)]) }, { tar: await makeTar([{ name: 'top', content: 't' }]) }]);
  const manifest = JSON.parse(fs.readFileSync(join(base, 'layout', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const m = JSON.parse(fs.readFileSync(join(base, 'layout', 'blobs', ...manifest.manifests[0]!.digest.split(':')), 'utf8')) as { layers: { digest: string }[] };
  return { layout, blobFile: join(base, 'layout', 'blobs', ...m.layers[0]!.digest.split(':')) };
}

describe.each([false, true])('gzip member followed by zeros (worker: %s)', (worker) => {
  it('unpacks (trailing zeros are padding)', async () => {
    const { layout } = await image();
    await unpackImage(layout, 'latest', target(), { rootless: false, worker });
    expect(fs.readFileSync(join(target(), 'second'), 'utf8')).toBe('x');
    expect(fs.readFileSync(join(target(), 'top'), 'utf8')).toBe('t');
  });

  it('still checks the blob digest: a blob changed where zlib does not look (gzip MTIME) is ERR_DIGEST_MISMATCH, nothing left', async () => {
    const { layout, blobFile } = await image();
    const blob = fs.readFileSync(blobFile);
    blob[4] = blob[4]! ^ 0xff; // gzip header MTIME: same output, other digest
    fs.writeFileSync(blobFile, blob);
    expect('sha256:' + createHash('sha256').update(blob).digest('hex')).not.toBe('sha256:' + blobFile.split('/').pop());
    const err = await unpackImage(layout, 'latest', target(), { rootless: false, worker }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(UnpackError.is(err, 'ERR_DIGEST_MISMATCH'), String(err)).toBe(true);
    expect(fs.existsSync(target())).toBe(false);
    expect(fs.readdirSync(base)).toEqual(['layout']);
  });
});
