import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { cachePaths, defaultCacheDir } from '../cache.js';
import { OciCliError } from '../errors.js';
import { registryOptions, clientOptions, type RegistryArgs } from '../options.js';
import { setExitCode } from '../state.js';

interface RunArgs extends RegistryArgs {
  image: string;
  args?: string[];
  '--'?: string[];
  pull: 'missing' | 'always' | 'never';
  name?: string;
  keep: boolean;
  platform?: string;
  cache?: string;
  quiet: boolean;
}

export const command = 'run <image> [args..]';
export const describe = 'Pull IMAGE (unless cached), unpack it into a bundle and run it, like `docker run --rm`';

export function builder(y: Argv): Argv<RunArgs> {
  return y
    .positional('image', { type: 'string', demandOption: true, describe: 'docker://REGISTRY/REPO[:TAG|@DIGEST], a bare reference, or oci:DIR[:REF]' })
    .positional('args', { type: 'string', array: true, describe: "Replace the image's Cmd (its Entrypoint is kept); put them after --" })
    .options(registryOptions)
    .option('pull', { choices: ['missing', 'always', 'never'] as const, default: 'missing' as const, describe: 'When to pull from the registry' })
    .option('name', { type: 'string', describe: 'Container id (default: oci-<random>)' })
    .option('keep', { type: 'boolean', default: false, describe: 'Keep the bundle and the container state after it exits' })
    .example('$0 run --tls-verify=false docker://127.0.0.1:5000/library/busybox -- sh -c "echo hi"', 'Run a command in busybox from a local registry')
    .example('$0 run oci:./hello', 'Run the image tagged latest in the layout ./hello') as unknown as Argv<RunArgs>;
}

const FORWARD = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

export async function handler(argv: ArgumentsCamelCase<RunArgs>): Promise<void> {
  // Until the container runs, a signal cancels the pipeline (nothing half-written is left: the layout
  // drops its temp blob, unpack its staging dir). Once it runs, signals are forwarded to it.
  const abort = new AbortController();
  let pid = 0;
  const handlers = FORWARD.map((sig) => {
    const h = (): void => {
      if (pid) {
        try { process.kill(pid, sig); } catch { /* already gone */ }
      } else abort.abort(Object.assign(new Error(`interrupted by ${sig}`), { name: 'AbortError', code: 'ERR_ABORTED' }));
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    await runPipeline(argv, abort.signal, (p) => { pid = p; });
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

async function runPipeline(argv: ArgumentsCamelCase<RunArgs>, signal: AbortSignal, onStart: (pid: number) => void): Promise<void> {
  const { parseImage, ensureImage } = await import('../image.js');
  const { pullProgress } = await import('../progress.js');
  const paths = cachePaths(argv.cache ?? defaultCacheDir());
  const source = await parseImage(argv.image);
  const progress = pullProgress(process.stderr, argv.quiet);
  let image;
  try {
    image = await ensureImage(source, paths.layout, {
      signal,
      pull: argv.pull,
      client: clientOptions(argv),
      platform: argv.platform,
      onProgress: progress.onProgress,
    });
  } finally {
    progress.end();
  }
  const extra = [...(argv.args ?? []), ...(argv['--'] ?? [])].map(String);
  const id = argv.name ?? `oci-${randomBytes(6).toString('hex')}`;
  const bundle = join(paths.bundles, id);
  mkdirSync(paths.bundles, { recursive: true, mode: 0o700 });
  const { createBundle } = await import('@oci/unpack');
  try {
    await createBundle(image.layout, image.refName, bundle, {
      signal,
      ...(extra.length ? { args: extra } : {}),
      ...(argv.platform ? { platform: argv.platform } : {}),
    });
  } catch (err) {
    rmSync(bundle, { recursive: true, force: true });
    throw err;
  }
  signal.throwIfAborted();
  const { run } = await import('@oci/runtime');
  let code: number;
  try {
    code = await run(id, { bundle, root: paths.state, keep: argv.keep, onStart });
  } catch (err) {
    if (!argv.keep) rmSync(bundle, { recursive: true, force: true });
    throw new OciCliError((err as { code?: string }).code ?? 'ERR_RUN_FAILED', `could not start the container: ${(err as Error).message}`, {
      hint: (err as { hint?: string }).hint ?? `The bundle was ${argv.keep ? 'kept' : 'removed'}; run with --keep to inspect it.`,
      cause: err,
    });
  }
  if (!argv.keep) rmSync(bundle, { recursive: true, force: true });
  setExitCode(code);
}
