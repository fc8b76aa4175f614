import type { ArgumentsCamelCase, Argv } from 'yargs';
import { cachePaths, defaultCacheDir } from '../cache.js';
import { registryOptions, clientOptions, type RegistryArgs } from '../options.js';

interface PullArgs extends RegistryArgs {
  image: string;
  platform?: string;
  cache?: string;
  quiet: boolean;
  json: boolean;
}

export const command = 'pull <image>';
export const describe = 'Pull IMAGE from its registry into the local cache (an OCI image layout)';

export function builder(y: Argv): Argv<PullArgs> {
  return y
    .positional('image', { type: 'string', demandOption: true, describe: 'docker://REGISTRY/REPO[:TAG|@DIGEST] or a bare reference' })
    .options(registryOptions)
    .example('$0 pull --tls-verify=false 127.0.0.1:5000/library/busybox:latest', 'Pull from a local registry') as unknown as Argv<PullArgs>;
}

export async function handler(argv: ArgumentsCamelCase<PullArgs>): Promise<void> {
  const { parseImage, ensureImage } = await import('../image.js');
  const { pullProgress } = await import('../progress.js');
  const paths = cachePaths(argv.cache ?? defaultCacheDir());
  const source = await parseImage(argv.image);
  const progress = pullProgress(process.stderr, argv.quiet || argv.json);
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(Object.assign(new Error('interrupted'), { name: 'AbortError', code: 'ERR_ABORTED' }));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { layout, refName } = await ensureImage(source, paths.layout, {
      signal: abort.signal,
      pull: 'always',
      client: clientOptions(argv),
      platform: argv.platform,
      onProgress: progress.onProgress,
    });
    const ref = (await layout.listRefs()).find((r) => r.name === refName);
    if (argv.json) process.stdout.write(JSON.stringify({ image: refName, digest: ref?.descriptor.digest, layout: layout.dir }) + '\n');
    else process.stdout.write(`${ref?.descriptor.digest ?? ''}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.end();
  }
}
