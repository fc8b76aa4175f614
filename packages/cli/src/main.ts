// The `oci` binary: argv -> options, rendering, exit codes. Only this module exits.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT, exitCodeFor } from './errors.js';
import { getExitCode } from './state.js';
import * as images from './commands/images.js';
import * as pull from './commands/pull.js';
import * as rmi from './commands/rmi.js';
import * as run from './commands/run.js';

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
    process.stderr.write(`oci: internal error: ${e?.message ?? String(err)}\n`);
    if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.stderr.write('This is a bug in oci; please report it with the command you ran.\n');
  } else {
    process.stderr.write(`oci: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
  }
  return code;
}

export async function main(argv: string[]): Promise<number> {
  let usage = false;
  const cli = yargs(argv)
    .scriptName('oci')
    .usage('$0 <command> [options]\n\nThe whole OCI pipeline in one command: pull an image into a local cache (an OCI image layout), unpack it into a bundle, and run it as an isolated process with the oci-runtime.')
    .option('json', { type: 'boolean', default: false, global: true, describe: 'Machine-readable output on stdout' })
    .command(run)
    .command(pull)
    .command(images)
    .command(rmi)
    .demandCommand(1, 'Name a command: run, pull, images or rmi')
    .strict()
    .parserConfiguration({ 'populate--': true })
    .help()
    .version('version', 'Print the version', `oci version ${packageVersion()}`)
    .exitProcess(false)
    .wrap(Math.min(100, process.stdout.columns ?? 80))
    .fail((msg, err) => {
      if (err) throw err;
      usage = true;
      process.stderr.write(`oci: ${msg}\nRun oci --help for usage.\n`);
      throw new Error(msg);
    });
  // yargs renders (and caches) the whole help text of a command every time the command runs (string-width
  // on every option: 5-15 ms of each start); help is still rendered when asked for.
  const usageInstance = (cli as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } })
    .getInternalMethods?.().getUsageInstance?.();
  if (usageInstance && typeof usageInstance.cacheHelpMessage === 'function') usageInstance.cacheHelpMessage = () => {};
  try {
    await cli.parseAsync();
  } catch (err) {
    return usage ? EXIT.usage : report(err);
  }
  return getExitCode();
}

// no top-level await: the build bundles this entry as CommonJS (tools/bundle-cli)
void main(hideBin(process.argv)).then((code) => {
  process.exitCode = code;
});
