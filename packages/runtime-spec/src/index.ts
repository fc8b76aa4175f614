export { RuntimeSpecError } from './errors.js';
export type { RuntimeSpecErrorCode, RuntimeSpecErrorOptions, ValidationIssue } from './errors.js';
export type {
  Box,
  CapabilityName,
  ContainerStatus,
  CPUAffinity,
  Features,
  FeaturesLinux,
  Hook,
  HookName,
  Hooks,
  IOPriorityClass,
  Linux,
  LinuxBlockIO,
  LinuxBlockIODevice,
  LinuxCapabilities,
  LinuxCPU,
  LinuxDevice,
  LinuxDeviceCgroup,
  LinuxDeviceType,
  LinuxHugepageLimit,
  LinuxIDMapping,
  LinuxIntelRdt,
  LinuxInterfacePriority,
  LinuxIOPriority,
  LinuxMemory,
  LinuxMemoryPolicy,
  LinuxNamespace,
  LinuxNamespaceType,
  LinuxNetDevice,
  LinuxNetwork,
  LinuxPersonality,
  LinuxPids,
  LinuxRdma,
  LinuxResources,
  LinuxSeccomp,
  LinuxSeccompArg,
  LinuxSyscall,
  LinuxThrottleDevice,
  LinuxTimeOffset,
  LinuxTimeOffsets,
  LinuxWeightDevice,
  MemoryPolicyFlag,
  MemoryPolicyMode,
  Mount,
  PersonalityDomain,
  POSIXRlimit,
  Process,
  Root,
  RootfsPropagation,
  Scheduler,
  SchedulerFlag,
  SchedulerPolicy,
  SeccompAction,
  SeccompArch,
  SeccompFlag,
  SeccompOperator,
  Spec,
  State,
  User,
} from './types.js';
export {
  capabilityNumber,
  DEFAULT_CAPABILITIES,
  DEFAULT_OCI_VERSION,
  HOOK_NAMES,
  ImageAnnotation,
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
export { defaultSpec, formatSpec } from './defaults.js';
export type { DefaultSpecOptions } from './defaults.js';
export {
  formatIssues,
  parseFeatures,
  parseSpec,
  parseState,
  SCHEMA_FILES,
  validateFeatures,
  validateSpec,
  validateState,
} from './validate.js';
export type { ParseOptions, ParseSpecOptions, ValidationResult } from './validate.js';
export { checkSpec, RLIMIT_TYPES } from './check.js';
export type { CheckOptions, CheckResult } from './check.js';
export { normalizeProcess, normalizeSpec } from './normalize.js';
export type { NormalizedLinux, NormalizedMount, NormalizedProcess, NormalizedSpec } from './normalize.js';
export { featuresDocument } from './features.js';
export type { FeaturesOptions } from './features.js';
export { imageConfigToSpec } from './convert.js';
export type { ImageConfigLike, ImageConfigToSpecOptions } from './convert.js';
export { parseGroup, parsePasswd, readFileInRoot, readUserDatabase, resolveUser } from './user.js';
export type { ReadInRootOptions, ResolvedUser, UserDatabase } from './user.js';
