// The oci-image binary: argv -> options, rendering, exit codes. Only this module exits.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { getExitCode } from './common.js';
import { EXIT, exitCodeFor } from './errors.js';
import * as create from './commands/create.js';
import * as gc from './commands/gc.js';
import * as ls from './commands/ls.js';
import * as unpack from './commands/unpack.js';
import * as validate from './commands/validate.js';

/** This package's version (read when the CLI starts: one small file). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function report(err: unknown): number {
  const code = exitCodeFor(err);
  const e = err as { code?: string; message?: string; hint?: string };
  if (code === EXIT.bug) {
    process.stderr.write(`oci-image: internal error: ${e?.message ?? String(err)}\n`);
    if (err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    process.stderr.write('This is a bug in oci-image; please report it with the command you ran.\n');
  } else {
    process.stderr.write(`oci-image: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
  }
  return code;
}

export async function main(argv: string[]): Promise<number> {
  let failure: unknown;
  const cli = yargs(argv)
    .scriptName('oci-image')
    .usage('$0 <command> [options]\n\nUnpack, create bundles from, validate, list and garbage-collect OCI image layouts.')
    .option('json', { type: 'boolean', default: false, global: true, describe: 'Machine-readable output on stdout' })
    .command(unpack)
    .command(create)
    .command(validate)
    .command(ls)
    .command(gc)
    .demandCommand(1, 'Name a command: unpack, create, validate, ls or gc')
    .strict()
    .parserConfiguration({ 'populate--': true })
    .help()
    .version('version', 'Print the version', `oci-image version ${packageVersion()}`)
    .exitProcess(false)
    .wrap(Math.min(100, process.stdout.columns ?? 80))
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`oci-image: ${msg}\nRun oci-image --help for usage.\n`);
      throw Object.assign(new Error(msg), { usage: true });
    });
  // yargs renders (and caches) the whole help text of a command every time the command runs (string-width
  // on every option: 5-15 ms of each start); help is still rendered when asked for.
  const usageInstance = (cli as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } })
    .getInternalMethods?.().getUsageInstance?.();
  if (usageInstance && typeof usageInstance.cacheHelpMessage === 'function') usageInstance.cacheHelpMessage = () => {};
  try {
    await cli.parseAsync();
  } catch (err) {
    failure ??= err;
  }
  if (failure !== undefined) {
    if ((failure as { usage?: boolean }).usage) return EXIT.usage;
    return report(failure);
  }
  return getExitCode();
}

// no top-level await: the build bundles this entry as CommonJS (tools/bundle-cli)
void main(hideBin(process.argv)).then((code) => {
  process.exitCode = code;
});
