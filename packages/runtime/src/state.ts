import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '@oci/runtime-spec';
import { RuntimeError } from './errors.js';
import { isFrozen } from './cgroups.js';

export const DEFAULT_ROOT = '/run/oci-runtime';

export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** What `state` prints (runc's shape). */
export interface ContainerState {
  ociVersion: string;
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
}

/** What the runtime keeps in ROOT/ID/state.json. */
export interface StoredState {
  id: string;
  pid: number;
  /** field 22 of /proc/PID/stat when the container was created: guards against pid reuse */
  pidStart: string;
  bundle: string;
  rootfs: string;
  created: string;
  cgroupPaths: Record<string, string>;
  namespaces: string[];
  spec: Spec;
}

const ID_RE = /^[\w+.-]+$/;

export function checkId(id: string): void {
  if (!id || !ID_RE.test(id) || id === '.' || id === '..' || id.length > 1024)
    throw new RuntimeError('ERR_INVALID_ID', `invalid container id ${JSON.stringify(id)}`, { hint: 'use letters, digits, "_", "+", "-" and "."' });
}

export function stateDir(root: string, id: string): string {
  checkId(id);
  return join(root, id);
}

export function writeState(dir: string, s: StoredState): void {
  const tmp = join(dir, `.state.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(s));
  renameSync(tmp, join(dir, 'state.json'));
}

export function readStored(root: string, id: string): StoredState {
  const dir = stateDir(root, id);
  try {
    return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as StoredState;
  } catch (err) {
    throw new RuntimeError('ERR_CONTAINER_NOT_FOUND', 'container does not exist', { id, hint: `no container ${id} under ${root}; see \`oci-runtime list\``, cause: err });
  }
}

/** The comm (executable name, 15 bytes at most), state letter and field 22 (starttime) of /proc/PID/stat, or undefined when gone. */
export function procStat(pid: number): { comm: string; start: string; state: string } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')), state: rest[0]!, start: rest[19]! };
  } catch {
    return undefined;
  }
}

export function isAlive(s: StoredState): boolean {
  if (!(s.pid > 0)) return false;
  const st = procStat(s.pid);
  return st !== undefined && st.start === s.pidStart && st.state !== 'Z' && st.state !== 'X';
}

export function statusOf(dir: string, s: StoredState): ContainerStatus {
  if (!s.pid) {
    // still being created, or the runtime died before the init existed: the state dir is orphaned
    // once no creating process holds it for more than a minute
    try {
      const age = Date.now() - statSync(join(dir, 'state.json')).mtimeMs;
      return age > 60_000 ? 'stopped' : 'creating';
    } catch {
      return 'stopped';
    }
  }
  if (!isAlive(s)) return 'stopped';
  if (existsSync(join(dir, 'exec.fifo'))) return 'created';
  if (isFrozen(s.cgroupPaths)) return 'paused';
  return 'running';
}

export function publicState(dir: string, s: StoredState): ContainerState {
  const status = statusOf(dir, s);
  const out: ContainerState = {
    ociVersion: s.spec.ociVersion,
    id: s.id,
    pid: status === 'stopped' ? 0 : s.pid,
    status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    owner: '',
  };
  if (s.spec.annotations && Object.keys(s.spec.annotations).length) {
    // runc's field order: annotations before owner
    delete (out as Partial<ContainerState>).owner;
    out.annotations = s.spec.annotations;
    out.owner = '';
  }
  return out;
}

export function listIds(root: string): string[] {
  try {
    return readdirSync(root).filter((n) => ID_RE.test(n) && existsSync(join(root, n, 'state.json'))).sort();
  } catch {
    return [];
  }
}

export function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o711 });
}

export function removeStateDir(dir: string): void {
  // the state directory holds only files (state.json, exec.fifo, temporary files): unlink them and remove it;
  // rmSync({ recursive }) loads its rimraf module on first use (~1.5 ms of a `delete`), kept as the fallback
  try {
    for (const name of readdirSync(dir)) unlinkSync(join(dir, name));
    rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    rmSync(dir, { recursive: true, force: true });
  }
}

export function ownerOf(dir: string): string {
  try {
    const uid = statSync(dir).uid;
    if (uid === 0) return 'root';
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
    return line ? line.split(':')[0]! : `#${uid}`;
  } catch {
    return '';
  }
}
