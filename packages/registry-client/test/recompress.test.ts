import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Layout } from '@oci/layout';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';
import { copyImage, layoutDestination, layoutSource, parseReference, registryDestination, registrySource, RegistryClient, type LayoutLike } from '../src/index.js';

const asLayout = (l: Layout): LayoutLike => l; // a Layout is a LayoutLike (no cast)
const sha = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('--dest-compress-format gzip', () => {
  let tmp: TmpDir;
  let reg: RegistryHandle;
  let srcDir: string;
  let tar: Buffer;

  beforeAll(async () => {
    [tmp, reg] = await Promise.all([tmpDir('rc-gz-'), startRegistry({ mode: 'plain' })]);
    // an image with one uncompressed layer, made with GNU tar and written by hand
    const content = join(tmp.path, 'content');
    await mkdir(content);
    await writeFile(join(content, 'hello.txt'), 'hello\n'.repeat(1000));
    const tarFile = join(tmp.path, 'layer.tar');
    const r = await run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-C', content, '-cf', tarFile, '.']);
    expect(r.code).toBe(0);
    tar = await readFile(tarFile);
    expect((await run('tar', ['-tf', tarFile])).stdout).toContain('hello.txt');
    srcDir = join(tmp.path, 'src');
    const layout = await Layout.init(srcDir);
    await layout.putBlob(tar);
    const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(tar)] } };
    const cfg = await layout.putJson(config, 'application/vnd.oci.image.config.v1+json');
    const m = await layout.putJson({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfg,
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(tar), size: tar.length }] }, 'application/vnd.oci.image.manifest.v1+json');
    await layout.tag('latest', m);
  });
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  it('gzips uncompressed layers, rewrites the manifest, and the result is a valid image for skopeo', async () => {
    const out = join(tmp.path, 'out');
    const res = await copyImage(layoutSource(asLayout(await Layout.open(srcDir)), 'latest'), layoutDestination(asLayout(await Layout.init(out)), 'latest'), { compressFormat: 'gzip' });
    const manifest = JSON.parse(await readFile(join(out, 'blobs', 'sha256', res.digest.slice(7)), 'utf8'));
    expect(manifest.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    const gz = await readFile(join(out, 'blobs', 'sha256', manifest.layers[0].digest.slice(7)));
    expect(gunzipSync(gz).equals(tar)).toBe(true);
    const s = await run('skopeo', ['inspect', `oci:${out}:latest`]);
    expect(s.code).toBe(0);
    // to a registry too, and back
    const client = new RegistryClient({ insecureRegistries: [reg.host], anonymous: true, certsDirs: [] });
    try {
      const pushed = await copyImage(layoutSource(asLayout(await Layout.open(srcDir)), 'latest'), registryDestination(client, parseReference(`${reg.host}/gz/img:1`)), { compressFormat: 'gzip' });
      expect(pushed.digest).toBe(res.digest);
      const back = await copyImage(registrySource(client, parseReference(`${reg.host}/gz/img:1`)), layoutDestination(asLayout(await Layout.init(join(tmp.path, 'back'))), 'x'));
      expect(back.digest).toBe(res.digest);
    } finally {
      await client.close();
    }
  });

  it('refuses with preserveDigests', async () => {
    await expect(copyImage(layoutSource(asLayout(await Layout.open(srcDir)), 'latest'), layoutDestination(asLayout(await Layout.init(join(tmp.path, 'p'))), 'latest'),
      { compressFormat: 'gzip', preserveDigests: true })).rejects.toMatchObject({ code: 'ERR_CONVERSION_REQUIRED' });
  });
});
