// From an image layout to a rootfs: plan (pure) + apply (atomic).
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform, finished, pipeline } from 'node:stream';
import type { Descriptor, ImageConfig, ImageManifest, Platform } from '@oci/image-spec';
import type { Layout } from '@oci/layout';
import { applyLayer, isRootless, type OwnerRecord } from './apply.js';
import { createDecompressor, type Compression } from './decompress.js';
import { UnpackError, isUnpackError, throwIfAborted, type UnpackWarning } from './errors.js';
import { Inflater } from './inflate-worker.js';

const WORKER_MIN_SIZE = 1 << 20;

export interface LayerPlan {
  index: number;
  digest: string;
  size: number;
  mediaType: string;
  compression: Compression;
  diffId: string;
  nonDistributable: boolean;
  urls: string[] | undefined;
}

const LAYER_TYPES: Record<string, { compression: Compression; nonDistributable: boolean }> = {
  'application/vnd.oci.image.layer.v1.tar': { compression: 'none', nonDistributable: false },
  'application/vnd.oci.image.layer.v1.tar+gzip': { compression: 'gzip', nonDistributable: false },
  'application/vnd.oci.image.layer.v1.tar+zstd': { compression: 'zstd', nonDistributable: false },
  'application/vnd.oci.image.layer.nondistributable.v1.tar': { compression: 'none', nonDistributable: true },
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': { compression: 'gzip', nonDistributable: true },
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': { compression: 'zstd', nonDistributable: true },
  'application/vnd.docker.image.rootfs.diff.tar.gzip': { compression: 'gzip', nonDistributable: false },
  'application/vnd.docker.image.rootfs.diff.tar': { compression: 'none', nonDistributable: false },
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': { compression: 'gzip', nonDistributable: true },
};

/**
 * Decide what to unpack (pure): one LayerPlan per manifest layer, paired with the
 * config's diff_ids. Unknown media types: ERR_UNSUPPORTED_MEDIA_TYPE; a diff_id
 * count that does not match the layers: ERR_INVALID_CONFIG.
 */
export function planUnpack(manifest: ImageManifest, config: ImageConfig): LayerPlan[] {
  const layers = manifest.layers ?? [];
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (!Array.isArray(layers) || !Array.isArray(diffIds) || diffIds.length !== layers.length) {
    throw new UnpackError('ERR_INVALID_CONFIG', `the manifest has ${layers.length} layers but the config lists ${diffIds.length} diff_ids`, {
      hint: 'the image is inconsistent; rebuild or re-fetch it',
    });
  }
  return layers.map((d: Descriptor, index) => {
    const mediaType = (d.mediaType ?? '').split(';')[0]!.trim();
    const kind = LAYER_TYPES[mediaType];
    if (kind === undefined) {
      throw new UnpackError('ERR_UNSUPPORTED_MEDIA_TYPE', `layer ${index} (${d.digest}) has media type "${d.mediaType}", which cannot be unpacked`, {
        digest: d.digest,
        mediaType: d.mediaType,
        hint: 'only OCI and Docker tar layers (plain, gzip, zstd) can be unpacked',
      });
    }
    return {
      index,
      digest: d.digest,
      size: d.size,
      mediaType,
      compression: kind.compression,
      diffId: diffIds[index]!,
      nonDistributable: kind.nonDistributable,
      urls: d.urls,
    };
  });
}

export interface UnpackProgress {
  /** 0-based layer being applied. */
  layer: number;
  layers: number;
  digest: string;
  /** Compressed bytes of this layer read so far, and its size. */
  bytes: number;
  size: number;
  /** Entries applied in this layer so far. */
  entries: number;
}

export interface UnpackOptions {
  /** Platform within an index: "os/arch[/variant]" or a Platform; default the host's. */
  platform?: string | Platform | undefined;
  /** Default: true unless running as root. */
  rootless?: boolean | undefined;
  /** Warnings become errors. */
  strict?: boolean | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: UnpackProgress) => void) | undefined;
  onWarning?: ((warning: UnpackWarning) => void) | undefined;
  /** Decompress and hash gzip layers on a worker thread: true always, false never, default for layers of 1 MiB or more. */
  worker?: boolean | undefined;
  /**
   * Refuse a layer whose uncompressed tar is larger than this many bytes (ERR_LAYER_TOO_LARGE), so that
   * a small blob cannot fill the disk (a "decompression bomb" whose digests are self-consistent).
   * Default: no limit, like umoci and GNU tar.
   */
  maxLayerSize?: number | undefined;
}

export interface UnpackResult {
  manifestDigest: string;
  configDigest: string;
  manifest: ImageManifest;
  config: ImageConfig;
  layers: { digest: string; diffId: string; entries: number; bytes: number }[];
  warnings: UnpackWarning[];
  /** Rootless mode: owners from the layers that were not applied (later layers win). */
  owners: OwnerRecord[];
}

interface Staged {
  /** the private 0700 directory beside the target */
  tmp: string;
}

/** Make a private staging dir beside target; refuse a non-empty existing target. @internal */
export function stageBeside(target: string): Staged {
  const st = fs.lstatSync(target, { throwIfNoEntry: false });
  if (st !== undefined) {
    if (!st.isDirectory() || fs.readdirSync(target).length > 0) {
      throw new UnpackError('ERR_TARGET_EXISTS', `${target} already exists and is not an empty directory`, {
        path: target,
        hint: 'remove it or choose another target directory',
      });
    }
  }
  const parent = dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(join(parent, `.${basename(target)}.unpack-`));
  return { tmp };
}

/** Rename the staged directory onto target (an empty directory there is replaced). @internal */
export function commitStaged(staged: string, target: string): void {
  try {
    fs.renameSync(staged, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UnpackError('ERR_TARGET_EXISTS', `${target} appeared while unpacking`, { path: target, cause: err });
    }
    throw err;
  }
}

function mapLayerError(layout: Layout, plan: LayerPlan, name: string, err: unknown): unknown {
  if (isUnpackError(err)) return err;
  const code = (err as { code?: string }).code;
  if (name === 'compressed' && (code === 'ERR_DIGEST_MISMATCH' || code === 'ERR_SIZE_MISMATCH')) {
    return new UnpackError(code, `layer ${plan.index} blob ${plan.digest} does not match its descriptor: ${(err as Error).message}`, {
      cause: err,
      digest: plan.digest,
      expected: (err as { expected?: string }).expected,
      actual: (err as { actual?: string }).actual,
      hint: `the blob in ${layout.dir} is corrupt; remove it and fetch the image again`,
    });
  }
  if (name === 'uncompressed' && (code === 'ERR_DIGEST_MISMATCH' || code === 'ERR_SIZE_MISMATCH')) {
    return new UnpackError('ERR_DIFF_ID_MISMATCH', `layer ${plan.index} (${plan.digest}) uncompresses to ${(err as { actual?: string }).actual ?? 'other content'}, but the config says diff_id ${plan.diffId}`, {
      cause: err,
      digest: plan.digest,
      expected: plan.diffId,
      actual: (err as { actual?: string }).actual,
      hint: 'the image config does not match its layers; do not trust this image',
    });
  }
  if (code === 'ERR_LAYER_TOO_LARGE') {
    return new UnpackError('ERR_LAYER_TOO_LARGE', `layer ${plan.index} (${plan.digest}) uncompresses to more than ${(err as { expected?: string }).expected ?? 'the limit of'} bytes`, {
      cause: err,
      digest: plan.digest,
      expected: (err as { expected?: string }).expected,
      hint: 'raise the limit (maxLayerSize, --max-layer-size) if the image is trusted; otherwise do not unpack it',
    });
  }
  if (name === 'decompress') {
    return new UnpackError('ERR_BAD_LAYER', `layer ${plan.index} (${plan.digest}) could not be decompressed as ${plan.compression}: ${(err as Error).message}`, {
      cause: err,
      digest: plan.digest,
      hint: 'the layer blob is truncated, corrupt or of another compression than its media type says',
    });
  }
  return err;
}

function layerStream(layout: Layout, plan: LayerPlan, source: Readable, verify: typeof import('@oci/image-spec').verifyingStream, signal: AbortSignal | undefined, onBytes: (n: number) => void): Readable {
  const stage = (name: string, err: unknown): unknown => mapLayerError(layout, plan, name, err);
  const compressed = verify({ digest: plan.digest, size: plan.size, signal, onProgress: onBytes });
  const decompress = createDecompressor(plan.compression);
  const uncompressed = verify({ digest: plan.diffId, signal });
  // name the right cause whichever stream reports it first
  let first: unknown;
  const classify = (err: unknown): unknown => {
    const code = (err as { code?: string }).code;
    if ((code === 'ERR_DIGEST_MISMATCH' || code === 'ERR_SIZE_MISMATCH') && !isUnpackError(err)) {
      const expected = (err as { expected?: unknown }).expected;
      const isDiff = expected === plan.diffId && plan.diffId !== plan.digest;
      return stage(isDiff ? 'uncompressed' : 'compressed', err);
    }
    if (typeof code === 'string' && code.startsWith('Z_')) return stage('decompress', err);
    return err;
  };
  for (const s of [source, compressed, decompress, uncompressed]) {
    s.on('error', (err: unknown) => {
      first ??= classify(err);
    });
  }
  // zlib ends its output at the end of the gzip member, before zeros padding the blob are read: the
  // tar must not end (and the layer count as verified) before the blob's digest and size were checked
  const blobChecked = new Promise<void>((resolve, reject) => finished(compressed, (err) => (err ? reject(err) : resolve())));
  blobChecked.catch(() => {});
  const gate = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk, _enc, cb) {
      cb(null, chunk);
    },
    flush(cb) {
      blobChecked.then(() => cb(), cb);
    },
  });
  const out = pipeline(source, compressed, decompress, uncompressed, gate, () => {});
  (out as Readable & { firstError?: (e: unknown) => unknown }).firstError = (e: unknown) => first ?? classify(e);
  return out as Readable;
}

/** One layer's uncompressed tar, being produced (possibly ahead of its turn). */
interface LayerSource {
  tar: AsyncIterable<Uint8Array>;
  /** compressed bytes read so far */
  bytes(): number;
  /** the error to report for a failure seen while applying */
  mapError(err: unknown): unknown;
  /** stop producing and release everything (idempotent) */
  close(): Promise<void>;
}

function blobUnknown(p: LayerPlan, layout: Layout, cause?: unknown): UnpackError {
  return new UnpackError('ERR_BLOB_UNKNOWN', `layer ${p.index} blob ${p.digest} is not in ${layout.dir}`, {
    cause,
    digest: p.digest,
    hint: p.nonDistributable
      ? `it is a non-distributable layer${p.urls?.length ? ` (from ${p.urls.join(', ')})` : ''}; fetch it into the layout first`
      : 'the layout is incomplete; copy the image again',
  });
}

/**
 * Open every layer blob once, through @oci/layout (no symlink, fifo or device; no
 * second open by path later): a missing blob fails before anything is written.
 */
async function openBlobs(layout: Layout, plans: LayerPlan[], signal: AbortSignal | undefined): Promise<Readable[]> {
  const opened: Readable[] = [];
  try {
    for (const p of plans) {
      try {
        throwIfAborted(signal);
        const blob = await layout.getBlob(p.digest);
        // a blob only held for its descriptor (worker path) has no other listener; errors while
        // reading it reach the consumer through the pipeline or the worker
        blob.on('error', () => {});
        opened.push(blob);
      } catch (err) {
        if ((err as { code?: unknown }).code === 'ERR_BLOB_UNKNOWN') throw blobUnknown(p, layout, err);
        throw err;
      }
    }
  } catch (err) {
    for (const s of opened) s.destroy();
    throw err;
  }
  return opened;
}

const blobFd = (blob: Readable): number | undefined => {
  const fd = (blob as Readable & { fd?: unknown }).fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
};

function useWorker(plan: LayerPlan, blob: Readable, opts: UnpackOptions): boolean {
  if (plan.compression !== 'gzip' || blobFd(blob) === undefined) return false;
  return opts.worker === true || (opts.worker === undefined && plan.size >= WORKER_MIN_SIZE);
}

function openLayer(
  layout: Layout,
  plan: LayerPlan,
  blob: Readable,
  verify: typeof import('@oci/image-spec').verifyingStream,
  opts: UnpackOptions,
  inflater: { inflater: Inflater; job: number } | undefined,
): LayerSource {
  let bytes = 0;
  const onBytes = (n: number) => {
    bytes = n;
  };
  if (inflater !== undefined) {
    const src = inflater.inflater.source(inflater.job, { onBytes, mapError: (stage, err) => mapLayerError(layout, plan, stage, err) });
    return {
      tar: src,
      bytes: () => bytes,
      mapError: (err) => src.failure ?? err,
      close: async () => {}, // the worker and the descriptors are released when the image is done
    };
  }
  const tar = layerStream(layout, plan, blob, verify, opts.signal, onBytes);
  return {
    tar,
    bytes: () => bytes,
    mapError: (err) => (tar as Readable & { firstError?: (e: unknown) => unknown }).firstError?.(err) ?? err,
    close: async () => {
      tar.destroy();
      blob.destroy();
    },
  };
}

/**
 * Unpack the layers of an already-resolved image into an existing, empty,
 * private directory. The next layer is decompressed (into a bounded buffer)
 * while the current one is applied. @internal (used by unpackImage and createBundle)
 */
export async function unpackInto(
  layout: Layout,
  manifest: ImageManifest,
  config: ImageConfig,
  rootfs: string,
  opts: UnpackOptions,
): Promise<Pick<UnpackResult, 'layers' | 'warnings' | 'owners'>> {
  const { verifyingStream } = await import('@oci/image-spec');
  const plans = planUnpack(manifest, config);
  const maxLayerSize = opts.maxLayerSize;
  if (maxLayerSize !== undefined && (!Number.isSafeInteger(maxLayerSize) || maxLayerSize < 0)) {
    throw new UnpackError('ERR_INVALID_ARGUMENT', `maxLayerSize must be a non-negative integer number of bytes, not ${String(maxLayerSize)}`, {
      hint: 'pass a byte count, e.g. 10 * 2 ** 30 for 10 GiB',
    });
  }
  const blobs = await openBlobs(layout, plans, opts.signal);
  const rootless = opts.rootless ?? isRootless();
  const result: Pick<UnpackResult, 'layers' | 'warnings' | 'owners'> = { layers: [], warnings: [], owners: [] };
  const owners = new Map<string, OwnerRecord>();
  const sources: (LayerSource | undefined)[] = plans.map(() => undefined);
  // gzip layers: one worker decompresses them all in order, running ahead of the applier by its ring
  const jobOf = new Map<number, number>();
  const jobs = plans.filter((p) => useWorker(p, blobs[p.index]!, opts));
  jobs.forEach((p, k) => jobOf.set(p.index, k));
  let inflater: Inflater | undefined;
  try {
    if (jobs.length > 0) {
      inflater = new Inflater(
        jobs.map((p) => ({ fd: blobFd(blobs[p.index]!)!, digest: p.digest, size: p.size, diffId: p.diffId, maxSize: maxLayerSize })),
        { signal: opts.signal },
      );
    }
  } catch (err) {
    for (const b of blobs) b.destroy();
    throw err;
  }
  const source = (i: number): LayerSource => {
    const job = jobOf.get(i);
    return (sources[i] ??= openLayer(layout, plans[i]!, blobs[i]!, verifyingStream, opts, job === undefined ? undefined : { inflater: inflater!, job }));
  };
  try {
    for (const plan of plans) {
      throwIfAborted(opts.signal);
      const cur = source(plan.index);
      // prefetch: the next layer decompresses into its bounded buffer meanwhile
      if (plan.index + 1 < plans.length) source(plan.index + 1);
      let entries = 0;
      try {
        const r = await applyLayer(rootfs, cur.tar, {
          rootless,
          strict: opts.strict,
          signal: opts.signal,
          onWarning: opts.onWarning,
          maxLayerSize,
          onProgress: (p) => {
            entries = p.entries;
            opts.onProgress?.({ layer: plan.index, layers: plans.length, digest: plan.digest, bytes: cur.bytes(), size: plan.size, entries });
          },
        } as Parameters<typeof applyLayer>[2]);
        result.layers.push({ digest: plan.digest, diffId: plan.diffId, entries: r.entries, bytes: r.bytes });
        result.warnings.push(...r.warnings);
        for (const o of r.owners) owners.set(o.path, o);
      } catch (err) {
        throw cur.mapError(err);
      } finally {
        await cur.close();
        sources[plan.index] = undefined;
      }
    }
  } finally {
    await Promise.all(sources.map((s) => s?.close()));
    if (inflater !== undefined) {
      inflater.stop();
      await inflater.exited; // it may be reading a descriptor until it is gone
    }
    for (const b of blobs) b.destroy();
  }
  result.owners = [...owners.values()];
  return result;
}

/**
 * Unpack image `ref` of `layout` into `rootfs` (which must not exist or be empty):
 * every layer's blob digest and diff_id are verified while streaming; the rootfs
 * appears only when everything succeeded (staged beside it, then renamed).
 */
export async function unpackImage(layout: Layout, ref: string, rootfs: string, opts: UnpackOptions = {}): Promise<UnpackResult> {
  throwIfAborted(opts.signal);
  const resolved = await layout.resolve(ref, { platform: opts.platform, signal: opts.signal });
  const staged = stageBeside(rootfs);
  try {
    const inner = join(staged.tmp, 'rootfs');
    fs.mkdirSync(inner, { mode: 0o755 });
    const r = await unpackInto(layout, resolved.manifest, resolved.config, inner, opts);
    throwIfAborted(opts.signal);
    commitStaged(inner, rootfs);
    return {
      manifestDigest: resolved.descriptor.digest,
      configDigest: resolved.configDescriptor.digest,
      manifest: resolved.manifest,
      config: resolved.config,
      ...r,
    };
  } finally {
    fs.rmSync(staged.tmp, { recursive: true, force: true });
  }
}
