/**
 * Types of the OCI runtime-spec documents (config.json, state, features), runtime-spec 1.0 .. 1.3.
 * Field names and nesting follow the specification exactly; every field the spec marks optional is optional.
 * Platform sections other than `linux` are typed loosely (`solaris`, `windows`, `vm`, `zos`, `freebsd`).
 */

/** `process.user` (POSIX platforms). */
export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  /** Windows only. */
  username?: string;
}

export interface Box {
  height: number;
  width: number;
}

export type CapabilityName = `CAP_${string}`;

export interface LinuxCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface POSIXRlimit {
  /** e.g. `RLIMIT_NOFILE`. */
  type: string;
  hard: number;
  soft: number;
}

export type IOPriorityClass = 'IOPRIO_CLASS_RT' | 'IOPRIO_CLASS_BE' | 'IOPRIO_CLASS_IDLE';

export interface LinuxIOPriority {
  class: IOPriorityClass;
  priority?: number;
}

export type SchedulerPolicy =
  | 'SCHED_OTHER'
  | 'SCHED_FIFO'
  | 'SCHED_RR'
  | 'SCHED_BATCH'
  | 'SCHED_ISO'
  | 'SCHED_IDLE'
  | 'SCHED_DEADLINE';

export type SchedulerFlag =
  | 'SCHED_FLAG_RESET_ON_FORK'
  | 'SCHED_FLAG_RECLAIM'
  | 'SCHED_FLAG_DL_OVERRUN'
  | 'SCHED_FLAG_KEEP_POLICY'
  | 'SCHED_FLAG_KEEP_PARAMS'
  | 'SCHED_FLAG_UTIL_CLAMP_MIN'
  | 'SCHED_FLAG_UTIL_CLAMP_MAX';

export interface Scheduler {
  policy: SchedulerPolicy;
  nice?: number;
  priority?: number;
  flags?: SchedulerFlag[];
  runtime?: number;
  deadline?: number;
  period?: number;
}

export interface CPUAffinity {
  initial?: string;
  final?: string;
}

/** `process`: the container process (also the document `runc exec --process` reads). */
export interface Process {
  terminal?: boolean;
  consoleSize?: Box;
  /** REQUIRED on POSIX platforms by the spec; runtimes treat a missing user as uid 0, gid 0. */
  user?: User;
  args?: string[];
  /** Windows only. */
  commandLine?: string;
  env?: string[];
  cwd: string;
  capabilities?: LinuxCapabilities;
  rlimits?: POSIXRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  scheduler?: Scheduler;
  selinuxLabel?: string;
  ioPriority?: LinuxIOPriority;
  execCPUAffinity?: CPUAffinity;
}

export interface Root {
  path: string;
  readonly?: boolean;
}

export interface LinuxIDMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
}

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  /** Seconds, at least 1. */
  timeout?: number;
}

export interface Hooks {
  /** Deprecated in runtime-spec 1.0.2+, still run by runtimes. */
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

export type HookName = keyof Hooks;

export type LinuxNamespaceType = 'mount' | 'pid' | 'network' | 'uts' | 'ipc' | 'user' | 'cgroup' | 'time';

export interface LinuxNamespace {
  type: LinuxNamespaceType;
  path?: string;
}

export type LinuxDeviceType = 'c' | 'b' | 'u' | 'p';

export interface LinuxDevice {
  type: LinuxDeviceType;
  path: string;
  major?: number;
  minor?: number;
  /** Permission bits in decimal (e.g. 438 for 0o666). */
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface LinuxDeviceCgroup {
  allow: boolean;
  /** `a`, `c` or `b`. */
  type?: string;
  major?: number;
  minor?: number;
  /** Some of `r`, `w`, `m`. */
  access?: string;
}

export interface LinuxMemory {
  limit?: number;
  reservation?: number;
  swap?: number;
  /** Deprecated. */
  kernel?: number;
  /** Deprecated. */
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface LinuxCPU {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface LinuxPids {
  limit: number;
}

export interface LinuxBlockIODevice {
  major: number;
  minor: number;
}

export interface LinuxWeightDevice extends LinuxBlockIODevice {
  weight?: number;
  leafWeight?: number;
}

export interface LinuxThrottleDevice extends LinuxBlockIODevice {
  rate?: number;
}

export interface LinuxBlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

export interface LinuxHugepageLimit {
  /** e.g. `2MB`, `1GB`. */
  pageSize: string;
  limit: number;
}

export interface LinuxInterfacePriority {
  name: string;
  priority: number;
}

export interface LinuxNetwork {
  classID?: number;
  priorities?: LinuxInterfacePriority[];
}

export interface LinuxRdma {
  hcaHandles?: number;
  hcaObjects?: number;
}

export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIO;
  hugepageLimits?: LinuxHugepageLimit[];
  network?: LinuxNetwork;
  /** Keyed by RDMA device name. */
  rdma?: Record<string, LinuxRdma>;
  /** cgroup v2 files and values, e.g. `{ "memory.high": "100000" }`. */
  unified?: Record<string, string>;
}

export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

export type SeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

export type SeccompFlag =
  | 'SECCOMP_FILTER_FLAG_TSYNC'
  | 'SECCOMP_FILTER_FLAG_LOG'
  | 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'
  | 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV';

/** `SCMP_ARCH_*` names, e.g. `SCMP_ARCH_X86_64`. */
export type SeccompArch = `SCMP_ARCH_${string}`;

export interface LinuxSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface LinuxSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

export interface LinuxSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: SeccompArch[];
  flags?: SeccompFlag[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: LinuxSyscall[];
}

/** The spec's four values, plus the recursive forms runc also accepts. */
export type RootfsPropagation = 'private' | 'shared' | 'slave' | 'unbindable' | 'rprivate' | 'rshared' | 'rslave' | 'runbindable';

export interface LinuxIntelRdt {
  closID?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
  schemata?: string[];
  enableMonitoring?: boolean;
}

export type PersonalityDomain = 'LINUX' | 'LINUX32';

export interface LinuxPersonality {
  domain: PersonalityDomain;
  flags?: string[];
}

export interface LinuxTimeOffset {
  secs?: number;
  nanosecs?: number;
}

export interface LinuxTimeOffsets {
  boottime?: LinuxTimeOffset;
  monotonic?: LinuxTimeOffset;
}

export type MemoryPolicyMode =
  | 'MPOL_DEFAULT'
  | 'MPOL_BIND'
  | 'MPOL_INTERLEAVE'
  | 'MPOL_WEIGHTED_INTERLEAVE'
  | 'MPOL_PREFERRED'
  | 'MPOL_PREFERRED_MANY'
  | 'MPOL_LOCAL';

export type MemoryPolicyFlag = 'MPOL_F_NUMA_BALANCING' | 'MPOL_F_RELATIVE_NODES' | 'MPOL_F_STATIC_NODES';

export interface LinuxMemoryPolicy {
  mode: MemoryPolicyMode;
  nodes?: string;
  flags?: MemoryPolicyFlag[];
}

export interface LinuxNetDevice {
  name?: string;
}

/** `linux`: Linux-specific configuration. */
export interface Linux {
  namespaces?: LinuxNamespace[];
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
  timeOffsets?: LinuxTimeOffsets;
  devices?: LinuxDevice[];
  netDevices?: Record<string, LinuxNetDevice>;
  cgroupsPath?: string;
  resources?: LinuxResources;
  rootfsPropagation?: RootfsPropagation;
  seccomp?: LinuxSeccomp;
  sysctl?: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  intelRdt?: LinuxIntelRdt;
  memoryPolicy?: LinuxMemoryPolicy;
  personality?: LinuxPersonality;
}

/** config.json. */
export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: Root;
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
  solaris?: Record<string, unknown>;
  windows?: Record<string, unknown>;
  vm?: Record<string, unknown>;
  zos?: Record<string, unknown>;
  freebsd?: Record<string, unknown>;
}

export type ContainerStatus = 'creating' | 'created' | 'running' | 'stopped';

/** The state of a container (`runc state`, hooks' stdin). */
export interface State {
  ociVersion: string;
  id: string;
  status: ContainerStatus;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

export interface FeaturesLinux {
  namespaces?: LinuxNamespaceType[];
  capabilities?: string[];
  cgroup?: { v1?: boolean; v2?: boolean; systemd?: boolean; systemdUser?: boolean; rdma?: boolean };
  seccomp?: {
    enabled?: boolean;
    actions?: SeccompAction[];
    operators?: SeccompOperator[];
    archs?: SeccompArch[];
    knownFlags?: SeccompFlag[];
    supportedFlags?: SeccompFlag[];
  };
  apparmor?: { enabled?: boolean };
  selinux?: { enabled?: boolean };
  intelRdt?: { enabled?: boolean };
  mountExtensions?: { idmap?: { enabled?: boolean } };
  netDevices?: { enabled?: boolean };
}

/** The runtime-spec features document (`runc features`). */
export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks?: HookName[];
  mountOptions?: string[];
  linux?: FeaturesLinux;
  annotations?: Record<string, string>;
  potentiallyUnsafeConfigAnnotations?: string[];
}
