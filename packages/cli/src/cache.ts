import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where `oci` keeps its image layout and bundles: $OCI_CACHE, else /var/lib/oci for root,
 * else $XDG_CACHE_HOME/oci or ~/.cache/oci.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OCI_CACHE) return env.OCI_CACHE;
  if (process.getuid?.() === 0) return '/var/lib/oci';
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'oci');
}

export interface CachePaths {
  /** The OCI image layout holding every pulled image, tagged by its full reference. */
  layout: string;
  /** Bundles of running containers (removed after the run unless kept). */
  bundles: string;
  /** The runtime's state root. */
  state: string;
}

export function cachePaths(cacheDir: string): CachePaths {
  return { layout: join(cacheDir, 'layout'), bundles: join(cacheDir, 'bundles'), state: join(cacheDir, 'state') };
}
