import type { Readable } from 'node:stream';
import type { Platform } from '@oci/image-spec';
import {
  convertIndexToDocker, convertIndexToOci, convertManifestToDocker, convertManifestToOci, needsDockerConversion, needsOciConversion,
  type PlainDescriptor,
} from './convert.js';
import { digestBytes } from './digest.js';
import { RegistryError } from './errors.js';
import { isImageManifestType, isIndexType, MT } from './media.js';

/** A manifest or index as fetched: exact bytes, media type, digest. */
export interface ManifestData {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface EndpointCallOptions {
  signal?: AbortSignal | undefined;
}

/** Where images are read from (registry, layout, dir:...). */
export interface CopySource {
  readonly name: string;
  /** Same-registry location, used to mount blobs instead of copying them. */
  readonly registryLocation?: { registry: string; repository: string } | undefined;
  /** The top-level manifest or index the source reference names. */
  getRoot(options?: EndpointCallOptions): Promise<ManifestData>;
  /** A child manifest (of an index), by descriptor. */
  getManifest(descriptor: PlainDescriptor, options?: EndpointCallOptions): Promise<ManifestData>;
  /**
   * A blob stream, verified against the descriptor while read unless `verify` is false (the copy
   * turns it off when the destination verifies what it stores, so bytes are hashed once).
   */
  getBlob(descriptor: PlainDescriptor, options?: EndpointCallOptions & { onBytes?: (n: number) => void; verify?: boolean }): Promise<Readable>;
}

/** Where images are written to. */
export interface CopyDestination {
  readonly name: string;
  /** False for `oci:` layouts (Docker manifests are converted to OCI unless digests must be preserved). */
  readonly acceptsDockerMediaTypes: boolean;
  readonly registryLocation?: { registry: string; repository: string } | undefined;
  /** True when putBlob checks the digest itself and stores nothing on a mismatch. */
  readonly verifiesBlobs?: boolean | undefined;
  hasBlob(descriptor: PlainDescriptor, options?: EndpointCallOptions): Promise<boolean>;
  /** Stores a blob; `open` gives the source stream (called at most once, maybe not at all). */
  putBlob(descriptor: PlainDescriptor, open: () => Promise<Readable>, options?: EndpointCallOptions & {
    mountFrom?: { registry: string; repository: string } | undefined;
    onBytes?: (n: number) => void;
  }): Promise<'uploaded' | 'mounted' | 'exists'>;
  /** Stores a manifest; `top` marks the one the destination reference should name. */
  putManifest(manifest: ManifestData, options: EndpointCallOptions & { top: boolean }): Promise<void>;
  /** Called once after everything is written. */
  commit?(root: ManifestData, options?: EndpointCallOptions): Promise<void>;
}

/** Progress of a copy, one event per step (suitable for --json output). */
export type CopyEvent =
  | { type: 'plan'; images: number; blobs: number; bytes: number }
  | { type: 'blob-start'; digest: string; size: number; mediaType: string }
  | { type: 'blob-progress'; digest: string; size: number; bytes: number }
  | { type: 'blob-done'; digest: string; size: number; outcome: 'uploaded' | 'mounted' | 'exists' | 'skipped' }
  | { type: 'manifest'; digest: string; mediaType: string; top: boolean }
  | { type: 'done'; digest: string; mediaType: string };

export interface CopyOptions extends EndpointCallOptions {
  /** Copy the whole index (all platforms) instead of one image. */
  all?: boolean | undefined;
  /** Platform to pick from an index (missing fields default to the host's). */
  platform?: Partial<Platform> | undefined;
  /** Never change manifests (fail when the destination would need a conversion). */
  preserveDigests?: boolean | undefined;
  /** Parallel blob transfers (default 4). */
  concurrency?: number | undefined;
  /**
   * Compress layers to this format (uncompressed ones, and those in the other format); changes digests.
   * zstd layers need OCI manifests: Docker ones are converted. zstd runs the `zstd` command.
   */
  compressFormat?: 'gzip' | 'zstd' | undefined;
  /** Compression level (gzip 1-9, default 6; zstd 1-19, default 3). */
  compressLevel?: number | undefined;
  /**
   * Manifest type to write (skopeo's --format): 'oci' converts Docker v2s2 manifests and lists, 'v2s2' converts
   * OCI ones (zstd layers cannot be converted). Default: the source's, or OCI where the destination needs it.
   */
  manifestFormat?: 'oci' | 'v2s2' | undefined;
  onProgress?: ((event: CopyEvent) => void) | undefined;
}

/** One image of a copy plan. */
export interface PlannedImage {
  source: ManifestData;
  /** What gets written (== source unless converted). */
  target: ManifestData;
  /** Config and layers, in source order, with their source descriptors. */
  blobs: PlainDescriptor[];
  converted: boolean;
}

/** What copy() will do: decided from the source's manifests only; nothing written. */
export interface CopyPlan {
  images: PlannedImage[];
  /** The index written on top when copying a whole index. */
  index?: { source: ManifestData; target: ManifestData; converted: boolean } | undefined;
  /** The manifest the destination reference will name. */
  root: ManifestData;
  /** Unique blobs to transfer. */
  blobs: PlainDescriptor[];
}

export interface CopyResult {
  digest: string;
  mediaType: string;
  blobs: { digest: string; size: number; outcome: 'uploaded' | 'mounted' | 'exists' | 'skipped' }[];
}

function parseJson(m: ManifestData): Record<string, unknown> {
  try {
    return JSON.parse(m.bytes.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new RegistryError('ERR_MANIFEST_INVALID', `manifest ${m.digest} is not valid JSON`, { cause: err });
  }
}

function wantedPlatform(p: Partial<Platform> | undefined, hostPlatform: () => Platform): Platform {
  const host = hostPlatform();
  if (!p) return host;
  const out: Platform = { os: p.os ?? host.os, architecture: p.architecture ?? host.architecture };
  if (p.variant) out.variant = p.variant;
  else if (!p.architecture && host.variant) out.variant = host.variant;
  return out;
}

/**
 * Decides which image(s) of a manifest/index to copy and how (pure). `convert`: the manifest type the destination
 * gets ('oci', or true; 'v2s2'), or false to keep the source's.
 */
export function planImage(source: ManifestData, convert: boolean | 'oci' | 'v2s2', preserveDigests: boolean): PlannedImage {
  const doc = parseJson(source);
  if (!isImageManifestType(source.mediaType)) {
    throw new RegistryError('ERR_UNSUPPORTED', `cannot copy a manifest of type ${source.mediaType}`, {
      hint: 'Only OCI image manifests, OCI indexes, Docker v2 schema 2 manifests and manifest lists are supported.',
    });
  }
  const config = doc.config as PlainDescriptor | undefined;
  const layers = (doc.layers as PlainDescriptor[] | undefined) ?? [];
  if (!config || typeof config.digest !== 'string') throw new RegistryError('ERR_MANIFEST_INVALID', `manifest ${source.digest} has no config`);
  const to = convert === true ? 'oci' : convert === false ? undefined : convert;
  let target = source;
  let converted = false;
  if ((to === 'oci' && needsOciConversion(source.mediaType)) || (to === 'v2s2' && needsDockerConversion(source.mediaType))) {
    if (preserveDigests) {
      throw new RegistryError('ERR_CONVERSION_REQUIRED', to === 'oci'
        ? `the destination only stores OCI manifests, and ${source.digest} is a Docker manifest`
        : `--format v2s2 needs a Docker manifest, and ${source.digest} is an OCI manifest`, {
        hint: to === 'oci'
          ? 'Drop --preserve-digests to let the manifest be converted to OCI (its digest changes), or copy to a registry or dir: instead.'
          : 'Drop --preserve-digests or --format v2s2.',
      });
    }
    const bytes = to === 'oci' ? convertManifestToOci(source.bytes) : convertManifestToDocker(source.bytes);
    target = { bytes, mediaType: to === 'oci' ? MT.OciManifest : MT.DockerManifest, digest: digestBytes(bytes) };
    converted = true;
  }
  return { source, target, blobs: [config, ...layers], converted };
}

/** Reads the source's manifests and decides what to copy. Writes nothing. */
export async function planCopy(src: CopySource, dest: Pick<CopyDestination, 'acceptsDockerMediaTypes'>, options: CopyOptions = {}): Promise<CopyPlan> {
  const { signal } = options;
  signal?.throwIfAborted();
  const preserve = options.preserveDigests === true;
  if (options.manifestFormat === 'v2s2' && !dest.acceptsDockerMediaTypes) {
    throw new RegistryError('ERR_UNSUPPORTED', 'this destination stores OCI manifests only; --format v2s2 cannot be written there', {
      hint: 'Copy to docker:// or dir: for Docker v2s2 manifests, or drop --format v2s2.',
    });
  }
  if (options.manifestFormat === 'v2s2' && options.compressFormat === 'zstd') {
    throw new RegistryError('ERR_UNSUPPORTED', 'Docker v2 schema 2 manifests cannot name zstd layers', { hint: 'Use --dest-compress-format gzip with --format v2s2, or --format oci.' });
  }
  // a Docker v2 schema 2 manifest cannot name a zstd layer: zstd output is OCI, as skopeo writes it
  const convert: 'oci' | 'v2s2' | false = options.manifestFormat ??
    (!dest.acceptsDockerMediaTypes || options.compressFormat === 'zstd' ? 'oci' : false);
  const root = await src.getRoot({ signal });
  const images: PlannedImage[] = [];
  let index: CopyPlan['index'];
  if (isIndexType(root.mediaType)) {
    const doc = parseJson(root);
    const manifests = (doc.manifests as PlainDescriptor[] | undefined) ?? [];
    if (options.all) {
      const replace = new Map<string, { digest: string; size: number; mediaType: string }>();
      for (const d of manifests) {
        if (!isImageManifestType(d.mediaType)) continue; // nested indexes and artifacts: not copied
        const m = await src.getManifest(d, { signal });
        const planned = planImage(m, convert, preserve);
        images.push(planned);
        if (planned.converted) replace.set(d.digest, { digest: planned.target.digest, size: planned.target.bytes.length, mediaType: planned.target.mediaType });
      }
      let target = root;
      let converted = false;
      const rootNeeds = convert === 'oci' ? needsOciConversion(root.mediaType) : convert === 'v2s2' ? needsDockerConversion(root.mediaType) : false;
      if (convert && (rootNeeds || replace.size > 0 || images.length !== manifests.length)) {
        if (preserve) {
          throw new RegistryError('ERR_CONVERSION_REQUIRED', `the index ${root.digest} would have to be rewritten for the destination`, {
            hint: 'Drop --preserve-digests, or copy to a registry.',
          });
        }
        const bytes = convert === 'oci' ? convertIndexToOci(root.bytes, replace) : convertIndexToDocker(root.bytes, replace);
        target = { bytes, mediaType: convert === 'oci' ? MT.OciIndex : MT.DockerList, digest: digestBytes(bytes) };
        converted = true;
      }
      index = { source: root, target, converted };
    } else {
      // loaded on demand: @oci/image-spec pulls in its validators
      const { hostPlatform, selectManifest, formatPlatform } = await import('@oci/image-spec');
      const want = wantedPlatform(options.platform, hostPlatform);
      const chosen = selectManifest({ manifests: manifests.filter((d) => isImageManifestType(d.mediaType)) as never }, want) as PlainDescriptor | undefined;
      if (!chosen) {
        const have = manifests.map((d) => (d.platform ? formatPlatform(d.platform as unknown as Platform) : '?')).join(', ');
        throw new RegistryError('ERR_PLATFORM_UNKNOWN', `no image for ${formatPlatform(want)} in ${src.name} (it has ${have || 'none'})`, {
          hint: 'Pick one with --override-os/--override-arch/--override-variant, or copy them all with --all.',
        });
      }
      images.push(planImage(await src.getManifest(chosen, { signal }), convert, preserve));
    }
  } else {
    images.push(planImage(root, convert, preserve));
  }
  const seen = new Set<string>();
  const blobs: PlainDescriptor[] = [];
  for (const img of images) {
    for (const b of img.blobs) {
      if (seen.has(b.digest)) continue;
      seen.add(b.digest);
      blobs.push(b);
    }
  }
  const rootOut = index ? index.target : images[0]!.target;
  return { images, index, root: rootOut, blobs };
}

/** Runs `fn` over `items` with at most `limit` in flight; stops starting new ones after the first failure. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.err;
}

/** Writes a plan: blobs in parallel (skipping present ones, mounting when possible), then manifests, then the root. */
export async function applyCopy(plan: CopyPlan, src: CopySource, dest: CopyDestination, options: CopyOptions = {}): Promise<CopyResult> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  onProgress?.({ type: 'plan', images: plan.images.length, blobs: plan.blobs.length, bytes: plan.blobs.reduce((a, b) => a + b.size, 0) });
  const results: CopyResult['blobs'] = [];
  const mountFrom = src.registryLocation && dest.registryLocation && src.registryLocation.registry === dest.registryLocation.registry &&
    src.registryLocation.repository !== dest.registryLocation.repository ? src.registryLocation : undefined;
  // --dest-compress-format: layers that change are compressed to a temp file first (their digest is
  // needed before the upload), then stored; the manifests are rewritten to point at them.
  const replaced = new Map<string, PlainDescriptor>();
  const layerDigests = new Set(plan.images.flatMap((img) => img.blobs.slice(1).map((b) => b.digest)));
  if (options.compressFormat) {
    if (options.preserveDigests) {
      throw new RegistryError('ERR_CONVERSION_REQUIRED', 'recompressing layers changes digests, but digests must be preserved', {
        hint: 'Drop --preserve-digests or --dest-compress-format.',
      });
    }
    const { recompressionFor, COMPRESSION_LEVELS } = await import('./recompress.js');
    const range = COMPRESSION_LEVELS[options.compressFormat];
    if (range === undefined) throw new RegistryError('ERR_UNSUPPORTED', `unknown compression format ${String(options.compressFormat)}`, { hint: 'Use gzip or zstd.' });
    const level = options.compressLevel;
    if (level !== undefined && (!Number.isInteger(level) || level < range.min || level > range.max)) {
      throw new RegistryError('ERR_UNSUPPORTED', `${options.compressFormat} compression level ${level} is out of range`, {
        hint: `Use a level from ${range.min} to ${range.max} (default ${range.default}).`,
      });
    }
    for (const b of plan.blobs) {
      if (!layerDigests.has(b.digest)) continue;
      if (recompressionFor(b, options.compressFormat) !== 'keep') replaced.set(b.digest, b);
    }
  }
  await pool(plan.blobs, options.concurrency ?? 4, async (blob) => {
    if (replaced.has(blob.digest)) {
      const { recompressLayer } = await import('./recompress.js');
      onProgress?.({ type: 'blob-start', digest: blob.digest, size: blob.size, mediaType: blob.mediaType });
      const z = await recompressLayer(blob, await src.getBlob(blob, { signal }), options.compressFormat!, { level: options.compressLevel, signal });
      try {
        replaced.set(blob.digest, z.descriptor);
        const outcome = (await dest.hasBlob(z.descriptor, { signal })) ? 'exists' : await dest.putBlob(z.descriptor, z.open, { signal });
        results.push({ digest: z.descriptor.digest, size: z.descriptor.size, outcome });
        onProgress?.({ type: 'blob-done', digest: blob.digest, size: blob.size, outcome });
      } finally {
        await z.remove();
      }
      return;
    }
    // non-distributable (foreign) layers stay where their urls point, as skopeo leaves them
    if (blob.urls?.length && /foreign|nondistributable/.test(blob.mediaType)) {
      results.push({ digest: blob.digest, size: blob.size, outcome: 'skipped' });
      onProgress?.({ type: 'blob-done', digest: blob.digest, size: blob.size, outcome: 'skipped' });
      return;
    }
    if (await dest.hasBlob(blob, { signal })) {
      results.push({ digest: blob.digest, size: blob.size, outcome: 'skipped' });
      onProgress?.({ type: 'blob-done', digest: blob.digest, size: blob.size, outcome: 'skipped' });
      return;
    }
    onProgress?.({ type: 'blob-start', digest: blob.digest, size: blob.size, mediaType: blob.mediaType });
    const onBytes = onProgress ? (n: number): void => onProgress({ type: 'blob-progress', digest: blob.digest, size: blob.size, bytes: n }) : undefined;
    const outcome = await dest.putBlob(blob, () => src.getBlob(blob, { signal, verify: dest.verifiesBlobs !== true }), { signal, mountFrom, onBytes });
    results.push({ digest: blob.digest, size: blob.size, outcome });
    onProgress?.({ type: 'blob-done', digest: blob.digest, size: blob.size, outcome });
  });
  let root = plan.root;
  let index = plan.index?.target;
  const childReplace = new Map<string, { digest: string; size: number; mediaType: string }>();
  for (const img of plan.images) {
    const top = !plan.index && img === plan.images[0];
    let target = img.target;
    if (replaced.size > 0 && img.blobs.some((b) => replaced.has(b.digest))) {
      const { replaceLayers } = await import('./recompress.js');
      const bytes = replaceLayers(target.bytes, replaced, target.mediaType);
      const next = { bytes, mediaType: target.mediaType, digest: digestBytes(bytes) };
      childReplace.set(img.source.digest, { digest: next.digest, size: bytes.length, mediaType: next.mediaType });
      target = next;
    }
    if (top) root = target;
    await dest.putManifest(target, { signal, top });
    onProgress?.({ type: 'manifest', digest: target.digest, mediaType: target.mediaType, top });
  }
  if (plan.index && index) {
    if (childReplace.size > 0) {
      // the index points at the rewritten children (and becomes OCI, as a rewritten index does in skopeo,
      // unless --format v2s2 asked for a Docker list)
      for (const img of plan.images) {
        if (img.converted && !childReplace.has(img.source.digest)) {
          childReplace.set(img.source.digest, { digest: img.target.digest, size: img.target.bytes.length, mediaType: img.target.mediaType });
        }
      }
      const docker = options.manifestFormat === 'v2s2';
      const bytes = docker ? convertIndexToDocker(plan.index.source.bytes, childReplace) : convertIndexToOci(plan.index.source.bytes, childReplace);
      index = { bytes, mediaType: docker ? MT.DockerList : MT.OciIndex, digest: digestBytes(bytes) };
    }
    root = index;
    await dest.putManifest(index, { signal, top: true });
    onProgress?.({ type: 'manifest', digest: index.digest, mediaType: index.mediaType, top: true });
  }
  await dest.commit?.(root, { signal });
  onProgress?.({ type: 'done', digest: root.digest, mediaType: root.mediaType });
  return { digest: root.digest, mediaType: root.mediaType, blobs: results };
}

/** Copies an image (or a whole index with `all`) from one endpoint to another: planCopy + applyCopy. */
export async function copyImage(src: CopySource, dest: CopyDestination, options: CopyOptions = {}): Promise<CopyResult> {
  const plan = await planCopy(src, dest, options);
  return await applyCopy(plan, src, dest, options);
}
