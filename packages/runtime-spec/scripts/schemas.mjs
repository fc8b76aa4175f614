// Source of packages/runtime-spec/schema/*.json (JSON Schema draft-04, our own).
// `node scripts/schemas.mjs` rewrites the files; test/schema.test.ts fails when they drift from this source.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const D = (name) => ({ $ref: `defs.json#/definitions/${name}` });
const arrayOf = (items, extra = {}) => ({ type: 'array', items, ...extra });
const str = { type: 'string' };
const bool = { type: 'boolean' };
const obj = (properties, required) => ({ type: 'object', properties, ...(required ? { required } : {}) });
const strEnum = (values) => ({ type: 'string', enum: values });

export const defs = {
  id: 'defs.json',
  $schema: 'http://json-schema.org/draft-04/schema#',
  description: 'Definitions shared by the @oci/runtime-spec schemas (OCI runtime-spec 1.0 .. 1.3)',
  definitions: {
    int8: { type: 'integer', minimum: -128, maximum: 127 },
    int16: { type: 'integer', minimum: -32768, maximum: 32767 },
    int32: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
    int64: { type: 'integer', minimum: -9223372036854775808, maximum: 9223372036854775807 },
    uint8: { type: 'integer', minimum: 0, maximum: 255 },
    uint16: { type: 'integer', minimum: 0, maximum: 65535 },
    uint32: { type: 'integer', minimum: 0, maximum: 4294967295 },
    uint64: { type: 'integer', minimum: 0, maximum: 18446744073709551615 },
    ociVersion: {
      description: 'runtime-spec version the document complies with: 1.0.0 .. 1.3.x (SemVer, pre-release and build allowed)',
      type: 'string',
      pattern: '^1\\.[0-3]\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$',
    },
    mapStringString: { type: 'object', additionalProperties: str },
    ArrayOfStrings: arrayOf(str),
    FilePath: str,
    Env: arrayOf(str),
    UID: D('uint32'),
    GID: D('uint32'),
    Hook: obj(
      { path: D('FilePath'), args: D('ArrayOfStrings'), env: D('Env'), timeout: { type: 'integer', minimum: 1 } },
      ['path'],
    ),
    ArrayOfHooks: arrayOf(D('Hook')),
    IDMapping: obj({ containerID: D('uint32'), hostID: D('uint32'), size: D('uint32') }, ['containerID', 'hostID', 'size']),
    ArrayOfIDMappings: arrayOf(D('IDMapping')),
    Mount: obj(
      {
        destination: D('FilePath'),
        source: D('FilePath'),
        type: str,
        options: D('ArrayOfStrings'),
        uidMappings: D('ArrayOfIDMappings'),
        gidMappings: D('ArrayOfIDMappings'),
      },
      ['destination'],
    ),
    NamespaceType: strEnum(['mount', 'pid', 'network', 'uts', 'ipc', 'user', 'cgroup', 'time']),
    Namespace: obj({ type: D('NamespaceType'), path: D('FilePath') }, ['type']),
    Major: D('int64'),
    Minor: D('int64'),
    Device: obj(
      {
        type: { type: 'string', pattern: '^[cbup]$' },
        path: D('FilePath'),
        major: D('Major'),
        minor: D('Minor'),
        fileMode: { type: 'integer', minimum: 0, maximum: 511 },
        uid: D('UID'),
        gid: D('GID'),
      },
      ['type', 'path'],
    ),
    DeviceCgroup: obj(
      { allow: bool, type: { type: 'string', pattern: '^[acb]$' }, major: D('Major'), minor: D('Minor'), access: { type: 'string', pattern: '^[rwm]*$' } },
      ['allow'],
    ),
    Weight: D('uint16'),
    BlockIODevice: obj({ major: D('Major'), minor: D('Minor') }, ['major', 'minor']),
    BlockIODeviceWeight: { allOf: [D('BlockIODevice'), obj({ weight: D('Weight'), leafWeight: D('Weight') })] },
    BlockIODeviceThrottle: { allOf: [D('BlockIODevice'), obj({ rate: D('uint64') })] },
    NetworkInterfacePriority: obj({ name: str, priority: D('uint32') }, ['name', 'priority']),
    Rdma: obj({ hcaHandles: D('uint32'), hcaObjects: D('uint32') }),
    // The spec names four values; runc (and so engines' configs) also use the recursive r* forms.
    RootfsPropagation: strEnum(['private', 'shared', 'slave', 'unbindable', 'rprivate', 'rshared', 'rslave', 'runbindable']),
    SeccompAction: strEnum([
      'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
      'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
    ]),
    SeccompOperator: strEnum([
      'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
    ]),
    SeccompFlag: strEnum([
      'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
      'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
    ]),
    SeccompArch: strEnum([
      'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
      'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32',
      'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64',
      'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
      'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64',
    ]),
    SyscallArg: obj({ index: D('uint32'), value: D('uint64'), valueTwo: D('uint64'), op: D('SeccompOperator') }, ['index', 'value', 'op']),
    Syscall: obj(
      { names: arrayOf(str, { minItems: 1 }), action: D('SeccompAction'), errnoRet: D('uint32'), args: arrayOf(D('SyscallArg')) },
      ['names', 'action'],
    ),
    Capability: { type: 'string', pattern: '^CAP_[A-Z_]+$' },
    ArrayOfCapabilities: arrayOf(D('Capability')),
    SchedulerPolicy: strEnum(['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE']),
    SchedulerFlag: strEnum([
      'SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM', 'SCHED_FLAG_DL_OVERRUN', 'SCHED_FLAG_KEEP_POLICY',
      'SCHED_FLAG_KEEP_PARAMS', 'SCHED_FLAG_UTIL_CLAMP_MIN', 'SCHED_FLAG_UTIL_CLAMP_MAX',
    ]),
    TimeOffset: obj({ secs: D('int64'), nanosecs: D('uint32') }),
    MemoryPolicyMode: strEnum([
      'MPOL_DEFAULT', 'MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED',
      'MPOL_PREFERRED_MANY', 'MPOL_LOCAL',
    ]),
    MemoryPolicyFlag: strEnum(['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES']),
    HookName: strEnum(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']),
  },
};

const processSchema = obj(
  {
    terminal: bool,
    consoleSize: obj({ height: D('uint64'), width: D('uint64') }, ['height', 'width']),
    user: obj({ uid: D('UID'), gid: D('GID'), umask: D('uint32'), additionalGids: arrayOf(D('GID')), username: str }),
    args: D('ArrayOfStrings'),
    commandLine: str,
    env: D('Env'),
    cwd: str,
    capabilities: obj({
      bounding: D('ArrayOfCapabilities'),
      effective: D('ArrayOfCapabilities'),
      inheritable: D('ArrayOfCapabilities'),
      permitted: D('ArrayOfCapabilities'),
      ambient: D('ArrayOfCapabilities'),
    }),
    rlimits: arrayOf(
      obj({ type: { type: 'string', pattern: '^RLIMIT_[A-Z]+$' }, hard: D('uint64'), soft: D('uint64') }, ['type', 'soft', 'hard']),
    ),
    noNewPrivileges: bool,
    apparmorProfile: str,
    oomScoreAdj: { type: 'integer', minimum: -1000, maximum: 1000 },
    selinuxLabel: str,
    ioPriority: obj({ class: strEnum(['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE']), priority: D('int32') }, ['class']),
    scheduler: obj(
      {
        policy: D('SchedulerPolicy'),
        nice: D('int32'),
        priority: D('int32'),
        flags: arrayOf(D('SchedulerFlag')),
        runtime: D('uint64'),
        deadline: D('uint64'),
        period: D('uint64'),
      },
      ['policy'],
    ),
    execCPUAffinity: obj({ initial: { type: 'string', pattern: '^[0-9, -]*$' }, final: { type: 'string', pattern: '^[0-9, -]*$' } }),
  },
  ['cwd'],
);

const resources = obj({
  devices: arrayOf(D('DeviceCgroup')),
  memory: obj({
    limit: D('int64'),
    reservation: D('int64'),
    swap: D('int64'),
    kernel: D('int64'),
    kernelTCP: D('int64'),
    swappiness: D('uint64'),
    disableOOMKiller: bool,
    useHierarchy: bool,
    checkBeforeUpdate: bool,
  }),
  cpu: obj({
    shares: D('uint64'),
    quota: D('int64'),
    burst: D('uint64'),
    period: D('uint64'),
    realtimeRuntime: D('int64'),
    realtimePeriod: D('uint64'),
    cpus: str,
    mems: str,
    idle: D('int64'),
  }),
  pids: obj({ limit: D('int64') }, ['limit']),
  blockIO: obj({
    weight: D('Weight'),
    leafWeight: D('Weight'),
    weightDevice: arrayOf(D('BlockIODeviceWeight')),
    throttleReadBpsDevice: arrayOf(D('BlockIODeviceThrottle')),
    throttleWriteBpsDevice: arrayOf(D('BlockIODeviceThrottle')),
    throttleReadIOPSDevice: arrayOf(D('BlockIODeviceThrottle')),
    throttleWriteIOPSDevice: arrayOf(D('BlockIODeviceThrottle')),
  }),
  hugepageLimits: arrayOf(obj({ pageSize: { type: 'string', pattern: '^[1-9][0-9]*[KMG]B$' }, limit: D('uint64') }, ['pageSize', 'limit'])),
  network: obj({ classID: D('uint32'), priorities: arrayOf(D('NetworkInterfacePriority')) }),
  rdma: { type: 'object', additionalProperties: D('Rdma') },
  unified: D('mapStringString'),
});

const linux = obj({
  namespaces: arrayOf(D('Namespace')),
  uidMappings: D('ArrayOfIDMappings'),
  gidMappings: D('ArrayOfIDMappings'),
  timeOffsets: obj({ boottime: D('TimeOffset'), monotonic: D('TimeOffset') }),
  devices: arrayOf(D('Device')),
  netDevices: { type: 'object', additionalProperties: obj({ name: str }) },
  cgroupsPath: str,
  resources,
  rootfsPropagation: D('RootfsPropagation'),
  seccomp: obj(
    {
      defaultAction: D('SeccompAction'),
      defaultErrnoRet: D('uint32'),
      architectures: arrayOf(D('SeccompArch')),
      flags: arrayOf(D('SeccompFlag')),
      listenerPath: str,
      listenerMetadata: str,
      syscalls: arrayOf(D('Syscall')),
    },
    ['defaultAction'],
  ),
  sysctl: D('mapStringString'),
  maskedPaths: D('ArrayOfStrings'),
  readonlyPaths: D('ArrayOfStrings'),
  mountLabel: str,
  intelRdt: obj({
    closID: str,
    l3CacheSchema: str,
    memBwSchema: { type: 'string', pattern: '^MB:[^\\n]*$' },
    schemata: D('ArrayOfStrings'),
    enableMonitoring: bool,
  }),
  memoryPolicy: obj({ mode: D('MemoryPolicyMode'), nodes: str, flags: arrayOf(D('MemoryPolicyFlag')) }, ['mode']),
  personality: obj({ domain: strEnum(['LINUX', 'LINUX32']), flags: D('ArrayOfStrings') }, ['domain']),
});

export const config = {
  id: 'config-schema.json',
  $schema: 'http://json-schema.org/draft-04/schema#',
  description: 'OCI runtime config.json, runtime-spec 1.0 .. 1.3 (@oci/runtime-spec)',
  type: 'object',
  properties: {
    ociVersion: D('ociVersion'),
    process: processSchema,
    root: obj({ path: D('FilePath'), readonly: bool }, ['path']),
    hostname: str,
    domainname: str,
    mounts: arrayOf(D('Mount')),
    hooks: obj(Object.fromEntries(defs.definitions.HookName.enum.map((h) => [h, D('ArrayOfHooks')]))),
    annotations: D('mapStringString'),
    linux,
    solaris: { type: 'object' },
    windows: { type: 'object' },
    vm: { type: 'object' },
    zos: { type: 'object' },
    freebsd: { type: 'object' },
  },
  required: ['ociVersion'],
};

export const state = {
  id: 'state-schema.json',
  $schema: 'http://json-schema.org/draft-04/schema#',
  description: 'OCI runtime state, runtime-spec 1.0 .. 1.3 (@oci/runtime-spec)',
  type: 'object',
  properties: {
    ociVersion: D('ociVersion'),
    id: { type: 'string', pattern: '[\\s\\S]' },
    status: strEnum(['creating', 'created', 'running', 'stopped']),
    pid: { type: 'integer', minimum: 0 },
    bundle: str,
    annotations: D('mapStringString'),
  },
  required: ['ociVersion', 'id', 'status', 'bundle'],
};

const enabled = obj({ enabled: bool });
export const features = {
  id: 'features-schema.json',
  $schema: 'http://json-schema.org/draft-04/schema#',
  description: 'OCI runtime features document, runtime-spec 1.1 .. 1.3 (@oci/runtime-spec)',
  type: 'object',
  properties: {
    ociVersionMin: D('ociVersion'),
    ociVersionMax: D('ociVersion'),
    hooks: arrayOf(D('HookName')),
    mountOptions: D('ArrayOfStrings'),
    annotations: D('mapStringString'),
    potentiallyUnsafeConfigAnnotations: D('ArrayOfStrings'),
    linux: obj({
      namespaces: arrayOf(D('NamespaceType')),
      capabilities: D('ArrayOfCapabilities'),
      cgroup: obj({ v1: bool, v2: bool, systemd: bool, systemdUser: bool, rdma: bool }),
      seccomp: obj({
        enabled: bool,
        actions: arrayOf(D('SeccompAction')),
        operators: arrayOf(D('SeccompOperator')),
        archs: arrayOf(D('SeccompArch')),
        knownFlags: arrayOf(D('SeccompFlag')),
        supportedFlags: arrayOf(D('SeccompFlag')),
      }),
      apparmor: enabled,
      selinux: enabled,
      intelRdt: enabled,
      mountExtensions: obj({ idmap: enabled }),
      netDevices: enabled,
    }),
  },
  required: ['ociVersionMin', 'ociVersionMax'],
};

export const files = {
  'defs.json': defs,
  'config-schema.json': config,
  'state-schema.json': state,
  'features-schema.json': features,
};

export function render(doc) {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * The validators compiled ahead of time by ajv (standalone code, draft-04 via ajv-draft-04, allErrors), as the
 * source of src/generated/validators.cjs (plain CommonJS, emitted to dist by tsc's allowJs). Compiling the schemas at run time costs 0.4-1 s of start-up; loading
 * this module costs a few milliseconds.
 */
export function generateValidators() {
  const require = createRequire(import.meta.url);
  const Ajv = require('ajv-draft-04');
  const standaloneCode = require('ajv/dist/standalone').default;
  const ajv = new Ajv({ strict: false, allErrors: true, code: { source: true, esm: false, lines: false } });
  for (const [name, doc] of Object.entries(files)) ajv.addSchema(doc, name);
  const code = standaloneCode(ajv, {
    validateConfig: 'config-schema.json',
    validateState: 'state-schema.json',
    validateFeatures: 'features-schema.json',
  });
  if (/\brequire\(/.test(code)) throw new Error('generated validators need an ajv runtime helper; avoid that schema keyword');
  return [
    '// GENERATED by scripts/schemas.mjs from schema/*.json with ajv standalone code. Do not edit.',
    code,
    '',
  ].join('\n');
}

if (globalThis.process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, doc] of Object.entries(files)) {
    writeFileSync(new URL(`../schema/${name}`, import.meta.url), render(doc));
  }
  writeFileSync(new URL('../src/generated/validators.cjs', import.meta.url), generateValidators());
}
