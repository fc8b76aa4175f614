import { closeSync, existsSync, mkdirSync, openSync, read, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync, constants } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LinuxResources, Process, Spec } from '@oci/runtime-spec';
import { RuntimeError } from './errors.js';
import { loadBundle } from './config.js';
import { checkLsm } from './lsm.js';
import { planCreate, planExec, seccompListenerLine, serializePlan, CAPABILITIES } from './plan.js';
import type { PlanLine } from './plan.js';
import { applyResources, cgroupWarmFile, cgroupLayout, cgroupLayoutInputs, deviceRules, cgroupPaths, cgroupPids, cgroupStats, createCgroups, destroyCgroups, freeze } from './cgroups.js';
import { DEFAULT_ROOT, ensureRoot, isAlive, listIds, ownerOf, procStat, publicState, readStored, removeStateDir, stateDir, statusOf, writeState } from './state.js';
import type { ContainerState, StoredState } from './state.js';
import { runHooks, runHooksWarn } from './hooks.js';
import { lookupUser } from './users.js';
import { launchHelper, writeInBackground } from './helper-process.js';
import { fileStamp, fnv1a64, plainPath, REPLAY_BUNDLE, REPLAY_ID, stateParts, writeRecording } from './replay.js';
import type { Recording } from './replay.js';
import type { Helper, StdioSpec } from './helper-process.js';

/** Path of the compiled C helper (built by `make` in native/ at install/build time). */
export function helperPath(): string {
  return fileURLToPath(new URL('../native/oci-runtime-init', import.meta.url));
}

export interface CommonOptions {
  /** state directory root, default /run/oci-runtime */
  root?: string;
  /**
   * Called with each step of create/run/exec (bundle, cgroups, plan, the helper's namespaces, mounts, pivot_root,
   * execve...; what `oci-runtime --debug` logs). Process arguments and environment values are not included.
   */
  onDebug?: (message: string) => void;
}

export interface CreateOptions extends CommonOptions {
  bundle?: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** pass fds 3 .. 3+N-1 of this process to the container */
  preserveFds?: number;
  /** stdio for the container process (default: inherit ours) */
  stdio?: [StdioSpec, StdioSpec, StdioSpec];
  /** warnings (unknown capabilities, ...) */
  onWarning?: (message: string) => void;
  /**
   * Record this `create` or `run` under ROOT/@run-plans for the CLI's native front end, which can then do the same
   * without Node (docs/runtime.md, "Replayed runs"). Only as root, without hooks, terminal, console socket,
   * preserved fds, debug, LSM labels or warnings. `stamps`: files whose change must retire the recording (the
   * caller's own code; the helper is always one).
   */
  record?: { stamps: readonly string[] };
  /**
   * Rootless mode (runc's --rootless): cgroups that cannot be created for lack of permission are skipped (an
   * error only when the config asks for resource limits), and a new user namespace denies setgroups so that an
   * unprivileged runtime may write its gid map. 'auto' (default): rootless when not running as root.
   */
  rootless?: boolean | 'auto';
  /**
   * Aborts the operation: fails fast if already aborted; while the container is being created, the helper
   * and the container's process are killed and everything created is removed; `run` in the foreground kills
   * the container (SIGKILL) and cleans up as after its exit. Rejects with `signal.reason`.
   */
  signal?: AbortSignal;
}

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  keep?: boolean;
  /** called with the container pid once it runs (foreground: forward signals to it) */
  onStart?: (pid: number) => void;
}

const root = (o: CommonOptions) => resolve(o.root ?? DEFAULT_ROOT);

/** Whether the user namespace of process `pid` denies setgroups (/proc/PID/setgroups). */
function setgroupsDenied(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim() === 'deny';
  } catch {
    return false;
  }
}

/* ------------------------------------------------------------------ the helper and its sync socket */

/**
 * After a failed create: close our end of the socket (a helper still waiting for its plan or for an answer
 * exits at end-of-file) and wait for it to be gone, killing it after 2 s, so that nothing is left behind,
 * not even a zombie for init to reap.
 */
async function reapHelper(helper: Helper): Promise<void> {
  helper.close();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 2000)));
  if ((await Promise.race([helper.exited, late])) === 'late') {
    helper.kill();
    await helper.exited;
  }
  clearTimeout(timer);
}

/** Starts the helper; it waits for its plan (sendPlan), so that its own start overlaps our planning. */
function startHelper(stdio: [StdioSpec, StdioSpec, StdioSpec], preserve: number): Helper {
  const bin = helperPath();
  if (!existsSync(bin))
    throw new RuntimeError('ERR_HELPER_MISSING', `the runtime helper ${bin} is not built`, { hint: `run \`make -C ${dirname(bin)}\` (needs gcc, make and libseccomp-dev)` });
  try {
    return launchHelper(bin, stdio, preserve);
  } catch (err) {
    throw new RuntimeError('ERR_HELPER_MISSING', `cannot start the runtime helper ${bin}: ${(err as Error).message}`, { cause: err, hint: `rebuild it: \`make -C ${dirname(bin)}\`` });
  }
}

/** Sends the plan; returns its text. */
function sendPlan(helper: Helper, plan: PlanLine[]): string {
  // the helper moves the container into its cgroups right after clone(): start the grace period it waits for now
  if (plan.some((l) => l[0] === 'cgroup')) {
    const warm = cgroupWarmFile();
    if (warm) writeInBackground(warm, String(process.pid));
  }
  const text = serializePlan(plan);
  helper.plan(text);
  return text;
}

function launch(plan: PlanLine[], stdio: [StdioSpec, StdioSpec, StdioSpec], preserve: number): Helper {
  const helper = startHelper(stdio, preserve);
  sendPlan(helper, plan);
  return helper;
}

/* ------------------------------------------------------------------ cancellation */

/** Calls `fn` once when `signal` aborts; returns the function that removes the listener. */
function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => {};
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}

/* ------------------------------------------------------------------ signals */

const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13,
  ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25,
  VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

/** SIGTERM, TERM, term, 15, RTMIN+3 -> number; ERR_INVALID_SIGNAL otherwise. */
export function signalNumber(sig: string | number): number {
  if (typeof sig === 'number') return sig;
  if (/^\d+$/.test(sig)) {
    const n = Number(sig);
    if (n > 0 && n <= 64) return n;
  }
  let s = sig.toUpperCase();
  if (s.startsWith('SIG')) s = s.slice(3);
  const m = /^RTMIN(?:\+(\d+))?$/.exec(s) ?? /^RTMAX(?:-(\d+))?$/.exec(s);
  if (m) return s.startsWith('RTMIN') ? 34 + Number(m[1] ?? 0) : 64 - Number(m[1] ?? 0);
  const n = SIGNALS[s];
  if (n === undefined) throw new RuntimeError('ERR_INVALID_SIGNAL', `unknown signal "${sig}"`, { hint: 'use a name like SIGTERM or KILL, or a number' });
  return n;
}

/* ------------------------------------------------------------------ create / run */

/**
 * The recording of a run (replay.ts), made independent of the container id and, when it is a plain path, of the
 * bundle directory: everything that names them is made again for stand-ins (REPLAY_ID, REPLAY_BUNDLE), computed as
 * Node computes them for any id or bundle, and the recording is kept only if putting the real ones back gives
 * exactly this run (else the bundle is tried as part of the key; else nothing is recorded). The front end puts its
 * own id and bundle in place of the stand-ins.
 */
function recordingOf(a: {
  root: string; o: RunOptions; mode: 'create' | 'run' | 'run-detached'; text: string; kcore: boolean; stamps: readonly string[];
  /** the passwd text HOME came from (null: none), undefined when the config sets HOME */
  home: string | null | undefined;
  stored: StoredState; cgroupOps: string[][]; planText: string;
  planFor: (cid: string, map: (path: string) => string, unknownCaps: string[], at: { bundle: string; rootfs: string }) => PlanLine[];
}): Recording | undefined {
  // `..` in config.json (a mount source, root.path) could leave a bundle stand-in behind: the bundle is then keyed
  const anyBundle = plainPath(a.stored.bundle) && !a.text.includes('..');
  return (anyBundle ? recordingFor(a, true) : undefined) ?? recordingFor(a, false);
}

function recordingFor(a: Parameters<typeof recordingOf>[0], anyBundle: boolean): Recording | undefined {
  const { root: r, o, stored } = a;
  const { id, bundle } = stored;
  const real = stored.cgroupPaths;
  const stand = cgroupPaths(REPLAY_ID, stored.spec.linux?.cgroupsPath);
  const map = (x: string): string => {
    for (const [c, d] of Object.entries(real)) if (x === d || x.startsWith(d + '/')) return stand[c] + x.slice(d.length);
    return x;
  };
  const b = anyBundle ? REPLAY_BUNDLE : bundle;
  // as loadBundle does for bundle B
  const rootPath = stored.spec.root!.path;
  const rootfs = isAbsolute(rootPath) ? rootPath : join(b, rootPath);
  const standIn = { ...stored, id: REPLAY_ID, bundle: b, rootfs, cgroupPaths: stand };
  const state = stateParts(standIn);
  const plan = serializePlan(a.planFor(REPLAY_ID, map, [], { bundle: b, rootfs }));
  const ops = a.cgroupOps.map((l) => l.map(map));
  const back = (x: string) => x.split(REPLAY_ID).join(id).split(REPLAY_BUNDLE).join(bundle);
  const join0 = (l: string[][]) => l.map((x) => x.join(' ')).join('\n');
  // the real run's state.json but its pid, start time and creation time (which hold no stand-in)
  const realState = (stateParts(stored) ?? []).join('');
  const realTexts = [a.planText, realState, join0(a.cgroupOps)];
  if (!state || back(plan) !== a.planText || back(state.join('')) !== realState || back(join0(ops)) !== join0(a.cgroupOps)
    || (id !== REPLAY_ID && realTexts.some((t) => t.includes(REPLAY_ID))) || realTexts.some((t) => t.includes(REPLAY_BUNDLE)))
    return undefined;
  const inputs = [
    ...[...a.stamps, helperPath()].map((f) => ['stat', f, fileStamp(f)]),
    ['file', join(b, 'config.json'), a.text],
    ['dir', rootfs],
    ['exists', '/proc/kcore', a.kcore ? '1' : '0'],
    ...cgroupLayoutInputs(),
  ];
  if (a.home !== undefined) inputs.push(a.home === null ? ['in-root-absent', rootfs, 'etc/passwd'] : ['in-root', rootfs, 'etc/passwd', a.home]);
  return {
    key: {
      command: a.mode === 'run-detached' ? 'run -d' : a.mode, root: r, bundle: anyBundle ? '*' : bundle, config: fnv1a64(a.text), pidFile: o.pidFile ? resolve(o.pidFile) : '',
      noPivot: o.noPivot === true, noNewKeyring: o.noNewKeyring === true, keep: o.keep === true,
    },
    inputs, helper: helperPath(), stateDir: stateDir(r, REPLAY_ID), state, cgroupOps: ops, cgroupDirs: Object.values(stand), plan,
  };
}

/** Whether a create or run may be recorded for the native front end (CreateOptions.record): what run.c does not do is left out. */
function recordable(spec: Spec, o: RunOptions, rootless: boolean): boolean {
  const p = spec.process;
  return !rootless && process.geteuid?.() === 0 && !o.consoleSocket && !o.preserveFds && !o.stdio && !o.onDebug && !o.signal
    && p?.terminal !== true && p?.apparmorProfile === undefined && p?.selinuxLabel === undefined && spec.linux?.mountLabel === undefined
    && !Object.values(spec.hooks ?? {}).some((h) => Array.isArray(h) && h.length > 0);
}

function hostHasKcore(): boolean {
  return existsSync('/proc/kcore');
}

function stateJson(s: StoredState, status: string): string {
  const o: Record<string, unknown> = { ociVersion: s.spec.ociVersion, id: s.id, status, pid: s.pid, bundle: s.bundle };
  if (s.spec.annotations) o['annotations'] = s.spec.annotations;
  return JSON.stringify(o);
}

function writePidFile(file: string | undefined, pid: number): void {
  if (!file) return;
  const p = resolve(file);
  const tmp = join(dirname(p), `.${process.pid}.pid.tmp`);
  writeFileSync(tmp, String(pid));
  renameSync(tmp, p);
}

interface Created {
  stored: StoredState;
  dir: string;
  helper: Helper;
  /** what `create` or `run` writes for the native front end once the container is made (CreateOptions.record) */
  recording?: (() => Recording | undefined) | undefined;
}

async function doCreate(id: string, o: RunOptions, mode: 'create' | 'run' | 'run-detached'): Promise<Created> {
  o.signal?.throwIfAborted();
  const r = root(o);
  const dir = stateDir(r, id);
  const { spec, bundle, rootfs, text } = loadBundle(o.bundle ?? '.');
  checkLsm(spec.process, spec.linux?.mountLabel);
  const debug = o.onDebug;
  debug?.(`bundle ${bundle}: config.json ociVersion ${spec.ociVersion}, rootfs ${rootfs}, ${spec.mounts?.length ?? 0} mounts, namespaces ${(spec.linux?.namespaces ?? []).map((n) => n.path ? `${n.type}=${n.path}` : n.type).join(',') || 'none'}`);
  const terminal = spec.process?.terminal === true;
  const foreground = mode === 'run';
  if (terminal && !o.consoleSocket && !foreground)
    throw new RuntimeError('ERR_INVALID_ARGUMENT', 'cannot allocate tty if the runtime will detach without setting console socket', { hint: 'pass --console-socket PATH, or set process.terminal to false' });
  if (!terminal && o.consoleSocket)
    throw new RuntimeError('ERR_INVALID_ARGUMENT', 'cannot use console socket if the runtime will not detach or allocate tty', { hint: 'drop --console-socket, or set process.terminal to true' });
  ensureRoot(r);
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError('ERR_CONTAINER_EXISTS', `container with id exists: ${id}`, { id, hint: `delete it first: oci-runtime delete ${id}` });
    throw err;
  }
  let cgPaths: Record<string, string> = {};
  let helper: Helper | undefined;
  let recording: (() => Recording | undefined) | undefined;
  let disposeAbort = () => {};
  const stored: StoredState = { id, pid: 0, pidStart: '', bundle, rootfs, created: new Date().toISOString(), cgroupPaths: {}, namespaces: (spec.linux?.namespaces ?? []).map((n) => n.type), spec };
  try {
    // started now, it execs (twice: the sealed memfd copy) and loads while we write the state, create the
    // cgroups and plan; it waits for the plan, and exits at end-of-file if we fail before sending it
    helper = startHelper(o.stdio ?? ['inherit', 'inherit', 'inherit'], o.preserveFds ?? 0);
    writeState(dir, stored);
    cgPaths = cgroupPaths(id, spec.linux?.cgroupsPath);
    stored.cgroupPaths = cgPaths;
    const rootless = o.rootless === undefined || o.rootless === 'auto' ? process.geteuid?.() !== 0 : o.rootless;
    const layout = cgroupLayout();
    const record = o.record && recordable(spec, o, rootless) ? o.record : undefined;
    const cgroupOps: string[][] = [];
    const procs = createCgroups(cgPaths, spec.linux?.resources, layout, spec.linux?.devices ?? [], { rootless, ...(record ? { note: cgroupOps } : {}) });
    debug?.(`cgroups ${layout.version}: ${procs.map((f) => dirname(f)).join(' ') || 'none'}`);
    // only the cgroups that exist are mounted in (a rootless container may have skipped some)
    const created = new Set(procs.map((f) => dirname(f)));
    const warnings: string[] = [];
    const p = spec.process;
    const user = p ? lookupUser(rootfs, p.user?.uid ?? 0) : { home: '/', passwd: undefined };
    const kcore = hostHasKcore();
    const hierarchies: Record<string, string> = {};
    for (const c of Object.keys(cgPaths))
      if (created.has(cgPaths[c]!) && (c !== 'unified' || layout.version === 'v2')) hierarchies[layout.version === 'v2' ? '' : c] = cgPaths[c]!;
    // the plan for container CID whose cgroup directories are ours mapped by MAP (replay.ts plans for a stand-in id too)
    const planFor = (cid: string, map: (path: string) => string, unknownCaps: string[], at = { bundle, rootfs }) => planCreate(spec, {
      id: cid,
      debug: debug !== undefined,
      rootfs: at.rootfs,
      bundle: at.bundle,
      ...(mode === 'create' ? { fifo: join(stateDir(r, cid), 'exec.fifo') } : {}),
      ...(o.consoleSocket ? { consoleSocket: resolve(o.consoleSocket) } : {}),
      foreground,
      noPivot: o.noPivot === true,
      ...(o.noNewKeyring ? {} : { keyring: cid }),
      preserveFds: o.preserveFds ?? 0,
      cgroupProcs: procs.map(map),
      cgroupMount: { hierarchies: Object.fromEntries(Object.entries(hierarchies).map(([k, v]) => [k, map(v)])) },
      // v2 has no devices controller: the same rules as an eBPF filter on the container's cgroup (not rootless:
      // loading one needs CAP_BPF/CAP_SYS_ADMIN, and runc skips device rules there too)
      deviceFilter: layout.version === 'v2' && !rootless && cgPaths['unified'] && created.has(cgPaths['unified'])
        ? { cgroup: map(cgPaths['unified']), rules: deviceRules(spec.linux?.resources, spec.linux?.devices ?? []) } : undefined,
      hostHasKcore: kcore,
      home: user.home,
      warnings: unknownCaps,
      // an unprivileged runtime may write a gid map only after denying setgroups (user_namespaces(7))
      setgroupsDeny: rootless && (spec.linux?.namespaces ?? []).some((n) => n.type === 'user' && !n.path),
    });
    const plan = planFor(id, (x) => x, warnings);
    for (const w of warnings) o.onWarning?.(`unknown capability ${w} ignored`);
    o.signal?.throwIfAborted();
    debug?.(`state ${dir}; helper ${helper.pid}: plan of ${plan.length} lines`);
    const planText = sendPlan(helper, plan);
    // an abort kills the helper: its socket closes, the loop below sees the abort and the catch cleans up
    const h = helper;
    disposeAbort = onAbort(o.signal, () => {
      h.kill();
      if (stored.pid) try { process.kill(stored.pid, 'SIGKILL'); } catch { /* gone */ }
    });
    for (;;) {
      const [k, v] = await helper.next();
      o.signal?.throwIfAborted();
      if (k === 'debug') {
        debug?.(v);
      } else if (k === 'pid') {
        stored.pid = Number(v);
        stored.pidStart = procStat(stored.pid)?.start ?? '';
        writeState(dir, stored);
      } else if (k === 'hooks') {
        debug?.('hooks prestart, createRuntime');
        const st = stateJson(stored, 'creating');
        try {
          runHooks('prestart', spec.hooks?.prestart, st);
          runHooks('createRuntime', spec.hooks?.createRuntime, st);
        } catch (err) {
          helper.send('abort');
          throw err;
        }
        helper.send('ok ' + encodeURIComponent(st));
      } else if (k === 'ready') {
        debug?.(`container ${id} created: pid ${stored.pid}`);
        if (record && warnings.length === 0) {
          // HOME comes from the rootfs's /etc/passwd unless the config sets it
          const home = p && !(p.env ?? []).some((e) => e.startsWith('HOME=')) ? user.passwd ?? null : undefined;
          const made = { ...stored };
          recording = () => recordingOf({ root: r, o, mode, text, kcore, home, stamps: record.stamps, stored: made, cgroupOps, planText, planFor });
        }
        break;
      } else if (k === 'error') {
        throw new RuntimeError('ERR_CREATE_FAILED', `unable to start container process: ${v}`, { id, hint: 'see the message; nothing of the container was left behind' });
      } else if (k === 'eof') {
        throw new RuntimeError('ERR_CREATE_FAILED', 'container init exited before it was ready', { id, hint: 'run with --debug and check the container configuration' });
      }
    }
    writePidFile(o.pidFile, stored.pid);
    disposeAbort();
    return { stored, dir, helper, recording };
  } catch (err) {
    disposeAbort();
    if (stored.pid) {
      try { process.kill(stored.pid, 'SIGKILL'); } catch { /* gone */ }
      await waitDead(stored, 2000);
    }
    // the helper may have cloned the init and put it in the container's cgroups before we read its pid (an
    // abort kills the helper first): kill the members still running the helper's own code (comm of its memfd
    // re-exec); anything else in a cgroup the config shares with others is left alone
    for (const pid of cgroupPids(cgPaths)) {
      if (pid > 0 && pid !== stored.pid && procStat(pid)?.comm === 'memfd:oci-runti') try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (helper) await reapHelper(helper);
    destroyCgroups(cgPaths);
    removeStateDir(dir);
    throw err;
  }
}

/** Writes what `create` or `run` recorded for the native front end; never a reason for them to fail. */
function keepRecording(r: string, c: Created): void {
  if (!c.recording) return;
  let rec: Recording | undefined;
  try {
    rec = c.recording();
  } catch {
    /* not recorded */
  }
  if (rec) writeRecording(r, rec);
}

/** `create`: set the container up and leave its process waiting for `start`. */
export async function create(id: string, o: CreateOptions = {}): Promise<ContainerState> {
  const c = await doCreate(id, o, 'create');
  c.helper.close();
  c.helper.unref();
  keepRecording(root(o), c);
  return publicState(c.dir, c.stored);
}

/** `start`: let a created container execute its process. */
export async function start(id: string, o: CommonOptions & { onWarning?: (message: string) => void } = {}): Promise<void> {
  const r = root(o);
  const s = readStored(r, id);
  const dir = stateDir(r, id);
  const status = statusOf(dir, s);
  if (status !== 'created') {
    throw new RuntimeError('ERR_CONTAINER_NOT_CREATED', status === 'stopped' ? 'cannot start a container that has stopped' : 'cannot start an already running container', { id, hint: 'only a created container can be started' });
  }
  const fifo = join(dir, 'exec.fifo');
  await takeStartByte(fifo, s, id);
  unlinkSync(fifo);
  runHooksWarn('poststart', s.spec.hooks?.poststart, stateJson(s, 'running'), o.onWarning);
}

/**
 * Lets the init go and waits for its byte on the exec fifo (the init opens the fifo for writing, which blocks
 * until a reader opens it, then writes one byte '0' and goes on to exec the container's process).
 * The fifo is opened read-write: with a writer of our own, read() blocks until the byte arrives rather than
 * returning end-of-file while the init has not yet opened its end. The read blocks a libuv thread, not the
 * event loop; a timer checks that the init still lives, and if it died, a byte of our own ('x') ends the read.
 */
function takeStartByte(fifo: string, s: StoredState, id: string): Promise<void> {
  const fd = openSync(fifo, constants.O_RDWR);
  return new Promise<void>((res, rej) => {
    let failure: RuntimeError | undefined;
    const wake = (err: RuntimeError) => {
      failure = err;
      clearInterval(timer);
      try { writeSync(fd, 'x'); } catch { /* the read ends anyway */ }
    };
    const began = Date.now();
    const timer = setInterval(() => {
      if (!isAlive(s)) wake(new RuntimeError('ERR_CONTAINER_NOT_CREATED', 'cannot start a container that has stopped', { id }));
      else if (Date.now() - began > 20_000) wake(new RuntimeError('ERR_CONTAINER_NOT_CREATED', 'container did not take the start signal', { id }));
    }, 10);
    const b = Buffer.alloc(1);
    read(fd, b, 0, 1, null, (err, n) => {
      clearInterval(timer);
      closeSync(fd);
      if (err) rej(err);
      // the init's byte wins over a failure seen meanwhile (it may have exec'd and exited already)
      else if (n === 1 && b[0] === 0x30) res();
      else rej(failure ?? new RuntimeError('ERR_CONTAINER_NOT_CREATED', 'container did not take the start signal', { id }));
    });
  });
}

/** `run`: create and start; in the foreground wait and resolve with the exit code (128+N for signal N). */
export async function run(id: string, o: RunOptions = {}): Promise<number> {
  const c = await doCreate(id, o, o.detach ? 'run-detached' : 'run');
  const { stored, dir, helper } = c;
  // detached: this process may exit right after; the container must have its "start" by then
  o.onDebug?.(`starting container ${id}`);
  if (o.detach) await helper.finish('start');
  else helper.send('start');
  // made and written while the container runs, not before it may
  keepRecording(root(o), c);
  runHooksWarn('poststart', stored.spec.hooks?.poststart, stateJson(stored, 'running'), o.onWarning);
  if (o.detach) {
    helper.unref();
    return 0;
  }
  o.onStart?.(stored.pid);
  let aborted = false;
  const disposeAbort = onAbort(o.signal, () => {
    aborted = true;
    try { process.kill(stored.pid, 'SIGKILL'); } catch { /* gone */ }
  });
  let code: number;
  try {
    code = await helper.exited;
  } finally {
    disposeAbort();
  }
  o.onDebug?.(`container ${id} exited with status ${code}${!o.keep || aborted ? '; removing its cgroups and state' : ''}`);
  if (!o.keep || aborted) await cleanup(stored, dir, o.onWarning);
  if (aborted) throw o.signal!.reason;
  return code;
}

/** Waits until the init is gone (or a zombie), up to `ms`, polling /proc once a millisecond without blocking the event loop. */
async function waitDead(s: StoredState, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(s)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 1));
  }
  return true;
}

async function cleanup(s: StoredState, dir: string, onWarning?: (m: string) => void): Promise<void> {
  destroyCgroups(s.cgroupPaths);
  try {
    runHooksWarn('poststop', s.spec.hooks?.poststop, stateJson(s, 'stopped'), onWarning);
  } finally {
    removeStateDir(dir);
  }
}

/* ------------------------------------------------------------------ queries */

export function state(id: string, o: CommonOptions = {}): ContainerState {
  const r = root(o);
  const s = readStored(r, id);
  return publicState(stateDir(r, id), s);
}

export function list(o: CommonOptions = {}): ContainerState[] {
  const r = root(o);
  const out: ContainerState[] = [];
  for (const id of listIds(r)) {
    try {
      const dir = join(r, id);
      const st = publicState(dir, readStored(r, id));
      st.owner = ownerOf(dir);
      out.push(st);
    } catch { /* deleted meanwhile */ }
  }
  return out;
}

/** PIDs (host view) of all processes of the container. */
export function ps(id: string, o: CommonOptions = {}): number[] {
  const r = root(o);
  const s = readStored(r, id);
  return cgroupPids(s.cgroupPaths);
}

/* ------------------------------------------------------------------ signals, delete */

export interface KillOptions extends CommonOptions {
  all?: boolean;
}

export function kill(id: string, signal: string | number = 'SIGTERM', o: KillOptions = {}): void {
  const r = root(o);
  const s = readStored(r, id);
  const sig = signalNumber(signal);
  const status = statusOf(stateDir(r, id), s);
  if (status === 'stopped' || !(s.pid > 0)) throw new RuntimeError('ERR_CONTAINER_NOT_RUNNING', 'container not running', { id, hint: 'the container has stopped; delete it' });
  // never signal pid 0 or a negative pid (a process group)
  const pids = (o.all ? cgroupPids(s.cgroupPaths) : [s.pid]).filter((p) => p > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  if (o.all && status === 'paused' && (sig === 9 || sig === 15)) {
    try { freeze(s.cgroupPaths, false); } catch { /* */ }
  }
}

export interface DeleteOptions extends CommonOptions {
  force?: boolean;
  onWarning?: (message: string) => void;
}

export async function remove(id: string, o: DeleteOptions = {}): Promise<void> {
  const r = root(o);
  let s: StoredState;
  const dir = stateDir(r, id);
  try {
    s = readStored(r, id);
  } catch (err) {
    if (o.force) {
      removeStateDir(dir);
      return;
    }
    throw err;
  }
  const status = statusOf(dir, s);
  if (status === 'running' || status === 'paused') {
    if (!o.force) throw new RuntimeError('ERR_CONTAINER_NOT_STOPPED', `cannot delete container ${id} that is not stopped: ${status}`, { id, hint: 'kill it first, or use delete --force' });
    for (const pid of cgroupPids(s.cgroupPaths)) if (pid > 0) try { process.kill(pid, 'SIGKILL'); } catch { /* */ }
    if (status === 'paused') try { freeze(s.cgroupPaths, false); } catch { /* */ }
  }
  if (status !== 'stopped' && s.pid > 0) {
    try { process.kill(s.pid, 'SIGKILL'); } catch { /* gone */ }
    await waitDead(s, 5000);
  }
  await cleanup(s, dir, o.onWarning);
}

/* ------------------------------------------------------------------ pause, resume, update, stats */

export function pause(id: string, o: CommonOptions = {}): void {
  const r = root(o);
  const s = readStored(r, id);
  const st = statusOf(stateDir(r, id), s);
  if (st !== 'running' && st !== 'created') throw new RuntimeError('ERR_CONTAINER_NOT_RUNNING', 'container not running or created', { id });
  freeze(s.cgroupPaths, true);
}

export function resume(id: string, o: CommonOptions = {}): void {
  const r = root(o);
  const s = readStored(r, id);
  if (statusOf(stateDir(r, id), s) !== 'paused') throw new RuntimeError('ERR_CONTAINER_NOT_PAUSED', 'container not paused', { id });
  freeze(s.cgroupPaths, false);
}

export function update(id: string, resources: LinuxResources, o: CommonOptions = {}): void {
  const r = root(o);
  const s = readStored(r, id);
  if (statusOf(stateDir(r, id), s) === 'stopped') throw new RuntimeError('ERR_CONTAINER_NOT_RUNNING', 'container not running', { id });
  applyResources(s.cgroupPaths, resources);
  s.spec.linux = { ...(s.spec.linux ?? {}), resources: mergeResources(s.spec.linux?.resources ?? {}, resources) };
  writeState(stateDir(r, id), s);
}

function mergeResources(a: LinuxResources, b: LinuxResources): LinuxResources {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' ? { ...prev, ...v } : v;
  }
  return out as LinuxResources;
}

export function stats(id: string, o: CommonOptions = {}): Record<string, unknown> {
  const r = root(o);
  const s = readStored(r, id);
  if (statusOf(stateDir(r, id), s) === 'stopped') throw new RuntimeError('ERR_CONTAINER_NOT_RUNNING', 'container not running', { id });
  return cgroupStats(s.cgroupPaths);
}

/* ------------------------------------------------------------------ exec */

export interface ExecOptions extends CommonOptions {
  /** a full process (like --process FILE); otherwise built from the container's process and the fields below */
  process?: Process;
  args?: string[];
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  tty?: boolean;
  caps?: string[];
  noNewPrivileges?: boolean;
  /** process.apparmorProfile of the exec'd process (runc exec --apparmor; not with `process`) */
  apparmorProfile?: string;
  /** process.selinuxLabel of the exec'd process (runc exec --process-label; not with `process`) */
  selinuxLabel?: string;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  stdio?: [StdioSpec, StdioSpec, StdioSpec];
  onStart?: (pid: number) => void;
  /**
   * Aborts the exec: fails fast if already aborted; while the process is being set up the helper is killed;
   * in the foreground the process is killed (SIGKILL). Rejects with `signal.reason`.
   */
  signal?: AbortSignal;
}

export function execProcess(spec: Spec, o: ExecOptions): Process {
  if (o.process) return o.process;
  const base = spec.process ?? { cwd: '/' };
  const p: Process = { ...base, args: o.args ?? [], terminal: o.tty ?? false };
  if (o.env?.length) {
    const env = [...(base.env ?? [])];
    for (const e of o.env) {
      const k = e.split('=')[0];
      const i = env.findIndex((x) => x.split('=')[0] === k);
      if (i >= 0) env[i] = e;
      else env.push(e);
    }
    p.env = env;
  }
  if (o.cwd) p.cwd = o.cwd;
  if (o.user) p.user = { ...(base.user ?? { uid: 0, gid: 0 }), ...o.user };
  if (o.noNewPrivileges) p.noNewPrivileges = true;
  if (o.apparmorProfile) p.apparmorProfile = o.apparmorProfile;
  if (o.selinuxLabel) p.selinuxLabel = o.selinuxLabel;
  if (o.caps?.length) {
    const c = { ...(base.capabilities ?? {}) };
    for (const set of ['bounding', 'effective', 'permitted', 'ambient', 'inheritable'] as const) {
      const cur = new Set(c[set] ?? []);
      for (const cap of o.caps) cur.add(cap.startsWith('CAP_') ? cap : `CAP_${cap.toUpperCase()}`);
      c[set] = [...cur].filter((x) => (CAPABILITIES as readonly string[]).includes(x));
    }
    p.capabilities = c;
  }
  return p;
}

/** `exec`: run another process in a running container. Foreground: resolves with its exit code. */
export async function exec(id: string, o: ExecOptions): Promise<number> {
  o.signal?.throwIfAborted();
  const r = root(o);
  const s = readStored(r, id);
  const status = statusOf(stateDir(r, id), s);
  if (status === 'stopped') throw new RuntimeError('ERR_CONTAINER_NOT_RUNNING', 'cannot exec in a stopped container', { id });
  if (status === 'paused') throw new RuntimeError('ERR_CONTAINER_PAUSED', 'cannot exec in a paused container', { id, hint: 'resume it first' });
  const p = execProcess(s.spec, o);
  checkLsm(p, undefined, 'the exec\'d process');
  if (!p.args?.length) throw new RuntimeError('ERR_INVALID_ARGUMENT', 'exec needs a command', { hint: 'oci-runtime exec ID COMMAND [ARGS...]' });
  if (p.terminal && o.detach && !o.consoleSocket) throw new RuntimeError('ERR_INVALID_ARGUMENT', 'cannot allocate tty if the runtime will detach without setting console socket', { hint: 'pass --console-socket PATH' });
  const user = lookupUser(s.rootfs, p.user?.uid ?? 0);
  const procs = Object.values(s.cgroupPaths).map((d) => join(d, 'cgroup.procs')).filter((f) => existsSync(f));
  const plan = planExec(p, s.spec.linux?.seccomp, {
    pid: s.pid,
    debug: o.onDebug !== undefined,
    namespaces: s.namespaces,
    cgroupProcs: procs,
    ...(o.consoleSocket ? { consoleSocket: resolve(o.consoleSocket) } : {}),
    foreground: !o.detach,
    preserveFds: o.preserveFds ?? 0,
    home: user.home,
    // a rootless container's user namespace denies setgroups: the exec'd process must not call it either
    setgroupsDeny: setgroupsDenied(s.pid),
    // the exec'd process gets the container's seccomp profile: its notify fd goes to the listener too, as runc
    listener: seccompListenerLine(s.spec, id, s.bundle, { pid: s.pid }),
  });
  o.onDebug?.(`exec in ${id} (init ${s.pid}): namespaces ${s.namespaces.join(',')}, ${procs.length} cgroups, plan of ${plan.length} lines`);
  o.signal?.throwIfAborted();
  const helper = launch(plan, o.stdio ?? ['inherit', 'inherit', 'inherit'], o.preserveFds ?? 0);
  let pid = 0;
  // an abort kills the process (B) once its pid is known (in the foreground A reaps it and exits), else the
  // helper (A: B, blocked on A's go-ahead, then exits by itself); it resolves once both are gone
  let aborted = false;
  let victim: { pid: number; pidStart: string } | undefined;
  const disposeAbort = onAbort(o.signal, () => {
    aborted = true;
    if (pid) {
      victim = { pid, pidStart: procStat(pid)?.start ?? '' };
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (!pid || o.detach) helper.kill();
  });
  const abortedWait = async () => {
    // a B whose pid we had not read yet waits on this socket for its start: end-of-file ends it
    helper.close();
    await helper.exited;
    if (victim) await waitDead(victim as StoredState, 2000);
    throw o.signal!.reason;
  };
  try {
    return await execSteps();
  } finally {
    disposeAbort();
  }

  async function execSteps(): Promise<number> {
    for (;;) {
      const [k, v] = await helper.next();
      if (aborted) return abortedWait();
      if (k === 'debug') o.onDebug?.(v);
      else if (k === 'pid') pid = Number(v);
      else if (k === 'ready') break;
      else if (k === 'error') {
        await helper.exited;
        throw new RuntimeError('ERR_EXEC_FAILED', `exec failed: ${v}`, { id, hint: 'check the command and the options' });
      } else if (k === 'eof') throw new RuntimeError('ERR_EXEC_FAILED', 'exec failed: the process exited before it was ready', { id });
    }
    writePidFile(o.pidFile, pid);
    if (o.detach) {
      await helper.finish('start');
      helper.unref();
      return 0;
    }
    helper.send('start');
    o.onStart?.(pid);
    const code = await helper.exited;
    if (aborted) return abortedWait();
    return code;
  }
}
