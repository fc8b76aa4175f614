import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { abortReason } from './blobs.js';
import { hasherFor, isLayoutDigest, isRegisteredAlgorithm } from './digest.js';
import type { Layout } from './layout.js';
import type { Descriptor } from './spec.js';
import { checkDirs, openRegular } from './safe.js';

/** Every blob file under blobs/<alg>/ whose name is a digest, plus the names that are not. @internal */
export async function listBlobFiles(layout: Layout): Promise<{ blobs: { digest: string; path: string }[]; strays: string[] }> {
  const blobs: { digest: string; path: string }[] = [];
  const strays: string[] = [];
  let algs;
  // blobs/ a symlink to elsewhere: refuse (ERR_UNSAFE_PATH) rather than gc or hash someone else's files.
  if (!(await checkDirs(layout.dir, ['blobs']))) return { blobs, strays };
  try {
    algs = await readdir(layout.paths.blobs, { withFileTypes: true });
  } catch {
    return { blobs, strays };
  }
  for (const alg of algs) {
    const algDir = join(layout.paths.blobs, alg.name);
    if (!alg.isDirectory() || !isRegisteredAlgorithm(alg.name)) {
      strays.push(join('blobs', alg.name));
      continue;
    }
    for (const e of await readdir(algDir, { withFileTypes: true })) {
      const digest = `${alg.name}:${e.name}`;
      if (e.isFile() && isLayoutDigest(digest)) blobs.push({ digest, path: join(algDir, e.name) });
      else strays.push(join('blobs', alg.name, e.name));
    }
  }
  return { blobs, strays };
}

/** Hash a file as a stream (1 MiB reads). @internal */
export async function hashFile(path: string, algorithm: string, signal?: AbortSignal): Promise<{ digest: string; size: number }> {
  const hash = hasherFor(algorithm);
  let size = 0;
  const fh = await openRegular(path);
  const stream = fh.createReadStream({ highWaterMark: 1 << 20 });
  const onAbort = (): void => {
    stream.destroy(abortReason(signal!) as Error);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.byteLength;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return { digest: hash.digest(), size };
}

/** The roots of the reachability graph: index.json entries and legacy refs/ descriptors. @internal */
export async function rootsOf(layout: Layout): Promise<Descriptor[]> {
  const index = await layout.index();
  const roots = [...index.manifests];
  if (index.subject !== undefined) roots.push(index.subject);
  for (const r of await layout.legacyRefs()) roots.push(r.descriptor);
  return roots;
}

/** @internal */
export async function mtimeMs(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}
