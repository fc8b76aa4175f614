import type { ArgumentsCamelCase, Argv, CommandModule, Options } from 'yargs';
import { accessFlags, accessOptions, authfileOption, platformFlags, platformOptions } from '../options.js';
import type { DestinationNotes } from '../recopy.js';

type Args = Record<string, unknown> & { source: string; destination: string };

/** copy's options (also read by the fast path of main.ts, src/fast-argv.ts). */
export const copyOptions: Record<string, Options> = {
  all: { alias: 'a', type: 'boolean', describe: 'Copy all images of an index (all platforms)' },
  ...platformOptions,
  ...authfileOption,
  ...accessOptions('src'),
  ...accessOptions('dest'),
  'preserve-digests': { type: 'boolean', describe: 'Fail rather than change a manifest (no Docker -> OCI conversion)' },
  'dest-compress-format': { type: 'string', choices: ['gzip', 'zstd'], describe: 'Compress layers to gzip or zstd: uncompressed ones and those in the other format (changes digests; zstd makes the manifest OCI and needs the zstd command)' },
  'dest-compress-level': { type: 'number', describe: 'Compression level: gzip 1-9 (default 6), zstd 1-19 (default 3)' },
  digestfile: { type: 'string', describe: 'Write the digest of the copied manifest to this file' },
  jobs: { type: 'number', default: 4, describe: 'Parallel blob transfers' },
  format: { alias: 'f', type: 'string', choices: ['oci', 'v2s2'], describe: 'Manifest type of the destination: oci converts Docker v2s2 manifests and lists, v2s2 converts OCI ones (not for oci: destinations)' },
  'retry-times': { type: 'number', describe: 'Retries of a failed request (429, 5xx, connection errors; default 5)' },
  quiet: { alias: 'q', type: 'boolean', describe: 'Print nothing' },
  json: { type: 'boolean', describe: 'Print progress events as JSON lines on stdout' },
};

export const copyCommand: CommandModule<object, Args> = {
  command: 'copy <source> <destination>',
  describe: 'Copy an image (or a whole index with --all) between docker://, oci:, oci-archive: and dir:',
  builder: (y: Argv) => y
    .positional('source', { type: 'string', demandOption: true, describe: 'docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF] or dir:DIR' })
    .positional('destination', { type: 'string', demandOption: true, describe: 'docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF] or dir:DIR' })
    .options(copyOptions) as unknown as Argv<Args>,
  handler: async (argv: ArgumentsCamelCase<Args>) => {
    await copy(argv);
  },
};

/**
 * The copy command. `args`: its command line as typed, when it was parsed without yargs (main.ts); a copy from
 * docker:// to oci: then leaves a recording for the native front end (src/recopy.ts).
 */
export async function copy(argv: Record<string, unknown> & { source: string; destination: string }, args?: readonly string[]): Promise<void> {
  const { CliError } = await import('../errors.js');
  const compress = argv['dest-compress-format'] as 'gzip' | 'zstd' | undefined;
  const level = argv['dest-compress-level'] === undefined ? undefined : Number(argv['dest-compress-level']);
  if (level !== undefined && compress === undefined) {
    throw new CliError('ERR_USAGE', '--dest-compress-level needs --dest-compress-format', { hint: 'Add --dest-compress-format gzip or zstd.' });
  }
  if (level !== undefined) {
    const { COMPRESSION_LEVELS } = await import('@oci/registry-client');
    const range = COMPRESSION_LEVELS[compress!];
    if (!Number.isInteger(level) || level < range.min || level > range.max) {
      throw new CliError('ERR_USAGE', `--dest-compress-level ${level} is out of range for ${compress}`, { hint: `Use ${range.min}-${range.max} (default ${range.default}).` });
    }
  }
  const jobs = Number(argv.jobs ?? 4);
  if (!Number.isInteger(jobs) || jobs < 1) throw new CliError('ERR_USAGE', '--jobs must be a positive integer');
  const { parseTransport } = await import('../transports.js');
  const src = parseTransport(argv.source);
  const dst = parseTransport(argv.destination);
  const { copyImage, startRecorder, stopRecorder } = await import('@oci/registry-client');
  const recopy = args !== undefined && src.transport === 'docker' && dst.transport === 'oci' ? await import('../recopy.js') : undefined;
  const command = recopy?.recopyCommand(args!);
  // on before anything is read: the policy, registries.conf and the manifests go into the recording
  const recorder = command ? startRecorder() : undefined;
  const notes: DestinationNotes = recopy?.newNotes() ?? { blobs: new Map(), manifests: new Map(), written: new Set(), top: undefined };
  // a copy that makes a new layout also leaves a recording for the next copy into a new layout (src/recopy.ts)
  const fresh = command ? await recopy!.isFreshLayout(command.dir) : false;
  const { checkSource, loadTrustPolicy, policyFlags } = await import('../policy-check.js');
  const policy = await loadTrustPolicy(policyFlags(argv));
  await checkSource(policy, src);
  const { openSource, openDestination, registriesConf } = await import('../open.js');
  const { createReporter } = await import('../progress.js');
  const reporter = createReporter({ quiet: argv.quiet === true, json: argv.json === true });
  const ac = new AbortController();
  const onSignal = (): void => ac.abort(new CliError('ERR_INTERRUPTED', 'interrupted', { hint: 'Run the same command again to finish: complete blobs are kept.' }));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const retries = argv['retry-times'] === undefined ? undefined : Number(argv['retry-times']);
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) throw new CliError('ERR_USAGE', '--retry-times must be a non-negative integer');
  const source = await openSource(src, { ...accessFlags(argv, 'src'), retries });
  // Fetch the source manifest while the destination opens (module loading, layout checks): the
  // copy asks for it again and gets this same answer.
  const rootPromise = source.endpoint.getRoot({ signal: ac.signal });
  rootPromise.catch(() => {});
  source.endpoint = { ...source.endpoint, getRoot: () => rootPromise };
  try {
    const dest = await openDestination(dst, { ...accessFlags(argv, 'dest'), retries });
    if (recorder) dest.endpoint = recopy!.notingDestination(dest.endpoint, notes);
    let done = false;
    try {
      const platform = platformFlags(argv);
      const result = await copyImage(source.endpoint, dest.endpoint, {
        all: argv.all === true, platform, preserveDigests: argv['preserve-digests'] === true,
        compressFormat: compress, compressLevel: level, manifestFormat: argv.format as 'oci' | 'v2s2' | undefined,
        concurrency: jobs, signal: ac.signal, onProgress: reporter.onProgress,
      });
      await dest.commit?.();
      if (typeof argv.digestfile === 'string') {
        const { writeFile } = await import('node:fs/promises');
        await writeFile(argv.digestfile, result.digest);
      }
      done = true;
      if (recorder && dest.layout) {
        const rules = fresh ? { policy, registries: await registriesConf(accessFlags(argv, 'src')) } : undefined;
        await recopy!.writeRecording(command!, recorder, notes, await dest.layout, await recopy!.bundleHash(), fresh, rules);
      }
    } finally {
      reporter.finish();
      await dest.close({ failed: !done });
    }
  } finally {
    if (recorder) stopRecorder();
    await source.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
