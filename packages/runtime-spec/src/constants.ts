import type {
  HookName,
  LinuxNamespaceType,
  SeccompAction,
  SeccompArch,
  SeccompFlag,
  SeccompOperator,
} from './types.js';

/** Oldest config `ociVersion` we accept. */
export const OCI_VERSION_MIN = '1.0.0';
/** Newest runtime-spec release whose fields we know (any 1.3.x patch is accepted). */
export const OCI_VERSION_MAX = '1.3.0';
/** The `ociVersion` `runc spec` (runc 1.1.5) writes, and so do we (see docs/runtime-spec.md). */
export const DEFAULT_OCI_VERSION = '1.0.2-dev';

/** Namespace types of runtime-spec 1.3 (`time` since 1.1). */
export const LINUX_NAMESPACES: readonly LinuxNamespaceType[] = Object.freeze([
  'pid',
  'network',
  'mount',
  'ipc',
  'uts',
  'user',
  'cgroup',
  'time',
] as const);

/** Every Linux capability, in kernel number order (index = capability number, 0 .. 40). */
export const LINUX_CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
]);

/** Capability name -> kernel capability number. */
export function capabilityNumber(name: string): number | undefined {
  const i = LINUX_CAPABILITIES.indexOf(name.toUpperCase().startsWith('CAP_') ? name.toUpperCase() : `CAP_${name.toUpperCase()}`);
  return i < 0 ? undefined : i;
}

/** The capabilities `runc spec` grants (bounding, effective, permitted, ambient). */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);

/** Hooks in the order the lifecycle runs them. */
export const HOOK_NAMES: readonly HookName[] = Object.freeze([
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
] as const);

export const SECCOMP_ACTIONS: readonly SeccompAction[] = Object.freeze([
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const);

export const SECCOMP_OPERATORS: readonly SeccompOperator[] = Object.freeze([
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const);

export const SECCOMP_FLAGS: readonly SeccompFlag[] = Object.freeze([
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
] as const);

export const SECCOMP_ARCHS: readonly SeccompArch[] = Object.freeze([
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_SH',
  'SCMP_ARCH_SHEB',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
] as const);

/**
 * Mount options a Linux runtime understands (the flags of mount(2) and their recursive `r*` forms for
 * mount_setattr(2), propagation, bind/rbind, plus `tmpcopyup`). Options not listed are passed to the
 * filesystem as data (e.g. `mode=755`, `size=65536k`).
 */
export const MOUNT_OPTIONS: readonly string[] = Object.freeze([
  'acl', 'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'iversion', 'lazytime',
  'loud', 'mand', 'noacl', 'noatime', 'nodev', 'nodiratime', 'noexec', 'noiversion', 'nolazytime', 'nomand',
  'norelatime', 'nostrictatime', 'nosuid', 'nosymfollow', 'private', 'ratime', 'rbind', 'rdev', 'rdiratime',
  'relatime', 'remount', 'rexec', 'rnoatime', 'rnodev', 'rnodiratime', 'rnoexec', 'rnorelatime',
  'rnostrictatime', 'rnosuid', 'rnosymfollow', 'ro', 'rprivate', 'rrelatime', 'rro', 'rrw', 'rshared', 'rslave',
  'rstrictatime', 'rsuid', 'rsymfollow', 'runbindable', 'rw', 'shared', 'silent', 'slave', 'strictatime', 'suid',
  'symfollow', 'sync', 'tmpcopyup', 'unbindable',
]);

/** Annotation keys of the image-spec conversion document. */
export const ImageAnnotation = Object.freeze({
  OS: 'org.opencontainers.image.os',
  Architecture: 'org.opencontainers.image.architecture',
  Variant: 'org.opencontainers.image.variant',
  OSVersion: 'org.opencontainers.image.os.version',
  OSFeatures: 'org.opencontainers.image.os.features',
  Author: 'org.opencontainers.image.author',
  Created: 'org.opencontainers.image.created',
  StopSignal: 'org.opencontainers.image.stopSignal',
  ExposedPorts: 'org.opencontainers.image.exposedPorts',
  /** Not defined by the image-spec: written only with `imageConfigToSpec(..., { volumes: 'annotation' })`. */
  Volumes: 'org.opencontainers.image.volumes',
} as const);
