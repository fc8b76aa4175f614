import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { goJson, type PlainDescriptor } from './convert.js';
import { RegistryError } from './errors.js';
import { MT } from './media.js';

export type CompressFormat = 'gzip';

const UNCOMPRESSED = new Set<string>([MT.OciLayer, 'application/vnd.docker.image.rootfs.diff.tar']);
const ZSTD = new Set<string>([MT.OciLayerZstd, 'application/vnd.docker.image.rootfs.diff.tar.zstd']);
const GZIP = new Set<string>([MT.OciLayerGzip, MT.DockerLayerGzip]);

/** What a layer needs to end up `format`-compressed: nothing, gzip, or zstd-decompress + gzip. Pure. */
export function recompressionFor(layer: PlainDescriptor, format: CompressFormat): 'keep' | 'compress' | 'recompress' {
  void format;
  if (GZIP.has(layer.mediaType) || layer.urls?.length) return 'keep';
  if (UNCOMPRESSED.has(layer.mediaType)) return 'compress';
  if (ZSTD.has(layer.mediaType)) return 'recompress';
  return 'keep';
}

/** Whether this Node.js can decompress zstd (zlib.createZstdDecompress, Node >= 22.15). */
export function hasZstd(): boolean {
  return typeof (zlib as unknown as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
}

/** The gzip media type matching a layer's family (OCI or Docker). */
function gzipTypeFor(mediaType: string): string {
  return mediaType.startsWith('application/vnd.docker.') ? MT.DockerLayerGzip : MT.OciLayerGzip;
}

/**
 * Compresses a layer stream with gzip into a temp file, hashing it; returns the new descriptor and a
 * way to read and remove the file. zstd input needs zlib zstd support (Node >= 22.15).
 */
export async function gzipLayer(layer: PlainDescriptor, source: Readable, signal?: AbortSignal):
  Promise<{ descriptor: PlainDescriptor; open: () => Promise<Readable>; remove: () => Promise<void> }> {
  const how = recompressionFor(layer, 'gzip');
  const z = zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream };
  if (how === 'recompress' && typeof z.createZstdDecompress !== 'function') {
    source.destroy();
    throw new RegistryError('ERR_UNSUPPORTED', `cannot recompress the zstd layer ${layer.digest} to gzip: this Node.js has no zstd support`, {
      hint: 'Use Node.js 22.15 or later, or copy without --dest-compress-format.',
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'oci-recompress-'));
  const file = join(dir, 'layer.gz');
  const hash = createHash('sha256');
  try {
    const stages: NodeJS.ReadWriteStream[] = [];
    if (how === 'recompress') stages.push(z.createZstdDecompress!());
    stages.push(zlib.createGzip());
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    await (pipeline as unknown as (...streams: unknown[]) => Promise<void>)(source, ...stages, hasher, createWriteStream(file), { signal });
    const size = (await stat(file)).size;
    const descriptor: PlainDescriptor = { ...layer, mediaType: gzipTypeFor(layer.mediaType), digest: `sha256:${hash.digest('hex')}`, size };
    return {
      descriptor,
      open: async () => createReadStream(file, { highWaterMark: 1 << 20 }),
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A manifest with some layer descriptors replaced (same Go field order as conversions). Pure. */
export function replaceLayers(bytes: Uint8Array, replace: Map<string, PlainDescriptor>, manifestMediaType: string): Buffer {
  const gzipType = manifestMediaType === MT.DockerManifest ? MT.DockerLayerGzip : MT.OciLayerGzip;
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown> & { layers?: PlainDescriptor[] };
  doc.layers = (doc.layers ?? []).map((l) => {
    const r = replace.get(l.digest);
    if (!r) return l;
    const out: Record<string, unknown> = { mediaType: gzipType, digest: r.digest, size: r.size };
    if (l.urls?.length) out.urls = l.urls;
    if (l.annotations && Object.keys(l.annotations).length) out.annotations = l.annotations;
    return out as PlainDescriptor;
  });
  return Buffer.from(goJson(doc), 'utf8');
}

