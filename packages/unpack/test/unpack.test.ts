import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBundle, unpackImage, UnpackError } from '../src/index.js';
import { makeImage } from './helpers/image.js';
import { makeTar } from './helpers/tar.js';
import { rejection, useScratch } from './helpers/scratch.js';

const scratch = useScratch('oci-unpackimage-test-');
const target = scratch.target;
const assertNothingLeft = (): void => scratch.assertNothingLeft();
const fail = rejection;

describe.each([false, true])('unpackImage (worker: %s)', (worker) => {
  it('unpacks gzip, zstd and plain layers in order, verifying digests and diff_ids', async () => {
    const l1 = await makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/a', content: 'a' }, { name: 'etc/b', content: 'b' }]);
    const l2 = await makeTar([{ name: 'etc/.wh.a', content: '' }, { name: 'etc/c', content: 'c' }]);
    const l3 = await makeTar([{ name: 'bin/sh', content: 'sh', mode: 0o755 }]);
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar: l1 }, { tar: l2, compression: 'zstd' }, { tar: l3, compression: 'none' }]);
    const progress: number[] = [];
    const r = await unpackImage(layout, 'latest', target(), { rootless: false, worker, onProgress: (p) => progress.push(p.layer) });
    expect(fs.readdirSync(join(target(), 'etc')).sort()).toEqual(['b', 'c']);
    expect(fs.readFileSync(join(target(), 'bin/sh'), 'utf8')).toBe('sh');
    expect(r.layers.map((l) => l.entries)).toEqual([3, 2, 1]);
    expect(new Set(progress)).toEqual(new Set([0, 1, 2]));
    expect(fs.readdirSync(scratch.dir()).sort()).toEqual(['layout', 'out']);
  });

  it('a layer whose diff_id does not match: ERR_DIFF_ID_MISMATCH, nothing left', async () => {
    const tar = await makeTar([{ name: 'a', content: 'a' }]);
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar, diffId: 'sha256:' + '0'.repeat(64) }]);
    const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false, worker }));
    expect(UnpackError.is(err, 'ERR_DIFF_ID_MISMATCH'), String(err)).toBe(true);
    expect(err.expected).toBe('sha256:' + '0'.repeat(64));
    assertNothingLeft();
  });

  it('a truncated gzip: ERR_BAD_LAYER, nothing left', async () => {
    const tar = await makeTar([{ name: 'big', content: Buffer.alloc(200_000, 7) }, { name: 'b', content: 'b' }]);
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar, mangle: (b) => b.subarray(0, b.length - 20) }]);
    const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false, worker }));
    expect(UnpackError.is(err, 'ERR_BAD_LAYER'), String(err)).toBe(true);
    assertNothingLeft();
  });

  it('a corrupt blob (digest mismatch): ERR_DIGEST_MISMATCH, nothing left', async () => {
    const tar = await makeTar([{ name: 'a', content: 'a' }]);
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar, compression: worker ? 'gzip' : 'none' }]);
    const [desc] = (await layout.resolve('latest')).manifest.layers;
    const p = layout.blobPath(desc!.digest);
    fs.chmodSync(p, 0o644);
    const bytes = fs.readFileSync(p);
    bytes[Math.min(600, bytes.length - 30)] = bytes[Math.min(600, bytes.length - 30)]! ^ 0xff;
    fs.writeFileSync(p, bytes);
    const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false, worker }));
    expect(UnpackError.is(err, 'ERR_DIGEST_MISMATCH'), String(err)).toBe(true);
    assertNothingLeft();
  });

  it('a tar with a hostile path: ERR_UNSAFE_PATH, nothing left', async () => {
    const tar = await makeTar([{ name: 'ok', content: 'fine' }, { name: '../../escape', content: 'x' }]);
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar }]);
    const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false, worker }));
    expect(UnpackError.is(err, 'ERR_UNSAFE_PATH'), String(err)).toBe(true);
    assertNothingLeft();
    expect(fs.existsSync(join(scratch.dir(), '..', 'escape'))).toBe(false);
  });

  it('unknown layer media types and missing non-distributable blobs are refused up front', async () => {
    const tar = await makeTar([{ name: 'a', content: 'a' }]);
    let layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar, mediaType: 'application/vnd.example.weird' }]);
    let err = await fail(unpackImage(layout, 'latest', target(), { rootless: false, worker }));
    expect(UnpackError.is(err, 'ERR_UNSUPPORTED_MEDIA_TYPE'), String(err)).toBe(true);
    assertNothingLeft();
    fs.rmSync(join(scratch.dir(), 'layout'), { recursive: true });
    layout = await makeImage(join(scratch.dir(), 'layout'), [
      { tar, mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', omitBlob: true },
    ]);
    err = await fail(unpackImage(layout, 'latest', target(), { rootless: false, worker }));
    expect(UnpackError.is(err, 'ERR_BLOB_UNKNOWN'), String(err)).toBe(true);
    assertNothingLeft();
  });

  it('unpacks Docker media types', async () => {
    const tar = await makeTar([{ name: 'd', content: 'docker' }]);
    const layout = await makeImage(join(scratch.dir(), 'layout'), [
      { tar, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' },
      { tar: await makeTar([{ name: 'e', content: 'plain' }]), compression: 'none', mediaType: 'application/vnd.docker.image.rootfs.diff.tar' },
    ]);
    await unpackImage(layout, 'latest', target(), { rootless: false, worker });
    expect(fs.readdirSync(target()).sort()).toEqual(['d', 'e']);
  });

  it('refuses a non-empty target and leaves it alone', async () => {
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar: await makeTar([{ name: 'a', content: 'a' }]) }]);
    fs.mkdirSync(target());
    fs.writeFileSync(join(target(), 'keep'), 'k');
    const err = await fail(unpackImage(layout, 'latest', target(), { rootless: false, worker }));
    expect(UnpackError.is(err, 'ERR_TARGET_EXISTS')).toBe(true);
    expect(fs.readdirSync(target())).toEqual(['keep']);
  });

  it('an aborted signal rejects with its reason and leaves nothing', async () => {
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar: await makeTar([{ name: 'a', content: Buffer.alloc(3 << 20) }]) }]);
    const ac = new AbortController();
    const p = unpackImage(layout, 'latest', target(), {
      rootless: false,
      worker,
      signal: ac.signal,
      onProgress: () => ac.abort(new Error('user abort')),
    });
    await expect(p).rejects.toThrow('user abort');
    assertNothingLeft();
  });
});

describe('createBundle', () => {
  it('writes rootfs and a valid config.json from the image config', async () => {
    const tar = await makeTar([
      { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nsvc:x:1234:4321::/home/svc:/bin/sh\n' },
      { name: 'etc/group', content: 'root:x:0:\nsvc:x:4321:\nextra:x:777:svc\n' },
    ]);
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar }], {
      User: 'svc',
      Env: ['FOO=bar'],
      WorkingDir: '/work',
      Entrypoint: ['/bin/echo'],
      Cmd: ['hi'],
    });
    await createBundle(layout, 'latest', target(), { rootless: false, args: ['there'] });
    const spec = JSON.parse(fs.readFileSync(join(target(), 'config.json'), 'utf8'));
    expect(spec.process.args).toEqual(['/bin/echo', 'there']);
    expect(spec.process.user.uid).toBe(1234);
    expect(spec.process.user.gid).toBe(4321);
    expect(spec.process.cwd).toBe('/work');
    expect(spec.process.env).toContain('FOO=bar');
    expect(spec.root.path).toBe('rootfs');
    expect(fs.existsSync(join(target(), 'rootfs/etc/passwd'))).toBe(true);
  });

  it('rootless: a user-namespace config, owners reported instead of applied', async () => {
    const tar = await makeTar([{ name: 'home/u/', type: 'directory', uid: 1000, gid: 1000 }]);
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar }]);
    const r = await createBundle(layout, 'latest', target(), { rootless: true });
    const spec = JSON.parse(fs.readFileSync(join(target(), 'config.json'), 'utf8'));
    expect(spec.linux.namespaces.map((n: { type: string }) => n.type)).toContain('user');
    expect(spec.linux.uidMappings?.length).toBeGreaterThan(0);
    expect(r.owners).toEqual([{ path: '/home/u', uid: 1000, gid: 1000 }]);
    expect(fs.statSync(join(target(), 'rootfs/home/u')).uid).toBe(process.getuid!());
  });

  it('a config with a bad User: ERR_INVALID_USER, nothing left', async () => {
    const tar = await makeTar([{ name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' }]);
    const layout = await makeImage(join(scratch.dir(), 'layout'), [{ tar }], { User: 'nosuchuser' });
    const err = await fail(createBundle(layout, 'latest', target(), { rootless: false }));
    expect(UnpackError.is(err, 'ERR_INVALID_USER'), String(err)).toBe(true);
    assertNothingLeft();
  });
});
