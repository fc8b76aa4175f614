import type { ArgumentsCamelCase, Argv } from 'yargs';
import { cachePaths, defaultCacheDir } from '../cache.js';

interface ImagesArgs {
  cache?: string;
  json: boolean;
}

export const command = 'images';
export const describe = 'List the images in the local cache';

export function builder(y: Argv): Argv<ImagesArgs> {
  return y.option('cache', { type: 'string', describe: 'Cache directory' }) as unknown as Argv<ImagesArgs>;
}

export async function handler(argv: ArgumentsCamelCase<ImagesArgs>): Promise<void> {
  const { existsSync } = await import('node:fs');
  const paths = cachePaths(argv.cache ?? defaultCacheDir());
  const rows: { image: string; digest: string; mediaType: string; size: number }[] = [];
  if (existsSync(paths.layout)) {
    const { Layout } = await import('@oci/layout');
    const layout = await Layout.open(paths.layout);
    for (const r of await layout.listRefs()) {
      rows.push({ image: r.name, digest: r.descriptor.digest, mediaType: r.descriptor.mediaType, size: r.descriptor.size });
    }
  }
  if (argv.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return;
  }
  const width = Math.max(5, ...rows.map((r) => r.image.length));
  process.stdout.write(`${'IMAGE'.padEnd(width)}  DIGEST\n`);
  for (const r of rows) process.stdout.write(`${r.image.padEnd(width)}  ${r.digest}\n`);
}
