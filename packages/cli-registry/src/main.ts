import { subscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { copy, copyCommand } from './commands/copy.js';
import { deleteCommand } from './commands/delete.js';
import { inspectCommand } from './commands/inspect.js';
import { listTagsCommand } from './commands/list-tags.js';
import { syncCommand } from './commands/sync.js';
import { manifestDigestCommand } from './commands/manifest-digest.js';
import { loginCommand, logoutCommand } from './commands/login.js';
import { CliError, EXIT, exitCodeFor } from './errors.js';
import { fastCopyArgv } from './fast-argv.js';
import { globalOptions } from './options.js';

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

/** This package's version (read when the CLI starts: one small file). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** --debug: one stderr line per HTTP exchange, from @oci/registry-client's diagnostics channel (URLs are redacted there). */
function debugRequests(): void {
  const started = Date.now();
  subscribe('oci:registry:request', (message) => {
    const m = message as { method: string; url: string; status?: number; attempt: number; durationMs: number; error?: string };
    const secs = String(Math.floor((Date.now() - started) / 1000)).padStart(4, '0');
    const result = m.error ? `error: ${m.error}` : String(m.status);
    process.stderr.write(`DEBU[${secs}] ${m.method} ${m.url} -> ${result} (${Math.round(m.durationMs)} ms${m.attempt > 1 ? `, attempt ${m.attempt}` : ''})\n`);
  });
}

function applyGlobals(argv: Record<string, unknown>): void {
  if (typeof argv.tmpdir === 'string') process.env.TMPDIR = argv.tmpdir;
  if (argv.debug === true) debugRequests();
}

export async function main(argv: string[]): Promise<number> {
  try {
    const fast = fastCopyArgv(argv);
    if (fast !== undefined) {
      applyGlobals(fast);
      await copy(fast as unknown as Parameters<typeof copy>[0], argv);
      return 0;
    }
    // loaded only here: the bundle keeps yargs' modules uninitialised on the fast path
    const { default: yargs } = await import('yargs');
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
      .options(globalOptions)
      .middleware(applyGlobals)
      .demandCommand(1, 'Say which command to run.')
      .strict()
      .exitProcess(false)
      .fail((msg, err) => {
        if (err) throw err;
        throw new CliError('ERR_USAGE', msg ?? 'invalid usage');
      })
      .help()
      .version('version', 'Print the version', `oci-registry version ${packageVersion()}`)
      .alias('version', 'v')
      .wrap(null)
      .parseAsync();
    return 0;
  } catch (err) {
    return report(err);
  }
}

/**
 * Forgets what this process keeps of the files and state it read (registries.conf, the CA bundle, its own start
 * time, pins, free body memory): the V8 startup snapshot is taken after a warm-up copy in the build, and the
 * processes later started from it must read their own.
 */
export async function forgetProcessState(): Promise<void> {
  (await import('./open.js')).forgetOpenState();
  (await import('@oci/registry-client')).forgetProcessState();
  (await import('@oci/layout')).forgetProcessState();
}

/**
 * Ends the process once the command is done: everything it started has finished, and stdio writes are
 * synchronous on Linux (files, pipes, terminals), so nothing is lost; Node's own teardown of the heap, which a
 * return to the event loop would run, is skipped (~3 ms).
 */
export function exit(code: number): void {
  process.exit(code);
}

/** What the V8 startup snapshot's builder (scripts/snapshot-entry.cjs) sets before it evaluates the bundle. */
interface SnapshotBuilder {
  register(cli: { main: typeof main; forgetProcessState: typeof forgetProcessState; exit: typeof exit }): void;
}

// no top-level await: the build bundles this entry as CommonJS (tools/bundle-cli)
const snapshotBuilder = (globalThis as { __ociSnapshotBuilder?: SnapshotBuilder }).__ociSnapshotBuilder;
if (snapshotBuilder !== undefined) {
  snapshotBuilder.register({ main, forgetProcessState, exit });
} else {
  void main(process.argv.slice(2)).then(exit);
}
