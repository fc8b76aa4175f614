import {
  HOOK_NAMES,
  LINUX_CAPABILITIES,
  LINUX_NAMESPACES,
  MOUNT_OPTIONS,
  OCI_VERSION_MAX,
  OCI_VERSION_MIN,
  SECCOMP_ACTIONS,
  SECCOMP_ARCHS,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
} from './constants.js';
import type { Features, FeaturesLinux } from './types.js';

export interface FeaturesOptions {
  /** Replace whole sub-objects of `linux` (e.g. `{ seccomp: { enabled: false } }`, `{ cgroup: {...} }`). */
  linux?: Partial<FeaturesLinux>;
  /** Runtime-specific annotations (e.g. the runtime's version). */
  annotations?: Record<string, string>;
  potentiallyUnsafeConfigAnnotations?: string[];
}

const LIBSECCOMP_25_ARCHS: ReadonlySet<string> = new Set([
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X',
]);

const sorted = <T extends string>(xs: readonly T[]): T[] => [...xs].sort();

/**
 * A runtime-spec features document (what `runc features` prints) describing a Linux runtime built on this
 * package: every config version 1.0.0 .. 1.3.x, every hook, the mount options of MOUNT_OPTIONS, all namespaces
 * and capabilities, cgroup v1 and v2 (cgroupfs, no systemd driver), seccomp with every action, operator,
 * architecture and flag. Pass `options.linux` to state what the running machine really supports.
 */
export function featuresDocument(options: FeaturesOptions = {}): Features {
  const linux: FeaturesLinux = {
    namespaces: sorted(LINUX_NAMESPACES),
    capabilities: [...LINUX_CAPABILITIES],
    cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
    seccomp: {
      enabled: true,
      actions: sorted(SECCOMP_ACTIONS),
      operators: sorted(SECCOMP_OPERATORS),
      // What libseccomp 2.5 (runc 1.1.5's) supports; override with what the runtime really handles.
      archs: sorted(SECCOMP_ARCHS.filter((a) => LIBSECCOMP_25_ARCHS.has(a))),
      knownFlags: [...SECCOMP_FLAGS],
      supportedFlags: [...SECCOMP_FLAGS],
    },
    apparmor: { enabled: false },
    selinux: { enabled: false },
    intelRdt: { enabled: false },
    mountExtensions: { idmap: { enabled: false } },
    ...options.linux,
  };
  const doc: Features = {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION_MAX,
    hooks: [...HOOK_NAMES],
    mountOptions: sorted(MOUNT_OPTIONS),
    linux,
  };
  if (options.annotations) doc.annotations = { ...options.annotations };
  if (options.potentiallyUnsafeConfigAnnotations) {
    doc.potentiallyUnsafeConfigAnnotations = [...options.potentiallyUnsafeConfigAnnotations];
  }
  return doc;
}
