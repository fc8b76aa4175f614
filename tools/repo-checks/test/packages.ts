import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..', '..');

export interface PackageInfo {
  dir: string;
  relDir: string;
  manifest: Record<string, any>;
}

/** Every published package of the workspace (packages/*). */
export function publishedPackages(): PackageInfo[] {
  const base = join(repoRoot, 'packages');
  return readdirSync(base)
    .sort()
    .map((name) => {
      const dir = join(base, name);
      return { dir, relDir: `packages/${name}`, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) };
    });
}
