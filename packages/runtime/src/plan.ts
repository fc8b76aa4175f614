import { isAbsolute, join, posix } from 'node:path';
import type { Hook, LinuxIDMapping, LinuxSeccomp, Mount, Process, Spec } from '@oci/runtime-spec';
import { RuntimeError } from './errors.js';
import type { DeviceRule } from './cgroups.js';
import { labelMountData } from './lsm.js';

/**
 * The plan: what the C helper (native/init.c) executes, one instruction per line, tokens separated
 * by one space, each token percent-encoded (bytes <= 0x20, '%' and >= 0x7f as %XX; a lone "%" is
 * the empty string). The last line is "end". See docs/runtime.md for every instruction.
 */
export type PlanLine = readonly (string | number | bigint)[];

const PLAIN_TOKEN = /^[\x21-\x24\x26-\x7e]+$/;

export function encodeToken(s: string): string {
  if (s === '') return '%';
  // the common case, printable ASCII without '%' or space, as is (this runs cold, before the helper can start)
  if (PLAIN_TOKEN.test(s)) return s;
  let out = '';
  const b = Buffer.from(s, 'utf8');
  for (const c of b) out += c <= 0x20 || c === 0x25 || c >= 0x7f ? '%' + c.toString(16).toUpperCase().padStart(2, '0') : String.fromCharCode(c);
  return out;
}

export function serializePlan(lines: readonly PlanLine[]): string {
  let s = '';
  for (const l of lines) s += l.map((t) => encodeToken(String(t))).join(' ') + '\n';
  return s + 'end\n';
}

// ------------------------------------------------------------------ tables

export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5, RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10, RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64, DIRSYNC: 128,
  NOSYMFOLLOW: 256, NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192, REC: 16384, SILENT: 32768,
  UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20, RELATIME: 1 << 21,
  STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;

// [set, clear]
const MOUNT_FLAGS: Record<string, [number, number]> = {
  ro: [MS.RDONLY, 0], rw: [0, MS.RDONLY], nosuid: [MS.NOSUID, 0], suid: [0, MS.NOSUID], nodev: [MS.NODEV, 0],
  dev: [0, MS.NODEV], noexec: [MS.NOEXEC, 0], exec: [0, MS.NOEXEC], sync: [MS.SYNCHRONOUS, 0], async: [0, MS.SYNCHRONOUS],
  dirsync: [MS.DIRSYNC, 0], remount: [MS.REMOUNT, 0], mand: [MS.MANDLOCK, 0], nomand: [0, MS.MANDLOCK],
  atime: [0, MS.NOATIME], noatime: [MS.NOATIME, 0], diratime: [0, MS.NODIRATIME], nodiratime: [MS.NODIRATIME, 0],
  relatime: [MS.RELATIME, 0], norelatime: [0, MS.RELATIME], strictatime: [MS.STRICTATIME, 0], nostrictatime: [0, MS.STRICTATIME],
  bind: [MS.BIND, 0], rbind: [MS.BIND | MS.REC, 0], nosymfollow: [MS.NOSYMFOLLOW, 0], symfollow: [0, MS.NOSYMFOLLOW],
  lazytime: [MS.LAZYTIME, 0], nolazytime: [0, MS.LAZYTIME], silent: [MS.SILENT, 0], loud: [0, MS.SILENT],
};
const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};
/** mount_setattr(2) attributes: MOUNT_ATTR_RDONLY, NOSUID, NODEV, NOEXEC, NOSYMFOLLOW. */
export const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, NOSYMFOLLOW: 0x200000 } as const;
// runtime-spec 1.1 recursive options, applied to the mount and every mount below it: [set, clear]
const RECURSIVE_OPTIONS: Record<string, [number, number]> = {
  rro: [MOUNT_ATTR.RDONLY, 0], rrw: [0, MOUNT_ATTR.RDONLY], rnosuid: [MOUNT_ATTR.NOSUID, 0], rsuid: [0, MOUNT_ATTR.NOSUID],
  rnodev: [MOUNT_ATTR.NODEV, 0], rdev: [0, MOUNT_ATTR.NODEV], rnoexec: [MOUNT_ATTR.NOEXEC, 0], rexec: [0, MOUNT_ATTR.NOEXEC],
  rnosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, 0], rsymfollow: [0, MOUNT_ATTR.NOSYMFOLLOW],
};
// not mount(2) data: tmpcopyup becomes a mount-copyup plan line, idmap/ridmap a mount-idmap one
const IGNORED_OPTIONS = new Set(['tmpcopyup', 'idmap', 'ridmap']);

export interface ParsedMountOptions {
  flags: number;
  propagation: number;
  data: string;
  /** mount_setattr(AT_RECURSIVE) attributes to set and clear (rro, rnosuid...). */
  recursiveSet: number;
  recursiveClear: number;
}

/** Split mount options into mount(2) flags, propagation flags and the filesystem data string. */
export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  let recursiveSet = 0;
  let recursiveClear = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = MOUNT_FLAGS[o];
    const r = RECURSIVE_OPTIONS[o];
    if (f) flags = (flags | f[0]) & ~f[1];
    else if (r) {
      recursiveSet = (recursiveSet | r[0]) & ~r[1];
      recursiveClear = (recursiveClear | r[1]) & ~r[0];
    } else if (PROPAGATION[o] !== undefined) propagation |= PROPAGATION[o];
    else if (!IGNORED_OPTIONS.has(o)) data.push(o);
  }
  return { flags, propagation, data: data.join(','), recursiveSet, recursiveClear };
}

const SECCOMP_ACT: Record<string, number> = {
  SCMP_ACT_KILL: 0, SCMP_ACT_KILL_THREAD: 0, SCMP_ACT_KILL_PROCESS: 0x80000000, SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000, SCMP_ACT_TRACE: 0x7ff00000, SCMP_ACT_LOG: 0x7ffc0000, SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};
const SECCOMP_OP: Record<string, number> = {
  SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7,
};

function seccompAction(a: string, errnoRet: number | undefined): number {
  const base = SECCOMP_ACT[a];
  if (base === undefined) throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: unknown seccomp action ${a}`, { hint: 'use one of ' + Object.keys(SECCOMP_ACT).join(', ') });
  if (a === 'SCMP_ACT_ERRNO' || a === 'SCMP_ACT_TRACE') return (base | ((errnoRet ?? 1) & 0xffff)) >>> 0;
  return base >>> 0;
}

function u64(n: number): string {
  if (n < 0 || n >= 2 ** 63) return '18446744073709551615';
  return BigInt(Math.trunc(n)).toString();
}

export function capMask(names: readonly string[] | undefined, unknown: string[] = []): bigint {
  let m = 0n;
  for (const n of names ?? []) {
    const i = (CAPABILITIES as readonly string[]).indexOf(n.startsWith('CAP_') ? n : 'CAP_' + n.toUpperCase());
    if (i < 0) unknown.push(n);
    else m |= 1n << BigInt(i);
  }
  return m;
}

// ------------------------------------------------------------------ process part (create and exec)

export interface ProcessPlanOptions {
  /** extra supplementary groups besides additionalGids (create/exec pass none: like runc, /etc/group is not consulted) */
  extraGroups?: readonly number[];
  /** HOME when process.env has none */
  home?: string;
  /** collected warnings (unknown capabilities...) */
  warnings?: string[];
  setgroupsDeny?: boolean;
  /** the helper reports its steps as "debug" messages (oci-runtime --debug) */
  debug?: boolean;
}

export function planProcess(p: Process, seccomp: LinuxSeccomp | undefined, o: ProcessPlanOptions = {}): PlanLine[] {
  const L: PlanLine[] = o.debug ? [['debug']] : [];
  const u = p.user ?? { uid: 0, gid: 0 };
  L.push(['uid', u.uid ?? 0], ['gid', u.gid ?? 0]);
  const groups = [...new Set([...(o.extraGroups ?? []), ...(u.additionalGids ?? [])])];
  if (groups.length) L.push(['groups', ...groups]);
  if (o.setgroupsDeny) L.push(['setgroups-deny']);
  L.push(['umask', '0' + (u.umask ?? 0o22).toString(8)]);
  L.push(['cwd', p.cwd || '/']);
  const env = [...(p.env ?? [])];
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${o.home ?? '/'}`);
  for (const e of env) L.push(['env', e]);
  for (const a of p.args ?? []) L.push(['arg', a]);
  if (p.terminal) L.push(['terminal']);
  if (p.noNewPrivileges) L.push(['nnp']);
  // applied by the helper at the execve (checked against the host first: lsm.ts)
  if (p.apparmorProfile) L.push(['apparmor', p.apparmorProfile]);
  if (p.selinuxLabel) L.push(['selinux', p.selinuxLabel]);
  const caps = p.capabilities;
  if (caps) {
    const unknown = o.warnings ?? [];
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const)
      L.push(['caps', set, '0x' + capMask(caps[set], unknown).toString(16)]);
  }
  for (const r of p.rlimits ?? []) {
    const n = RLIMITS[r.type];
    if (n === undefined) throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: unknown rlimit ${r.type}`, { hint: 'use one of ' + Object.keys(RLIMITS).join(', ') });
    L.push(['rlimit', n, u64(r.soft), u64(r.hard)]);
  }
  if (seccomp) L.push(...planSeccomp(seccomp));
  return L;
}

export function planSeccomp(s: LinuxSeccomp): PlanLine[] {
  const L: PlanLine[] = [['seccomp-default', seccompAction(s.defaultAction, s.defaultErrnoRet)]];
  for (const a of s.architectures ?? []) L.push(['seccomp-arch', a.replace(/^SCMP_ARCH_/, '').toLowerCase()]);
  for (const f of s.flags ?? []) L.push(['seccomp-flag', f]);
  for (const sc of s.syscalls ?? []) {
    const act = seccompAction(sc.action, sc.errnoRet);
    const args: (string | number)[] = [];
    for (const a of sc.args ?? []) {
      const op = SECCOMP_OP[a.op];
      if (op === undefined) throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: unknown seccomp operator ${a.op}`);
      args.push(a.index, op, u64(a.value), u64(a.valueTwo ?? 0));
    }
    for (const name of sc.names ?? []) L.push(['seccomp-rule', act, name, ...args]);
  }
  return L;
}

// ------------------------------------------------------------------ create plan

export interface CgroupMountInfo {
  /** controller directory name under /sys/fs/cgroup -> host path of the container's cgroup there */
  hierarchies: Record<string, string>;
}

export interface CreatePlanOptions extends ProcessPlanOptions {
  /** cgroup v2: the container's cgroup and its device rules (cgroups.ts deviceRules) */
  deviceFilter?: { cgroup: string; rules: readonly DeviceRule[] } | undefined;
  rootfs: string;
  bundle: string;
  fifo?: string;
  consoleSocket?: string;
  foreground?: boolean;
  noPivot?: boolean;
  /** name of a new session keyring for the container (runc: the container id) */
  keyring?: string;
  preserveFds?: number;
  cgroupProcs?: readonly string[];
  cgroupMount?: CgroupMountInfo;
  hostHasKcore?: boolean;
  /** the container id (for the seccomp listener's state) */
  id?: string;
}

const DEFAULT_DEVICES: [string, number, number][] = [
  ['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7], ['/dev/random', 1, 8], ['/dev/urandom', 1, 9], ['/dev/tty', 5, 0],
];

const NS_NAMES: Record<string, string> = { mount: 'mnt', network: 'net', pid: 'pid', uts: 'uts', ipc: 'ipc', user: 'user', cgroup: 'cgroup', time: 'time' };

function normDest(d: string): string {
  return posix.normalize(d.startsWith('/') ? d : '/' + d);
}

/** Compute the create plan from a checked spec. Pure: no filesystem writes. */
export function planCreate(spec: Spec, o: CreatePlanOptions): PlanLine[] {
  const L: PlanLine[] = [['mode', 'create']];
  const linux = spec.linux ?? {};
  if (o.foreground) L.push(['foreground']);
  if (o.fifo) L.push(['fifo', o.fifo]);
  if (o.consoleSocket) L.push(['console-socket', o.consoleSocket]);
  if (o.noPivot) L.push(['no-pivot']);
  if (o.keyring) L.push(['keyring', o.keyring]);
  if (o.preserveFds) L.push(['preserve', o.preserveFds]);
  const listener = seccompListenerLine(spec, o.id ?? '', o.bundle);
  if (listener) L.push(listener);
  const nss = linux.namespaces ?? [];
  const userns = nss.some((n) => n.type === 'user');
  for (const n of nss) L.push(['ns', NS_NAMES[n.type]!, n.path ?? '']);
  if (userns && !nss.find((n) => n.type === 'user')?.path) {
    for (const m of linux.uidMappings ?? []) L.push(['uidmap', m.containerID, m.hostID, m.size]);
    for (const m of linux.gidMappings ?? []) L.push(['gidmap', m.containerID, m.hostID, m.size]);
  }
  for (const [clock, off] of Object.entries(linux.timeOffsets ?? {}))
    L.push(['timens', clock, (off as { secs?: number }).secs ?? 0, (off as { nanosecs?: number }).nanosecs ?? 0]);
  for (const c of o.cgroupProcs ?? []) L.push(['cgroup', c]);
  if (o.deviceFilter) {
    // cgroup v2: the device rules as an eBPF filter the helper attaches to this cgroup before the process joins
    for (const r of o.deviceFilter.rules) L.push(['devrule', r.type, r.major, r.minor, r.access, r.allow ? 1 : 0]);
    L.push(['devfilter', o.deviceFilter.cgroup]);
  }
  if (spec.process?.oomScoreAdj !== undefined) L.push(['oom', spec.process.oomScoreAdj]);
  L.push(['rootfs', o.rootfs]);
  const prop = linux.rootfsPropagation;
  if (prop) {
    const f = PROPAGATION[prop] ?? PROPAGATION['r' + prop];
    if (f === undefined) throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: rootfsPropagation "${prop}"`);
    L.push(['rootfs-propagation', f | MS.REC]);
  }
  if (spec.root?.readonly) L.push(['readonly-root']);

  // mounts
  let devIsBind = false;
  let devMounted = false;
  for (const m of spec.mounts ?? []) {
    const dest = normDest(m.destination);
    const type = m.type ?? '';
    const opt = parseMountOptions(m.options);
    const isBind = type === 'bind' || (opt.flags & MS.BIND) !== 0;
    if (dest === '/dev') { devMounted = true; devIsBind = isBind; }
    if (type === 'cgroup' && o.cgroupMount) {
      L.push(...planCgroupMount(dest, opt, o.cgroupMount));
      continue;
    }
    const mm = m;
    const idmapped = (m.options ?? []).some((x) => x === 'idmap' || x === 'ridmap') || mm.uidMappings !== undefined || mm.gidMappings !== undefined;
    let src = m.source ?? '';
    if (idmapped) {
      // runtime-spec 1.2 idmapped mounts: the mount's own mappings, else the container's user namespace ones
      if (!isBind) throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: the idmapped mount on ${dest} must be a bind mount`, { hint: 'add "bind" or "rbind" to its options' });
      const uids = mm.uidMappings ?? (userns ? linux.uidMappings : undefined);
      const gids = mm.gidMappings ?? (userns ? linux.gidMappings : undefined);
      if (!uids?.length || !gids?.length) {
        throw new RuntimeError('ERR_INVALID_CONFIG', `invalid config.json: the idmapped mount on ${dest} has no uidMappings and gidMappings, and the container has no user namespace mappings to use`, {
          hint: 'give the mount uidMappings and gidMappings (containerID, hostID, size), or a user namespace with mappings',
        });
      }
      const enc = (ms: LinuxIDMapping[]): string => ms.map((x) => `${x.containerID} ${x.hostID} ${x.size}`).join(',');
      if (!isAbsolute(src)) src = join(o.bundle, src);
      L.push(['mount-idmap', src, dest, '', opt.flags | MS.BIND, opt.propagation, opt.data,
        (opt.flags & MS.REC) !== 0 ? 1 : 0, (m.options ?? []).includes('ridmap') ? 1 : 0, enc(uids), enc(gids)]);
    } else if (isBind) {
      if (!isAbsolute(src)) src = join(o.bundle, src);
      L.push(['mount', src, dest, '', opt.flags | MS.BIND, opt.propagation, opt.data]);
    } else {
      // tmpcopyup (tmpfs only, as runc): the image's files at DEST are copied into the new tmpfs
      const copyup = type === 'tmpfs' && (m.options ?? []).includes('tmpcopyup');
      L.push([copyup ? 'mount-copyup' : 'mount', src || type, dest, type, opt.flags, opt.propagation, labelMountData(type, opt.data, linux.mountLabel)]);
    }
    if (opt.recursiveSet !== 0 || opt.recursiveClear !== 0) L.push(['mount-attr', dest, opt.recursiveSet, opt.recursiveClear]);
  }
  // devices (runc: default devices unless /dev is bind mounted)
  const devices = new Map<string, PlanLine>();
  if (!devIsBind) {
    for (const [path, maj, min] of DEFAULT_DEVICES) devices.set(path, ['device', path, 'c', maj, min, 0o666, 0, 0, userns ? 1 : 0]);
  }
  for (const d of linux.devices ?? []) {
    const t = d.type === 'u' ? 'c' : d.type;
    devices.set(normDest(d.path), ['device', normDest(d.path), t, d.major ?? 0, d.minor ?? 0, d.fileMode ?? 0o666, d.uid ?? 0, d.gid ?? 0, userns ? 1 : 0]);
  }
  L.push(...devices.values());
  if (!devIsBind && (devMounted || true)) {
    const links: [string, string][] = [['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'], ['/proc/self/fd/1', '/dev/stdout'], ['/proc/self/fd/2', '/dev/stderr']];
    if (o.hostHasKcore) links.push(['/proc/kcore', '/dev/core']);
    for (const [t, p] of links) L.push(['symlink', t, p]);
    if ((spec.mounts ?? []).some((m) => normDest(m.destination) === '/dev/pts')) L.push(['symlink', 'pts/ptmx', '/dev/ptmx']);
  }
  const hooks = spec.hooks ?? {};
  const hasHooks = ['prestart', 'createRuntime', 'createContainer', 'startContainer'].some((k) => (hooks[k as keyof typeof hooks]?.length ?? 0) > 0);
  if (hasHooks) L.push(['hooks-sync']);
  for (const h of hooks.createContainer ?? []) L.push(hookLine('createContainer', h));
  for (const h of hooks.startContainer ?? []) L.push(hookLine('startContainer', h));
  if (spec.hostname !== undefined && nss.some((n) => n.type === 'uts')) L.push(['hostname', spec.hostname]);
  if (spec.domainname !== undefined && nss.some((n) => n.type === 'uts')) L.push(['domainname', spec.domainname]);
  for (const [k, v] of Object.entries(linux.sysctl ?? {})) L.push(['sysctl', k, v]);
  for (const p of linux.readonlyPaths ?? []) L.push(['readonly', p]);
  for (const p of linux.maskedPaths ?? []) L.push(['masked', p]);
  if (linux.personality) {
    const dom = linux.personality.domain;
    L.push(['personality', dom === 'LINUX32' ? 8 : 0]);
  }
  if (spec.process) L.push(...planProcess(spec.process, linux.seccomp, o));
  return L;
}

function hookLine(phase: string, h: Hook): PlanLine {
  const args = h.args ?? [];
  return ['hook', phase, h.timeout ?? 0, args.length, h.path, ...args, ...(h.env ?? [])];
}

function planCgroupMount(dest: string, opt: ParsedMountOptions, info: CgroupMountInfo): PlanLine[] {
  const L: PlanLine[] = [];
  const base = opt.flags & ~(MS.RDONLY | MS.BIND | MS.REC);
  L.push(['mount', 'tmpfs', dest, 'tmpfs', base, 0, 'mode=755']);
  for (const [ctrl, host] of Object.entries(info.hierarchies)) {
    L.push(['mount', host, posix.join(dest, ctrl), '', MS.BIND | MS.REC | (opt.flags & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC)), 0, '']);
  }
  // like runc on cgroup v1: the tmpfs stays writable, each hierarchy is bound read-only
  return L;
}

// ------------------------------------------------------------------ exec plan

export interface ExecPlanOptions extends ProcessPlanOptions {
  pid: number;
  namespaces: readonly string[];
  cgroupProcs?: readonly string[];
  consoleSocket?: string;
  foreground?: boolean;
  preserveFds?: number;
  /** the seccomp-listener line (seccompListenerLine) when the container's profile has a listener */
  listener?: PlanLine | undefined;
}

/**
 * linux.seccomp.listenerPath: the runtime-spec ContainerProcessState sent with the seccomp notify fd. `pid` is the
 * process's host pid (the helper writes it in for @PID@); `state` is the container's: for create, "creating" with
 * that same pid; for an exec'd process, as runc 1.1 sends it, the running container with its init's pid.
 */
export function seccompListenerLine(spec: Spec, id: string, bundle: string, running?: { pid: number }): PlanLine | undefined {
  const seccomp = spec.linux?.seccomp;
  if (!seccomp?.listenerPath) return undefined;
  const state = {
    ociVersion: spec.ociVersion, fds: ['seccompFd'], pid: '@PID@', metadata: seccomp.listenerMetadata ?? '',
    state: {
      ociVersion: spec.ociVersion, id, status: running ? 'running' : 'creating', pid: running ? running.pid : '@PID@', bundle,
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
    },
  };
  return ['seccomp-listener', seccomp.listenerPath, JSON.stringify(state).replace(/"@PID@"/g, '@PID@')];
}

export function planExec(p: Process, seccomp: LinuxSeccomp | undefined, o: ExecPlanOptions): PlanLine[] {
  const L: PlanLine[] = [['mode', 'exec']];
  if (o.foreground) L.push(['foreground']);
  if (o.consoleSocket) L.push(['console-socket', o.consoleSocket]);
  if (o.preserveFds) L.push(['preserve', o.preserveFds]);
  if (o.listener) L.push(o.listener);
  for (const t of o.namespaces) L.push(['ns', NS_NAMES[t] ?? t, `/proc/${o.pid}/ns/${NS_NAMES[t] ?? t}`]);
  for (const c of o.cgroupProcs ?? []) L.push(['cgroup', c]);
  if (p.oomScoreAdj !== undefined) L.push(['oom', p.oomScoreAdj]);
  L.push(...planProcess(p, seccomp, o));
  return L;
}

export type { Mount };
