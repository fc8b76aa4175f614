import { lstat, readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { abortReason } from './blobs.js';
import { isLayoutDigest } from './digest.js';
import { LayoutError } from './errors.js';
import { fsyncDir, ownerAlive, tempOwner } from './fsutil.js';
import { listBlobFiles, mtimeMs, rootsOf } from './graph.js';
import type { Layout } from './layout.js';
import type { Descriptor } from './spec.js';
import { checkDirs, writeError } from './safe.js';
import { pinned, takeTagged, unpin } from './pins.js';
import { stateDirName } from './paths.js';
import { childrenOf, isDocumentMediaType, sniffMediaType } from './walk.js';

export interface GcOptions {
  signal?: AbortSignal | undefined;
  /** Keep unreferenced blobs modified less than this many ms ago (default 0: remove all). */
  gracePeriodMs?: number | undefined;
  /**
   * Also remove blobs that this process put and has not yet tagged (default false: such a blob is
   * kept for up to 10 minutes, so that gc() cannot remove it between putBlob() and tag()).
   */
  includePending?: boolean | undefined;
  /** Compute what would be removed without removing anything. */
  dryRun?: boolean | undefined;
  /** Lock wait timeout in ms (default 30 000). */
  timeout?: number | undefined;
}

export interface GcResult {
  /** Digests of the blobs removed (or that would be, with dryRun). */
  removed: string[];
  freedBytes: number;
  /** Temp files of dead writers removed from the ingest directory. */
  tempFilesRemoved: string[];
}

/** Everything reachable from the roots. Throws when a reachable document cannot be read. @internal */
export async function reachableDigests(layout: Layout, signal?: AbortSignal, roots?: Descriptor[]): Promise<Set<string>> {
  const seen = new Set<string>();
  const queue: Descriptor[] = roots ?? (await rootsOf(layout));
  while (queue.length > 0) {
    if (signal?.aborted) throw abortReason(signal);
    const d = queue.shift()!;
    if (!isLayoutDigest(d.digest) || seen.has(d.digest)) continue;
    seen.add(d.digest);
    const known = isDocumentMediaType(d.mediaType);
    // Descriptors without a document media type (e.g. legacy refs, artifacts) are opened only if small.
    if (!known && !(d.size <= 4 << 20 && /json/.test(d.mediaType ?? ''))) continue;
    if (!(await layout.hasBlob(d.digest))) continue;
    let doc: unknown;
    try {
      doc = await layout.readJson(d.digest);
    } catch (err) {
      if (!known) continue;
      throw err;
    }
    const mediaType = known ? d.mediaType : sniffMediaType(doc);
    if (mediaType === undefined) continue;
    queue.push(...childrenOf(mediaType, doc));
  }
  return seen;
}

/** @internal */
export async function gcLayout(layout: Layout, options: GcOptions = {}): Promise<GcResult> {
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const grace = options.gracePeriodMs ?? 0;
  try {
    return await gcLocked(layout, options, grace);
  } catch (err) {
    throw writeError(err, layout.dir);
  }
}

async function gcLocked(layout: Layout, options: GcOptions, grace: number): Promise<GcResult> {
  const { signal } = options;
  return await layout.withLock(async () => {
    const reachable = await reachableDigests(layout, signal);
    // blobs put by this process that a ref tagged since reaches are no longer protected as pending
    for (const entry of takeTagged(layout.dir)) {
      unpin(layout.dir, await reachableDigests(layout, signal, [entry]).catch(() => new Set([entry.digest])));
    }
    const keep = options.includePending === true ? new Set<string>() : pinned(layout.dir);
    const { blobs } = await listBlobFiles(layout);
    const removed: string[] = [];
    let freedBytes = 0;
    const touchedDirs = new Set<string>();
    const now = Date.now();
    for (const b of blobs) {
      if (signal?.aborted) throw abortReason(signal);
      if (reachable.has(b.digest) || keep.has(b.digest)) continue;
      let st;
      try {
        st = await lstat(b.path);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      if (grace > 0 && now - st.mtimeMs < grace) continue;
      if (options.dryRun !== true) {
        try {
          await unlink(b.path);
        } catch {
          continue;
        }
        touchedDirs.add(dirname(b.path));
      }
      removed.push(b.digest);
      freedBytes += st.size;
    }
    const tempFilesRemoved: string[] = [];
    let temps: string[] = [];
    try {
      // .oci-ts/ingest a symlink to elsewhere: refuse rather than delete someone else's old files.
      temps = (await checkDirs(layout.dir, [stateDirName, 'ingest'])) ? await readdir(layout.paths.ingest) : [];
    } catch (err) {
      if (LayoutError.is(err)) throw err;
      temps = [];
    }
    for (const name of temps) {
      const path = join(layout.paths.ingest, name);
      if ((await lstat(path).catch(() => undefined))?.isFile() !== true) continue;
      const owner = tempOwner(name);
      let stale: boolean;
      if (owner !== undefined) stale = !(await ownerAlive(owner));
      else stale = now - ((await mtimeMs(path)) ?? now) > 24 * 3600_000;
      if (!stale) continue;
      if (options.dryRun !== true) {
        try {
          await unlink(path);
        } catch {
          continue;
        }
      }
      tempFilesRemoved.push(name);
    }
    for (const dir of touchedDirs) await fsyncDir(dir);
    return { removed, freedBytes, tempFilesRemoved };
  }, { signal, timeout: options.timeout });
}
