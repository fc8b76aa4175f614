import type { ArgumentsCamelCase, Argv } from 'yargs';
import { cachePaths, defaultCacheDir } from '../cache.js';
import { OciCliError } from '../errors.js';

interface RmiArgs {
  images: string[];
  cache?: string;
  json: boolean;
}

export const command = 'rmi <images..>';
export const describe = 'Remove images from the local cache and free the blobs nothing else uses';

export function builder(y: Argv): Argv<RmiArgs> {
  return y
    .positional('images', { type: 'string', array: true, demandOption: true, describe: 'References as `oci images` lists them (or as given to run/pull)' })
    .option('cache', { type: 'string', describe: 'Cache directory' }) as unknown as Argv<RmiArgs>;
}

export async function handler(argv: ArgumentsCamelCase<RmiArgs>): Promise<void> {
  const { parseImage } = await import('../image.js');
  const { Layout } = await import('@oci/layout');
  const paths = cachePaths(argv.cache ?? defaultCacheDir());
  const layout = await Layout.open(paths.layout);
  const names = new Set((await layout.listRefs()).map((r) => r.name));
  for (const input of argv.images) {
    const src = await parseImage(input).catch(() => undefined);
    const name = names.has(input) ? input : src?.refName;
    if (!name || !names.has(name)) {
      throw new OciCliError('ERR_IMAGE_NOT_CACHED', `${input} is not in the cache`, { hint: 'See `oci images` for what is there.', exitCode: 1 });
    }
    await layout.untag(name);
  }
  const result = await layout.gc();
  if (argv.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(`removed ${argv.images.length} image(s), freed ${result.freedBytes} bytes\n`);
}
