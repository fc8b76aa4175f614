import { fileURLToPath } from 'node:url';
import { create, kill, remove, run, start, state } from '@oci/runtime';
import type { Parsed } from '../options.js';
import { out } from '../output.js';
import { debugLogger, log } from '../log.js';

// static imports: this module is itself loaded on demand (main.ts), and the query bundle (main-query.ts) is
// tree-shaken down to what its commands use
function common(p: Parsed): { root: string; onDebug?: (m: string) => void } {
  const onDebug = debugLogger(p.global);
  return { root: p.global['root'] as string, ...(onDebug ? { onDebug } : {}) };
}

function createOptions(p: Parsed) {
  const o = p.opts;
  return {
    ...common(p),
    bundle: o['bundle'] as string,
    ...(o['pid-file'] ? { pidFile: o['pid-file'] as string } : {}),
    ...(o['console-socket'] ? { consoleSocket: o['console-socket'] as string } : {}),
    noPivot: o['no-pivot'] === true,
    noNewKeyring: o['no-new-keyring'] === true,
    preserveFds: (o['preserve-fds'] as number) ?? 0,
    onWarning: (m: string) => log(p.global, 'warning', m),
    rootless: rootlessMode(p.global['rootless']),
    // for the launcher's native front end (docs/runtime.md, "Replayed runs"); retired when this code changes
    record: { stamps: [ownFile()] },
  };
}

/** --rootless true|false|auto (runc's values; anything else is auto). */
function rootlessMode(v: unknown): boolean | 'auto' {
  return v === 'true' || v === true ? true : v === 'false' ? false : 'auto';
}

export async function createCmd(p: Parsed): Promise<number> {
  await create(p.args[0]!, createOptions(p));
  return 0;
}

/** The file this code runs from: the CLI's bundle (CommonJS), else this module. */
function ownFile(): string {
  return typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
}

const FORWARD = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGCONT', 'SIGALRM', 'SIGPIPE'] as const;

export async function runCmd(p: Parsed): Promise<number> {
  let pid = 0;
  const handlers = FORWARD.map((sig) => {
    const h = () => { if (pid) try { process.kill(pid, sig); } catch { /* gone */ } };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    return await run(p.args[0]!, {
      ...createOptions(p),
      detach: p.opts['detach'] === true,
      keep: p.opts['keep'] === true,
      onStart: (x) => { pid = x; },
    });
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

export async function startCmd(p: Parsed): Promise<number> {
  await start(p.args[0]!, { ...common(p), onWarning: (m) => log(p.global, 'warning', m) });
  return 0;
}

export async function stateCmd(p: Parsed): Promise<number> {
  out(JSON.stringify(state(p.args[0]!, common(p)), null, 2) + '\n');
  return 0;
}

export async function deleteCmd(p: Parsed): Promise<number> {
  for (const id of p.args) await remove(id, { ...common(p), force: p.opts['force'] === true, onWarning: (m) => log(p.global, 'warning', m) });
  return 0;
}

export async function killCmd(p: Parsed): Promise<number> {
  kill(p.args[0]!, p.args[1] ?? 'SIGTERM', { ...common(p), all: p.opts['all'] === true });
  return 0;
}
