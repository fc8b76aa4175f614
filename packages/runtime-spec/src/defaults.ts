import { DEFAULT_CAPABILITIES, DEFAULT_OCI_VERSION } from './constants.js';
import type { Mount, Spec } from './types.js';

export interface DefaultSpecOptions {
  /** What `runc spec --rootless` writes: a user namespace mapping `uid`/`gid` to root, no network namespace. */
  rootless?: boolean;
  /** Host uid mapped to container root when rootless. Default: `process.geteuid()`. */
  uid?: number;
  /** Host gid mapped to container root when rootless. Default: `process.getegid()`. */
  gid?: number;
  /** Override the written `ociVersion` (default `DEFAULT_OCI_VERSION`, i.e. runc's `1.0.2-dev`). */
  ociVersion?: string;
}

const caps = (): string[] => [...DEFAULT_CAPABILITIES];

function defaultMounts(rootless: boolean): Mount[] {
  const devpts: string[] = ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'];
  // Without a mapping for gid 5 inside the user namespace, devpts refuses gid=5.
  if (!rootless) devpts.push('gid=5');
  const sys: Mount = rootless
    ? // sysfs cannot be mounted without owning the network namespace: bind the host's instead.
      { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
    : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] };
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: devpts },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    sys,
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    },
  ];
}

function hostId(given: number | undefined, get: (() => number) | undefined, what: string): number {
  if (given !== undefined) {
    if (!Number.isInteger(given) || given < 0 || given > 0xffffffff) throw new RangeError(`${what} must be a uint32, got ${given}`);
    return given;
  }
  return get ? get() : 0;
}

/**
 * The config.json `runc spec` writes (runc 1.1.5), or `runc spec --rootless` with `{ rootless: true }`.
 * Key order matches runc's output, so `formatSpec(defaultSpec())` is byte-identical to runc's file.
 * Returns a fresh object each call.
 */
export function defaultSpec(options: DefaultSpecOptions = {}): Spec {
  const rootless = options.rootless === true;
  const spec: Spec = {
    ociVersion: options.ociVersion ?? DEFAULT_OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps(), effective: caps(), permitted: caps(), ambient: caps() },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: defaultMounts(rootless),
    linux: {},
  };
  const linux = spec.linux!;
  if (rootless) {
    const uid = hostId(options.uid, process.geteuid, 'uid');
    const gid = hostId(options.gid, process.getegid, 'gid');
    linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
    linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
    linux.namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'user' }];
  } else {
    linux.resources = { devices: [{ allow: false, access: 'rwm' }] };
    linux.namespaces = [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  }
  linux.maskedPaths = [
    '/proc/acpi',
    '/proc/asound',
    '/proc/kcore',
    '/proc/keys',
    '/proc/latency_stats',
    '/proc/timer_list',
    '/proc/timer_stats',
    '/proc/sched_debug',
    '/sys/firmware',
    '/proc/scsi',
  ];
  linux.readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
  return spec;
}

/** Serialise a spec the way runc writes config.json: tab-indented, no trailing newline. */
export function formatSpec(spec: Spec): string {
  return JSON.stringify(spec, null, '\t');
}
