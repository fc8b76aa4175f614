import { readdir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { abortReason } from './blobs.js';
import { isLayoutDigest } from './digest.js';
import { fsyncDir, ownerAlive, tempOwner } from './fsutil.js';
import { listBlobFiles, mtimeMs, rootsOf } from './graph.js';
import type { Layout } from './layout.js';
import type { Descriptor } from './spec.js';
import { childrenOf, isDocumentMediaType, sniffMediaType } from './walk.js';

export interface GcOptions {
  signal?: AbortSignal | undefined;
  /** Keep unreferenced blobs modified less than this many ms ago (default 0: remove all). */
  gracePeriodMs?: number | undefined;
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
export async function reachableDigests(layout: Layout, signal?: AbortSignal): Promise<Set<string>> {
  const seen = new Set<string>();
  const queue: Descriptor[] = await rootsOf(layout);
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
  return await layout.withLock(async () => {
    const reachable = await reachableDigests(layout, signal);
    const { blobs } = await listBlobFiles(layout);
    const removed: string[] = [];
    let freedBytes = 0;
    const touchedDirs = new Set<string>();
    const now = Date.now();
    for (const b of blobs) {
      if (signal?.aborted) throw abortReason(signal);
      if (reachable.has(b.digest)) continue;
      let st;
      try {
        st = await stat(b.path);
      } catch {
        continue;
      }
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
      temps = await readdir(layout.paths.ingest);
    } catch {
      temps = [];
    }
    for (const name of temps) {
      const path = join(layout.paths.ingest, name);
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
