// Starting the C helper (native/oci-runtime-init) and talking to it over its sync socket.
//
// Two ways, one behaviour. The fast one uses native/oci-spawn.node (posix_spawn and a socketpair; threads of the
// addon wait for the exit and read the socket, which is written with writeSync): it spares the CLI
// loading node:child_process, net and streams (~5 ms), forking the whole Node process (~4-6 ms) and setting up
// a stream for the socket. When the addon is not built (no Node headers at install), or OCI_RUNTIME_SPAWN=node
// is set, node:child_process does the same job. See docs/runtime.md, "Starting the helper".
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { close, closeSync, openSync, write, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/** What the caller's process gives the helper as its fd 0, 1 and 2. */
export type StdioSpec = 'inherit' | 'ignore' | number;

/** A running helper and its sync socket (one message per line: "KEY VALUE", VALUE URI-encoded). */
export interface Helper {
  pid: number;
  /** send the plan (once): the helper waits for it, so its own start-up overlaps the caller's planning */
  plan(text: string): void;
  /** the next message; ['eof', ''] once the helper closed its side */
  next(): Promise<[string, string]>;
  send(line: string): void;
  /** write LINE, end our side of the socket, and resolve once it was handed to the kernel */
  finish(line: string): Promise<void>;
  /** its exit status (128+N for signal N) */
  exited: Promise<number>;
  /** SIGKILL the helper (not an error if it is gone) */
  kill(): void;
  /** close our side of the socket */
  close(): void;
  /** the helper no longer keeps this process alive */
  unref(): void;
}

interface SpawnAddon {
  spawn(file: string, argv: string[], fds: number[]): [number, number];
  wait(pid: number, cb: (code: number | null, signal: number) => void): object;
  reader(fd: number, cb: (chunk: string | null) => void): object;
  unref(handle: object): void;
  shutdown(fd: number): void;
  warm(file: string, data: string): void;
}

let addon: SpawnAddon | null | undefined;

/** native/oci-spawn.node, or null when it is not built or OCI_RUNTIME_SPAWN=node asks for child_process. */
function spawnAddon(): SpawnAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env['OCI_RUNTIME_SPAWN'] === 'node') return addon;
  const file = fileURLToPath(new URL('../native/oci-spawn.node', import.meta.url));
  try {
    const m = { exports: {} as SpawnAddon };
    process.dlopen(m, file);
    addon = m.exports;
  } catch {
    /* not built, or built for another Node: child_process does the job */
  }
  return addon;
}

/** Which launcher `launchHelper` uses: 'native' (oci-spawn.node) or 'node' (node:child_process). */
export function helperLauncher(): 'native' | 'node' {
  return spawnAddon() ? 'native' : 'node';
}

/**
 * Writes `data` to `file` in the background, best effort (cgroups.ts: the cgroup migration warm-up, a write
 * that blocks for a kernel grace period). With the addon, on a thread of its own; else on a libuv thread (the
 * file is opened here and written at once: fs.writeFile would wait for the event loop between the two).
 */
export function writeInBackground(file: string, data: string): void {
  const a = spawnAddon();
  if (a) return a.warm(file, data);
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch {
    return;
  }
  write(fd, data, () => close(fd, () => { /* best effort */ }));
}

/** The queue of parsed messages both launchers share. */
function messages() {
  const queue: [string, string][] = [];
  const waiters: ((v: [string, string]) => void)[] = [];
  let buf = '';
  let ended = false;
  const push = (m: [string, string]) => {
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  };
  return {
    data(d: string) {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const sp = line.indexOf(' ');
        push(sp < 0 ? [line, ''] : [line.slice(0, sp), decodeURIComponentSafe(line.slice(sp + 1))]);
      }
    },
    end() {
      if (ended) return;
      ended = true;
      push(['eof', '']);
    },
    /** a queued message, eof, or a promise of the next one */
    next(): Promise<[string, string]> {
      const m = queue.shift();
      if (m) return Promise.resolve(m);
      if (ended) return Promise.resolve(['eof', '']);
      return new Promise<[string, string]>((r) => waiters.push(r));
    },
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Starts `bin SYNCFD` with `stdio` as its fds 0-2, the caller's fds 3..3+preserve-1 as the same numbers, and
 * the sync socket at 3+preserve. The helper then waits for `Helper.plan()`.
 */
export function launchHelper(bin: string, stdio: readonly [StdioSpec, StdioSpec, StdioSpec], preserve: number): Helper {
  const a = spawnAddon();
  return a ? launchNative(a, bin, stdio, preserve) : launchNode(bin, stdio, preserve);
}

function launchNative(a: SpawnAddon, bin: string, stdio: readonly [StdioSpec, StdioSpec, StdioSpec], preserve: number): Helper {
  const fds = stdio.map((s, i) => (s === 'inherit' ? i : s === 'ignore' ? -1 : s));
  for (let i = 0; i < preserve; i++) fds.push(3 + i);
  const [pid, fd] = a.spawn(bin, [bin, String(3 + preserve)], fds);
  const msgs = messages();
  let closed = false;
  let eof = false;
  let gone = false;
  // a thread of the addon reads the socket until end-of-file: close() shuts the socket down, which ends that
  // read; the fd itself is closed only then, so that the thread never reads a number reused meanwhile
  const reader = a.reader(fd, (chunk) => {
    if (chunk !== null) return msgs.data(chunk);
    eof = true;
    if (closed) closeSync(fd);
    msgs.end();
  });
  let waiter: object | undefined;
  const exited = new Promise<number>((res) => {
    waiter = a.wait(pid, (code, sig) => {
      gone = true;
      res(code ?? 128 + sig);
    });
  });
  const send = (line: string) => {
    if (closed) return;
    try {
      writeSync(fd, line);
    } catch {
      /* the helper is gone: its exit tells the rest */
    }
  };
  const close = () => {
    if (closed) return;
    closed = true;
    if (eof) closeSync(fd);
    else a.shutdown(fd);
  };
  return {
    pid,
    plan: send,
    exited,
    next: () => msgs.next(),
    send: (line) => send(line + '\n'),
    finish: (line) => {
      send(line + '\n');
      close();
      return Promise.resolve();
    },
    kill: () => {
      if (!gone) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    },
    close,
    unref: () => {
      if (!eof) a.unref(reader);
      if (!gone && waiter) a.unref(waiter);
    },
  };
}

function launchNode(bin: string, stdio: readonly [StdioSpec, StdioSpec, StdioSpec], preserve: number): Helper {
  const fds: StdioOptions = [...stdio];
  for (let i = 0; i < preserve; i++) fds.push(3 + i);
  fds.push('pipe');
  const syncFd = 3 + preserve;
  // child_process (and net, streams) load only when a process is started: `state`/`list` stay lean
  const { spawn } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
  const child: ChildProcess = spawn(bin, [String(syncFd)], { stdio: fds });
  const sync = child.stdio[syncFd] as Socket;
  const msgs = messages();
  sync.setEncoding('utf8');
  sync.on('data', (d: string) => msgs.data(d));
  sync.on('error', () => {});
  sync.on('close', () => msgs.end());
  const exited = new Promise<number>((res) => child.on('exit', (code, sig) => res(code ?? 128 + (sig ? signalNumberOf(sig) : 0))));
  child.on('error', () => {});
  return {
    pid: child.pid ?? 0,
    plan: (text) => {
      if (!sync.destroyed) sync.write(text);
    },
    exited,
    next: () => msgs.next(),
    send: (line) => {
      if (!sync.destroyed) sync.write(line + '\n');
    },
    finish: (line) =>
      new Promise<void>((res) => {
        if (sync.destroyed) return res();
        sync.end(line + '\n', () => res());
      }),
    kill: () => {
      try { child.kill('SIGKILL'); } catch { /* gone */ }
    },
    close: () => sync.destroy(),
    unref: () => child.unref(),
  };
}

function signalNumberOf(sig: NodeJS.Signals): number {
  return (process.getBuiltinModule('node:os') as typeof import('node:os')).constants.signals[sig] ?? 0;
}
