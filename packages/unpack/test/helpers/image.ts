// Build small OCI layouts in tests with @oci/layout (layers synthesised with tar-stream).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as zlib from 'node:zlib';
import { Layout } from '@oci/layout';

export interface LayerInput {
  tar: Buffer;
  compression?: 'none' | 'gzip' | 'zstd';
  mediaType?: string;
  /** replace the blob bytes after compression (e.g. truncate) */
  mangle?: (blob: Buffer) => Buffer;
  /** claim this diff_id instead of the real one */
  diffId?: string;
  /** do not store the blob */
  omitBlob?: boolean;
}

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export async function makeImage(dir: string, layers: LayerInput[], config: Record<string, unknown> = {}): Promise<Layout> {
  const layout = await Layout.init(dir);
  const descs = [];
  const diffIds = [];
  for (const l of layers) {
    const c = l.compression ?? 'gzip';
    let blob = c === 'gzip' ? zlib.gzipSync(l.tar) : c === 'zstd' ? execFileSync('zstd', ['-c', '-q'], { input: l.tar }) : l.tar;
    if (l.mangle) blob = l.mangle(blob);
    const mediaType =
      l.mediaType ?? (c === 'gzip' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : c === 'zstd' ? 'application/vnd.oci.image.layer.v1.tar+zstd' : 'application/vnd.oci.image.layer.v1.tar');
    if (!l.omitBlob) await layout.putBlob(blob);
    descs.push({ mediaType, digest: sha(blob), size: blob.length });
    diffIds.push(l.diffId ?? sha(l.tar));
  }
  const cfg = {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/sh'], ...config },
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  const cfgDesc = await layout.putJson(cfg, 'application/vnd.oci.image.config.v1+json');
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfgDesc, layers: descs };
  const mDesc = await layout.putJson(manifest, 'application/vnd.oci.image.manifest.v1+json', { validate: false });
  await layout.tag('latest', mDesc);
  return layout;
}
