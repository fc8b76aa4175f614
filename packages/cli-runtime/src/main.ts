import { appendFileSync } from 'node:fs';
import { COMMANDS, parseArgs } from './options.js';
import type { Parsed } from './options.js';

type Handler = (p: Parsed) => Promise<number>;

const loaders: Record<string, () => Promise<{ default: Handler }>> = {
  create: () => import('./commands/lifecycle.js').then((m) => ({ default: m.createCmd })),
  run: () => import('./commands/lifecycle.js').then((m) => ({ default: m.runCmd })),
  start: () => import('./commands/lifecycle.js').then((m) => ({ default: m.startCmd })),
  state: () => import('./commands/lifecycle.js').then((m) => ({ default: m.stateCmd })),
  delete: () => import('./commands/lifecycle.js').then((m) => ({ default: m.deleteCmd })),
  kill: () => import('./commands/lifecycle.js').then((m) => ({ default: m.killCmd })),
  list: () => import('./commands/list.js'),
  ps: () => import('./commands/ps.js'),
  exec: () => import('./commands/exec.js'),
  pause: () => import('./commands/misc.js').then((m) => ({ default: m.pauseCmd })),
  resume: () => import('./commands/misc.js').then((m) => ({ default: m.resumeCmd })),
  events: () => import('./commands/misc.js').then((m) => ({ default: m.eventsCmd })),
  update: () => import('./commands/update.js'),
  spec: () => import('./commands/misc.js').then((m) => ({ default: m.specCmd })),
  features: () => import('./commands/misc.js').then((m) => ({ default: m.featuresCmd })),
};

/** Exit code for an error `code` (runc exits 1 for every error; kept explicit here). */
const EXIT_CODES: Record<string, number> = { ERR_USAGE: 1 };

function report(err: unknown, global: Record<string, unknown>): number {
  const e = err as { code?: string; message?: string; hint?: string };
  const known = typeof e?.code === 'string' && e.code.startsWith('ERR_');
  const msg = known ? e.message! : `unexpected error (please report this as a bug): ${(err as Error)?.stack ?? String(err)}`;
  const time = new Date().toISOString();
  const json = global['log-format'] === 'json';
  const line = json ? JSON.stringify({ level: 'error', msg, time }) : `time="${time}" level=error msg=${JSON.stringify(msg)}`;
  if (typeof global['log'] === 'string') {
    try { appendFileSync(global['log'], line + '\n'); } catch { /* the log is best effort */ }
  }
  process.stderr.write(line + '\n');
  if (known && e.hint && !json) process.stderr.write(`hint: ${e.hint}\n`);
  return EXIT_CODES[e?.code ?? ''] ?? 1;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const parsed = parseArgs(argv);
  if (!parsed || parsed.args.length < COMMANDS[parsed.command]!.min) {
    const { yargsMain } = await import('./help.js');
    return yargsMain(argv, parsed);
  }
  try {
    const mod = await loaders[parsed.command]!();
    return await mod.default(parsed);
  } catch (err) {
    return report(err, parsed.global);
  }
}

function exit(code: number): void {
  process.exitCode = code;
  if (code !== 0 || !process.env['OCI_RUNTIME_NO_EXIT']) {
    // flush stdout then exit: detached containers keep no handle open in this process
    if (process.stdout.writableLength === 0) process.exit(code);
    else process.stdout.once('drain', () => process.exit(code));
  }
}

// no top-level await: the build bundles this entry as CommonJS (scripts/bundle.mjs)
void main().then(exit);
