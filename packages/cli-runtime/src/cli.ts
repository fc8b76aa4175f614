// The command line's driver, shared by the two entries: main.ts (every command) and main-query.ts.
import { formatLog, toLogFile } from './log.js';
import { COMMANDS, parseArgs } from './options.js';
import type { Parsed } from './options.js';
import { markStdoutStreamUsed, stdoutStreamUsed } from './output.js';

export type Handler = (p: Parsed) => Promise<number>;
export type Loaders = Record<string, () => Promise<{ default: Handler }>>;

/** Exit code for an error `code` (runc exits 1 for every error; kept explicit here). */
const EXIT_CODES: Record<string, number> = { ERR_USAGE: 1 };

function report(err: unknown, global: Record<string, unknown>): number {
  const e = err as { code?: string; message?: string; hint?: string };
  const known = typeof e?.code === 'string' && e.code.startsWith('ERR_');
  const msg = known ? e.message! : `unexpected error (please report this as a bug): ${(err as Error)?.stack ?? String(err)}`;
  const json = global['log-format'] === 'json';
  const line = formatLog(global, 'error', msg);
  toLogFile(global, line);
  process.stderr.write(line + '\n');
  if (known && e.hint && !json) process.stderr.write(`hint: ${e.hint}\n`);
  return EXIT_CODES[e?.code ?? ''] ?? 1;
}

async function main(loaders: Loaders): Promise<number> {
  const argv = process.argv.slice(2);
  const parsed = parseArgs(argv);
  if (!parsed || parsed.args.length < COMMANDS[parsed.command]!.min) {
    const { yargsMain } = await import('./help.js');
    markStdoutStreamUsed();
    return yargsMain(argv, parsed);
  }
  try {
    const load = loaders[parsed.command];
    if (!load) throw new Error(`this entry does not handle "${parsed.command}" (bin/oci-runtime.js routes commands to entries)`);
    const mod = await load();
    return await mod.default(parsed);
  } catch (err) {
    return report(err, parsed.global);
  }
}

function exit(code: number): void {
  process.exitCode = code;
  if (code !== 0 || !process.env['OCI_RUNTIME_NO_EXIT']) {
    // flush stdout then exit: detached containers keep no handle open in this process. Commands write with
    // out() (output.ts): process.stdout, a stream built on first use, is looked at only if it was used
    if (!stdoutStreamUsed() || process.stdout.writableLength === 0) process.exit(code);
    else process.stdout.once('drain', () => process.exit(code));
  }
}

/** Runs the command line with these command loaders, then exits. */
export function runCli(loaders: Loaders): void {
  // no top-level await: the build bundles the entries as CommonJS (scripts/bundle.mjs)
  void main(loaders).then(exit);
}
