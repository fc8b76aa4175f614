import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { goJson, type PlainDescriptor } from './convert.js';
import { RegistryError } from './errors.js';
import { MT } from './media.js';

export type CompressFormat = 'gzip' | 'zstd';

const UNCOMPRESSED = new Set<string>([MT.OciLayer, 'application/vnd.docker.image.rootfs.diff.tar']);
const ZSTD = new Set<string>([MT.OciLayerZstd, 'application/vnd.docker.image.rootfs.diff.tar.zstd']);
const GZIP = new Set<string>([MT.OciLayerGzip, MT.DockerLayerGzip]);

/** Compression levels the formats take (zstd up to 19 without --ultra), and their defaults (skopeo's: zstd 3). */
export const COMPRESSION_LEVELS: Record<CompressFormat, { min: number; max: number; default: number }> = {
  gzip: { min: 1, max: 9, default: 6 },
  zstd: { min: 1, max: 19, default: 3 },
};

/**
 * What a layer needs to end up `format`-compressed: nothing, compression, or decompression + compression
 * (a gzip layer asked to be zstd, or the reverse), as skopeo does with --dest-compress-format. Layers with
 * urls (non-distributable) are never touched. Pure.
 */
export function recompressionFor(layer: PlainDescriptor, format: CompressFormat): 'keep' | 'compress' | 'recompress' {
  if (layer.urls?.length) return 'keep';
  const same = format === 'gzip' ? GZIP : ZSTD;
  const other = format === 'gzip' ? ZSTD : GZIP;
  if (same.has(layer.mediaType)) return 'keep';
  if (UNCOMPRESSED.has(layer.mediaType)) return 'compress';
  if (other.has(layer.mediaType)) return 'recompress';
  return 'keep';
}

/** The media type of a `format`-compressed layer: gzip keeps the layer's family (OCI or Docker); zstd is OCI's. */
function compressedTypeFor(mediaType: string, format: CompressFormat): string {
  if (format === 'zstd') return MT.OciLayerZstd;
  return mediaType.startsWith('application/vnd.docker.') ? MT.DockerLayerGzip : MT.OciLayerGzip;
}

/**
 * The `zstd` command as a stream stage (Node 20's zlib has no zstd): its output ends only once zstd exited
 * with 0, so a corrupt input can never pass as a short, complete one. ERR_ZSTD_UNAVAILABLE when there is no
 * zstd command, ERR_ZSTD when it fails.
 */
// node:child_process (with net, dgram) and node:zlib load only when a layer is recompressed: every other
// command of the CLI bundles this module and would pay ~4 ms of start-up for them
const childProcess = () => process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
const zlib = () => process.getBuiltinModule('node:zlib') as typeof import('node:zlib');

function zstdStage(args: string[], what: string): Duplex {
  const child = childProcess().spawn('zstd', [...args, '-q', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  child.stdout.pipe(out, { end: false });
  child.stdin.on('error', () => {}); // EPIPE when zstd stops early: its exit status says why
  child.on('error', (err) => {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    out.destroy(new RegistryError(missing ? 'ERR_ZSTD_UNAVAILABLE' : 'ERR_ZSTD', `cannot run zstd to ${what}: ${err.message}`, {
      cause: err, hint: 'Install the zstd command (Debian: apt-get install zstd), or copy without zstd recompression.',
    }));
  });
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else if (!out.destroyed) {
      out.destroy(new RegistryError('ERR_ZSTD', `zstd could not ${what}: ${stderr.trim() || `exit ${code ?? signal}`}`, {
        hint: 'The layer is truncated or corrupt, or the disk is full; nothing was stored. Fetch the image again.',
      }));
    }
  });
  const duplex = Duplex.from({ writable: child.stdin, readable: out });
  duplex.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return duplex;
}

/**
 * Compresses (or decompresses and recompresses) a layer stream to `format` into a temp file, hashing it;
 * returns the new descriptor and a way to read and remove the file. Nothing is kept on failure.
 */
export async function recompressLayer(layer: PlainDescriptor, source: Readable, format: CompressFormat, options: { level?: number | undefined; signal?: AbortSignal | undefined } = {}):
  Promise<{ descriptor: PlainDescriptor; open: () => Promise<Readable>; remove: () => Promise<void> }> {
  const how = recompressionFor(layer, format);
  const level = options.level ?? COMPRESSION_LEVELS[format].default;
  const dir = await mkdtemp(join(tmpdir(), 'oci-recompress-'));
  const file = join(dir, format === 'gzip' ? 'layer.gz' : 'layer.zst');
  const hash = createHash('sha256');
  try {
    const stages: NodeJS.ReadWriteStream[] = [];
    if (how === 'recompress') stages.push(GZIP.has(layer.mediaType) ? zlib().createGunzip() : zstdStage(['-d'], `decompress the zstd layer ${layer.digest}`));
    stages.push(format === 'gzip' ? zlib().createGzip({ level }) : zstdStage([`-${level}`], `compress the layer ${layer.digest}`));
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    await (pipeline as unknown as (...streams: unknown[]) => Promise<void>)(source, ...stages, hasher, createWriteStream(file), { signal: options.signal });
    const size = (await stat(file)).size;
    const descriptor: PlainDescriptor = { ...layer, mediaType: compressedTypeFor(layer.mediaType, format), digest: `sha256:${hash.digest('hex')}`, size };
    return {
      descriptor,
      open: async () => createReadStream(file, { highWaterMark: 1 << 20 }),
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    source.destroy();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A manifest with some layer descriptors replaced (same Go field order as conversions). Pure. */
export function replaceLayers(bytes: Uint8Array, replace: Map<string, PlainDescriptor>, manifestMediaType: string): Buffer {
  // the replacement's type in the manifest's family (a Docker layer gzipped into a manifest converted to OCI)
  const docker = manifestMediaType === MT.DockerManifest;
  const inFamily = (t: string): string => (!docker && t === MT.DockerLayerGzip ? MT.OciLayerGzip : docker && t === MT.OciLayerGzip ? MT.DockerLayerGzip : t);
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown> & { layers?: PlainDescriptor[] };
  doc.layers = (doc.layers ?? []).map((l) => {
    const r = replace.get(l.digest);
    if (!r) return l;
    const out: Record<string, unknown> = { mediaType: inFamily(r.mediaType), digest: r.digest, size: r.size };
    if (l.urls?.length) out.urls = l.urls;
    if (l.annotations && Object.keys(l.annotations).length) out.annotations = l.annotations;
    return out as PlainDescriptor;
  });
  return Buffer.from(goJson(doc), 'utf8');
}

