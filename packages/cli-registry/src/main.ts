import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { copyCommand } from './commands/copy.js';
import { deleteCommand } from './commands/delete.js';
import { inspectCommand } from './commands/inspect.js';
import { listTagsCommand } from './commands/list-tags.js';
import { syncCommand } from './commands/sync.js';
import { manifestDigestCommand } from './commands/manifest-digest.js';
import { loginCommand, logoutCommand } from './commands/login.js';
import { CliError, EXIT, exitCodeFor } from './errors.js';

function report(err: unknown): number {
  const status = exitCodeFor(err);
  const e = err as { code?: unknown; message?: unknown; hint?: unknown };
  if (status === EXIT.internal) {
    process.stderr.write(`oci-registry: internal error (please report it): ${(err as Error)?.stack ?? String(err)}\n`);
  } else if (status === EXIT.interrupted && typeof e?.code !== 'string') {
    process.stderr.write('oci-registry: interrupted\n');
  } else {
    process.stderr.write(`oci-registry: ${String(e.code)}: ${String(e.message)}\n`);
    if (typeof e.hint === 'string' && e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    if (status === EXIT.usage) process.stderr.write('Run oci-registry --help for usage.\n');
  }
  return status;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const cli = yargs(argv);
    // yargs renders (and caches) the whole help text of a command every time the command runs
    // (~90 ms of CPU on string-width for copy's options); help is still rendered on demand.
    const usageInstance = (cli as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } })
      .getInternalMethods?.().getUsageInstance?.();
    if (usageInstance && typeof usageInstance.cacheHelpMessage === 'function') usageInstance.cacheHelpMessage = () => {};
    await cli
      .scriptName('oci-registry')
      .usage('$0 <command> [options]\n\nCopy and inspect container images: skopeo\'s transports and flags.')
      .command(copyCommand)
      .command(inspectCommand)
      .command(listTagsCommand)
      .command(deleteCommand)
      .command(loginCommand)
      .command(logoutCommand)
      .command(syncCommand)
      .command(manifestDigestCommand)
      .demandCommand(1, 'Say which command to run.')
      .strict()
      .exitProcess(false)
      .fail((msg, err) => {
        if (err) throw err;
        throw new CliError('ERR_USAGE', msg ?? 'invalid usage');
      })
      .help()
      .version(false)
      .wrap(null)
      .parseAsync();
    return 0;
  } catch (err) {
    return report(err);
  }
}

// no top-level await: the build bundles this entry as CommonJS (tools/bundle-cli)
void main(hideBin(process.argv)).then((code) => {
  process.exitCode = code;
});
