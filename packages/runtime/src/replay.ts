// Recorded runs. `oci-runtime run` spends most of its time starting Node; the CLI's launcher therefore starts
// native/run.c (oci-runtime-run) first, which does a run again without Node when this runtime has recorded one
// for the same command line and nothing the recording depended on has changed since; otherwise it hands the
// command to Node, which records the run for next time. See docs/runtime.md, "Replayed runs".
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeToken } from './plan.js';
import type { StoredState } from './state.js';

/** Where recordings live under the state root: a name `checkId` refuses, so no container ever meets it. */
export const REPLAY_DIR = '@run-plans';
/** Recordings kept per state root; beyond it the least recently written go. */
const KEEP = 32;
const FORMAT = 'oci-runtime-run-recording 1';

/**
 * The stand-in for the container id in a recording: a recording serves every id, the front end puts its own in
 * place of this one (in the state, the plan, the cgroup paths).
 */
export const REPLAY_ID = 'oci-runtime-replay-id.7f3a9c';
/** The stand-in for the bundle directory, when the recording serves every bundle with the same config.json. */
export const REPLAY_BUNDLE = '/oci-runtime-replay-bundle.7f3a9c';

/**
 * Whether a bundle path can be replaced by the front end as plain text: characters that JSON and the plan's tokens
 * carry as they are (runc's bundles are paths like /run/containerd/.../ID or ./bundle made absolute).
 */
export function plainPath(p: string): boolean {
  return /^\/[A-Za-z0-9._+,@=:~/-]*$/.test(p) && !p.includes(REPLAY_BUNDLE) && !p.includes(REPLAY_ID);
}

/**
 * What of the command line a recording is for (native/run.c derives the same text from its argv); not the id, and
 * not the bundle when it is a plain path (then config.json's text, by its FNV-1a hash, picks the recording).
 */
export interface ReplayKey {
  /** 'run', 'run -d' or 'create' */
  command: string;
  root: string;
  /** '*': any plain path */
  bundle: string;
  /** fnv1a64 of config.json's text */
  config: string;
  /** absolute, or '' */
  pidFile: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  keep: boolean;
}

export function replayKeyText(k: ReplayKey): string {
  const b = (x: boolean) => (x ? '1' : '0');
  return `${k.command}\nroot=${k.root}\nbundle=${k.bundle}\nconfig=${k.config}\npid-file=${k.pidFile}\nno-pivot=${b(k.noPivot)}\nno-new-keyring=${b(k.noNewKeyring)}\nkeep=${b(k.keep)}\n`;
}

/** FNV-1a (64 bits) of the UTF-8 text, 16 hex digits: a recording's file name. The file holds its whole key. */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const c of Buffer.from(text, 'utf8')) h = ((h ^ BigInt(c)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

/** A file's identity as run.c compares it: "DEV:INO:SIZE:MTIME_NS". */
export function fileStamp(file: string): string {
  const st = statSync(file, { bigint: true });
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

/**
 * state.json of a container as three parts around the values only known at run time: HEAD pid `,"pidStart":"`
 * start `"` MIDDLE created TAIL. Undefined if they would not give exactly what writeState writes.
 */
export function stateParts(s: StoredState): [string, string, string] | undefined {
  const j = JSON.stringify;
  const head = `{"id":${j(s.id)},"pid":`;
  const middle = `,"bundle":${j(s.bundle)},"rootfs":${j(s.rootfs)},"created":"`;
  const tail = `","cgroupPaths":${j(s.cgroupPaths)},"namespaces":${j(s.namespaces)},"spec":${j(s.spec)}}`;
  const whole = `${head}${s.pid},"pidStart":${j(s.pidStart)}${middle}${s.created}${tail}`;
  return whole === JSON.stringify(s) && /^\d*$/.test(s.pidStart) && j(s.created) === `"${s.created}"` ? [head, middle, tail] : undefined;
}

export interface Recording {
  key: ReplayKey;
  /**
   * What the run depended on, each checked again before a replay (any difference: Node runs instead):
   * ["file", path, text] exact contents; ["stat", path, fileStamp]; ["dir", path] is a directory;
   * ["exists", path, "0"|"1"]; ["in-root", rootfs, rel, text] / ["in-root-absent", rootfs, rel] a small
   * regular file resolved inside rootfs (users.ts); ["env", name, value] ('' when unset); ["listing", dir,
   * sorted names joined by "\n"]; ["cgroup-columns", the controller column of /proc/self/cgroup's lines].
   */
  inputs: string[][];
  /** the helper to start (its stamp is one of the inputs) */
  helper: string;
  stateDir: string;
  state: [string, string, string];
  /** what createCgroups did (its `note`) */
  cgroupOps: string[][];
  /** removed after the run, in this order (destroyCgroups) */
  cgroupDirs: string[];
  /** what the helper was sent (serializePlan) */
  plan: string;
}

/**
 * Writes a recording (atomically, root-only directory). Best effort: a run never fails for it, and the front end
 * treats a missing or unreadable recording as none.
 */
export function writeRecording(root: string, r: Recording): void {
  const lines: string[][] = [
    ['key', replayKeyText(r.key)],
    ['id', REPLAY_ID],
    ['bundle', REPLAY_BUNDLE],
    ...r.inputs.map((l) => ['input', ...l]),
    ['helper', r.helper],
    ['state-dir', r.stateDir],
    ['state', ...r.state],
    ...r.cgroupOps.map((l) => ['cgroup', ...l]),
    ...r.cgroupDirs.map((d) => ['cgroup-dir', d]),
    ['plan', r.plan],
  ];
  const text = `${FORMAT}\n${lines.map((l) => l.map(encodeToken).join(' ')).join('\n')}\nend\n`;
  try {
    const dir = join(root, REPLAY_DIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, fnv1a64(replayKeyText(r.key)));
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, file);
    prune(dir);
  } catch {
    /* no recording: the next run starts Node again */
  }
}

function prune(dir: string): void {
  const names = readdirSync(dir);
  if (names.length <= KEEP) return;
  const aged = names.map((n) => {
    try {
      return { n, t: statSync(join(dir, n)).mtimeMs };
    } catch {
      return { n, t: 0 };
    }
  }).sort((a, b) => a.t - b.t);
  for (const { n } of aged.slice(0, aged.length - KEEP)) try { unlinkSync(join(dir, n)); } catch { /* gone */ }
}
