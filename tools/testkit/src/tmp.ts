import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackDir, untrackDir } from './cleanup.js';

export interface TmpDir {
  /** Absolute path of the new, empty directory. */
  readonly path: string;
  /** Remove the directory and everything under it (idempotent). */
  cleanup(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const live = new Set<TmpDir>();

/**
 * Create a fresh directory under os.tmpdir(). It is removed by cleanup(),
 * by cleanupTmpDirs(), or at the latest when the process exits.
 */
export async function tmpDir(prefix = 'oci-test-'): Promise<TmpDir> {
  const path = await mkdtemp(join(tmpdir(), prefix.endsWith('-') ? prefix : `${prefix}-`));
  trackDir(path);
  const dir: TmpDir = {
    path,
    async cleanup() {
      live.delete(dir);
      await rm(path, { recursive: true, force: true, maxRetries: 3 });
      untrackDir(path);
    },
    [Symbol.asyncDispose]() {
      return dir.cleanup();
    },
  };
  live.add(dir);
  return dir;
}

/** Remove every directory made by tmpDir() in this process so far (use in afterAll). */
export async function cleanupTmpDirs(): Promise<void> {
  await Promise.all([...live].map((d) => d.cleanup()));
}
