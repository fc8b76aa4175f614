import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runOk } from './process.js';

export interface TinyImage {
  /** The OCI image layout directory. */
  layout: string;
  ref: string;
  /** `oci:LAYOUT:REF`, for skopeo. */
  skopeoRef: string;
  manifestDigest: string;
  configDigest: string;
  layer: { digest: string; size: number; diffId: string };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

function sha256(data: string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * A tiny OCI image layout (one gzip layer holding `files`, owned by root) for
 * tests that need *an* image, fast. The layer is made with GNU tar and gzip
 * (umoci 0.4.7 writes tars without the end-of-archive trailer), the JSON by
 * hand, never with our own writers. Real fixtures live in @oci/fixtures.
 */
export async function createTinyImage(dir: string, options: { ref?: string; files?: Record<string, string>; cmd?: string[] } = {}): Promise<TinyImage> {
  const ref = options.ref ?? 'latest';
  const files = options.files ?? { 'etc/hello.txt': 'hello from @oci/testkit\n' };
  const layout = join(dir, 'layout');
  const src = join(dir, 'layer-src');
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  for (const [p, content] of Object.entries(files)) {
    await mkdir(dirname(join(src, p)), { recursive: true });
    await writeFile(join(src, p), content);
  }
  const top = (await readdir(src)).sort();
  const tarFile = join(dir, 'layer.tar');
  await runOk('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@1700000000', '--format=pax', '--pax-option=delete=atime,delete=ctime', '-C', src, '-cf', tarFile, ...top]);
  const diffId = await sha256File(tarFile);
  await runOk('gzip', ['-n', '-9', tarFile]);
  const gz = `${tarFile}.gz`;
  const layerDigest = await sha256File(gz);
  const layerSize = (await stat(gz)).size;
  await rename(gz, join(blobs, layerDigest.slice(7)));

  const config = JSON.stringify({
    created: '2023-11-14T22:13:20Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: options.cmd ?? ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '2023-11-14T22:13:20Z', created_by: '@oci/testkit createTinyImage' }],
  });
  const configDigest = sha256(config);
  await writeFile(join(blobs, configDigest.slice(7)), config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: Buffer.byteLength(config) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layerSize }],
  });
  const manifestDigest = sha256(manifest);
  await writeFile(join(blobs, manifestDigest.slice(7)), manifest);
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: Buffer.byteLength(manifest),
          annotations: { 'org.opencontainers.image.ref.name': ref },
        },
      ],
    }),
  );
  return { layout, ref, skopeoRef: `oci:${layout}:${ref}`, manifestDigest, configDigest, layer: { digest: layerDigest, size: layerSize, diffId } };
}
