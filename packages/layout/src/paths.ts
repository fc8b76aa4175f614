import { join } from 'node:path';
import { parseLayoutDigest } from './digest.js';

/** Where things live inside a layout directory. @internal */
export interface LayoutPaths {
  dir: string;
  layoutFile: string;
  index: string;
  blobs: string;
  refs: string;
  /** Our private directory: the lock file and the ingest (temp) directory. */
  state: string;
  ingest: string;
  lock: string;
}

/** Name of our private directory at the layout root; skopeo and umoci ignore unknown entries there. */
export const stateDirName = '.oci-ts';

/** @internal */
export function layoutPaths(dir: string): LayoutPaths {
  const state = join(dir, stateDirName);
  return {
    dir,
    layoutFile: join(dir, 'oci-layout'),
    index: join(dir, 'index.json'),
    blobs: join(dir, 'blobs'),
    refs: join(dir, 'refs'),
    state,
    ingest: join(state, 'ingest'),
    lock: join(state, 'index.lock'),
  };
}

/** The path of a blob; throws ERR_INVALID_DIGEST (so `sha256:../../x` never becomes a path). @internal */
export function blobPathIn(paths: LayoutPaths, digest: string): string {
  const { algorithm, encoded } = parseLayoutDigest(digest);
  return join(paths.blobs, algorithm, encoded);
}
