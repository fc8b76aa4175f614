import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { LINUX_CAPABILITIES } from './constants.js';
import type { ValidationIssue } from './errors.js';
import type { LinuxIDMapping, LinuxNamespaceType, Spec } from './types.js';

export interface CheckOptions {
  /** The bundle directory: when given, `root.path` (relative to it) must be an existing directory. */
  bundle?: string;
}

export interface CheckResult {
  /** False when `errors` is not empty. */
  valid: boolean;
  /** What a Linux runtime must refuse (the spec says MUST, or the kernel would fail half way). */
  errors: ValidationIssue[];
  /** What runc accepts but is probably a mistake (unknown capabilities, relative mount destinations...). */
  warnings: ValidationIssue[];
}

/** The RLIMIT_ names Linux knows. */
export const RLIMIT_TYPES: readonly string[] = Object.freeze([
  'RLIMIT_AS', 'RLIMIT_CORE', 'RLIMIT_CPU', 'RLIMIT_DATA', 'RLIMIT_FSIZE', 'RLIMIT_LOCKS', 'RLIMIT_MEMLOCK',
  'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_NOFILE', 'RLIMIT_NPROC', 'RLIMIT_RSS', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
  'RLIMIT_SIGPENDING', 'RLIMIT_STACK',
]);

const KNOWN_CAPS = new Set(LINUX_CAPABILITIES);
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

function idMapped(id: number, maps: readonly LinuxIDMapping[]): boolean {
  return maps.some((m) => id >= m.containerID && id < m.containerID + m.size);
}

/**
 * Semantic checks of a schema-valid config for a Linux runtime, beyond what JSON Schema can say: absolute
 * paths (cwd, hooks, namespaces, masked/readonly paths, devices), duplicate namespaces/rlimits/devices,
 * user-namespace mappings, hostname/sysctl/timeOffsets needing their namespaces, rlimit names and soft <= hard,
 * device numbers, seccomp errnoRet/listenerPath/arg index rules, and (with `bundle`) the root directory.
 * Pure apart from the optional stat of the root. Call validateSpec first: this assumes the schema holds.
 */
export function checkSpec(spec: Spec, options: CheckOptions = {}): CheckResult {
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const err = (path: string, message: string): void => void errors.push({ path, message });
  const warn = (path: string, message: string): void => void warnings.push({ path, message });
  const linux = spec.linux ?? {};

  // root
  if (!spec.root) err('/root', 'is required on Linux');
  else if (options.bundle !== undefined) {
    const dir = resolve(options.bundle, spec.root.path);
    let ok = false;
    try {
      ok = statSync(dir).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok) err('/root/path', `${dir} is not a directory`);
  }

  // process
  const p = spec.process;
  if (p) {
    if (!p.cwd.startsWith('/')) err('/process/cwd', 'must be an absolute path');
    if (!p.args || p.args.length === 0) err('/process/args', 'must name the program to run (at least one entry)');
    p.env?.forEach((e, i) => {
      if (e.indexOf('=') <= 0) warn(`/process/env/${i}`, 'is not NAME=value');
    });
    const seen = new Set<string>();
    p.rlimits?.forEach((r, i) => {
      if (!RLIMIT_TYPES.includes(r.type)) err(`/process/rlimits/${i}/type`, `${r.type} is not a Linux resource limit`);
      if (seen.has(r.type)) err(`/process/rlimits/${i}/type`, `${r.type} is set twice`);
      seen.add(r.type);
      if (r.soft > r.hard) err(`/process/rlimits/${i}/soft`, `must not exceed hard (${r.hard})`);
    });
    const caps = p.capabilities;
    if (caps) {
      for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
        caps[set]?.forEach((c, i) => {
          if (!KNOWN_CAPS.has(c)) warn(`/process/capabilities/${set}/${i}`, `${c} is not a known capability (runc ignores it)`);
        });
      }
      // runc's own default lists ambient caps without an inheritable set (and ignores the failing raise); warn
      // only when the config states an inheritable set that leaves them out.
      if (caps.inheritable) caps.ambient?.forEach((c, i) => {
        if (!caps.permitted?.includes(c) || !caps.inheritable?.includes(c)) {
          warn(`/process/capabilities/ambient/${i}`, `${c} is not both permitted and inheritable, so it cannot be ambient`);
        }
      });
    }
    if (p.consoleSize && p.terminal !== true) warn('/process/consoleSize', 'has no effect without terminal: true');
  }

  // namespaces
  const ns = new Map<LinuxNamespaceType, string | undefined>();
  linux.namespaces?.forEach((n, i) => {
    if (ns.has(n.type)) err(`/linux/namespaces/${i}/type`, `${n.type} namespace is listed twice`);
    ns.set(n.type, n.path);
    if (n.path !== undefined && n.path !== '' && !isAbsolute(n.path)) err(`/linux/namespaces/${i}/path`, 'must be an absolute path');
  });
  const newNs = (t: LinuxNamespaceType): boolean => ns.has(t) && !ns.get(t);
  const hasMappings = (linux.uidMappings?.length ?? 0) > 0 || (linux.gidMappings?.length ?? 0) > 0;
  if (hasMappings && !ns.has('user')) err('/linux/uidMappings', 'id mappings need a user namespace');
  if (hasMappings && ns.has('user') && !newNs('user')) err('/linux/uidMappings', 'must not be set when joining an existing user namespace');
  if (newNs('user')) {
    if (!linux.uidMappings?.length) err('/linux/uidMappings', 'a new user namespace needs uid mappings');
    if (!linux.gidMappings?.length) err('/linux/gidMappings', 'a new user namespace needs gid mappings');
  }
  for (const key of ['uidMappings', 'gidMappings'] as const) {
    linux[key]?.forEach((m, i) => {
      if (m.size === 0) err(`/linux/${key}/${i}/size`, 'must be at least 1');
    });
  }
  if (newNs('user') && p?.user) {
    if (linux.uidMappings?.length && !idMapped(p.user.uid, linux.uidMappings)) warn('/process/user/uid', `uid ${p.user.uid} is not mapped in the user namespace`);
    if (linux.gidMappings?.length && !idMapped(p.user.gid, linux.gidMappings)) warn('/process/user/gid', `gid ${p.user.gid} is not mapped in the user namespace`);
  }
  if (spec.hostname !== undefined && spec.hostname !== '' && !newNs('uts')) err('/hostname', 'needs a new uts namespace');
  if (spec.domainname !== undefined && spec.domainname !== '' && !newNs('uts')) err('/domainname', 'needs a new uts namespace');
  if (linux.timeOffsets && !newNs('time')) err('/linux/timeOffsets', 'needs a new time namespace');
  for (const key of Object.keys(linux.sysctl ?? {})) {
    const at = `/linux/sysctl/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (key.startsWith('net.') && !ns.has('network')) err(at, 'needs a network namespace (it would change the host)');
    if ((IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) && !ns.has('ipc')) err(at, 'needs an ipc namespace (it would change the host)');
    if ((key === 'kernel.hostname' || key === 'kernel.domainname') && !ns.has('uts')) err(at, 'needs a uts namespace (it would change the host)');
  }

  // mounts
  spec.mounts?.forEach((m, i) => {
    if (!m.destination.startsWith('/')) warn(`/mounts/${i}/destination`, 'should be an absolute path (runc resolves it against /)');
    if ((m.uidMappings || m.gidMappings) && !m.options?.some((o) => o === 'bind' || o === 'rbind') && m.type !== 'bind') {
      warn(`/mounts/${i}`, 'idmapped mounts are only supported for bind mounts');
    }
  });

  // paths
  for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
    linux[key]?.forEach((path, i) => {
      if (!path.startsWith('/')) err(`/linux/${key}/${i}`, 'must be an absolute path');
    });
  }
  const devs = new Set<string>();
  linux.devices?.forEach((d, i) => {
    if (!d.path.startsWith('/')) err(`/linux/devices/${i}/path`, 'must be an absolute path');
    if (devs.has(d.path)) err(`/linux/devices/${i}/path`, `${d.path} is listed twice`);
    devs.add(d.path);
    if (d.type !== 'p' && (d.major === undefined || d.minor === undefined)) err(`/linux/devices/${i}`, `a ${d.type} device needs major and minor`);
  });

  // hooks
  for (const [name, list] of Object.entries(spec.hooks ?? {})) {
    (list as { path: string }[] | undefined)?.forEach((h, i) => {
      if (!h.path.startsWith('/')) err(`/hooks/${name}/${i}/path`, 'must be an absolute path');
    });
  }

  // seccomp
  const sc = linux.seccomp;
  if (sc) {
    const errnoOk = (a: string): boolean => a === 'SCMP_ACT_ERRNO' || a === 'SCMP_ACT_TRACE';
    if (sc.defaultErrnoRet !== undefined && !errnoOk(sc.defaultAction)) err('/linux/seccomp/defaultErrnoRet', 'is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE');
    let notify = sc.defaultAction === 'SCMP_ACT_NOTIFY';
    sc.syscalls?.forEach((s, i) => {
      if (s.action === 'SCMP_ACT_NOTIFY') notify = true;
      if (s.errnoRet !== undefined && !errnoOk(s.action)) err(`/linux/seccomp/syscalls/${i}/errnoRet`, 'is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE');
      s.args?.forEach((a, j) => {
        if (a.index > 5) err(`/linux/seccomp/syscalls/${i}/args/${j}/index`, 'must be 0 .. 5 (a syscall has at most six arguments)');
      });
    });
    if (sc.defaultAction === 'SCMP_ACT_NOTIFY') err('/linux/seccomp/defaultAction', 'SCMP_ACT_NOTIFY cannot be the default action');
    if (notify && !sc.listenerPath) err('/linux/seccomp/listenerPath', 'is required when an action is SCMP_ACT_NOTIFY');
  }

  return { valid: errors.length === 0, errors, warnings };
}
