/**
 * runc's command line as data: the fast parser (hot path) and the yargs help both read these tables,
 * so help text and parsing cannot drift apart.
 */
export type OptType = 'boolean' | 'string' | 'number' | 'array';

export interface OptDef {
  type: OptType;
  alias?: string;
  describe: string;
  default?: string | number | boolean;
}

export interface CommandDef {
  describe: string;
  usage: string;
  options: Record<string, OptDef>;
  /** minimum number of positional arguments */
  min: number;
}

/** runc's default: /run/runc for root, $XDG_RUNTIME_DIR/runc for a rootless user who has one. */
function defaultRoot(): string {
  const xdg = process.env['XDG_RUNTIME_DIR'];
  return process.geteuid?.() !== 0 && xdg ? `${xdg}/oci-runtime` : '/run/oci-runtime';
}

export const GLOBAL_OPTIONS: Record<string, OptDef> = {
  root: { type: 'string', describe: 'root directory for storage of container state (default: /run/oci-runtime; $XDG_RUNTIME_DIR/oci-runtime when not root, as runc)', default: defaultRoot() },
  log: { type: 'string', describe: 'set the log file to write runtime logs to (default: stderr)' },
  'log-format': { type: 'string', describe: 'set the log format (text or json)', default: 'text' },
  debug: { type: 'boolean', describe: 'enable debug logging' },
  'systemd-cgroup': { type: 'boolean', describe: 'systemd-style cgroupsPath (slice:prefix:name) placed where systemd puts it; written through cgroupfs' },
  rootless: { type: 'string', describe: 'ignore cgroup permission errors (true, false or auto)', default: 'auto' },
  criu: { type: 'string', describe: 'accepted for compatibility; checkpoint/restore is not supported' },
};

const createOpts: Record<string, OptDef> = {
  bundle: { type: 'string', alias: 'b', describe: 'path to the root of the bundle directory', default: '.' },
  'console-socket': { type: 'string', describe: 'path to an AF_UNIX socket which will receive the pty master' },
  'pid-file': { type: 'string', describe: 'file to write the process id to' },
  'no-pivot': { type: 'boolean', describe: 'do not use pivot_root (MS_MOVE + chroot instead)' },
  'no-new-keyring': { type: 'boolean', describe: 'do not create a new session keyring' },
  'preserve-fds': { type: 'number', describe: 'pass N additional file descriptors (3..3+N-1) to the container', default: 0 },
};

export const COMMANDS: Record<string, CommandDef> = {
  create: { describe: 'create a container', usage: 'create [options] <container-id>', options: createOpts, min: 1 },
  start: { describe: 'executes the user defined process in a created container', usage: 'start <container-id>', options: {}, min: 1 },
  run: {
    describe: 'create and run a container',
    usage: 'run [options] <container-id>',
    options: {
      ...createOpts,
      detach: { type: 'boolean', alias: 'd', describe: 'detach from the container\'s process' },
      keep: { type: 'boolean', describe: 'do not delete the container after it exits' },
      'no-subreaper': { type: 'boolean', describe: 'accepted for compatibility' },
    },
    min: 1,
  },
  state: { describe: 'output the state of a container', usage: 'state <container-id>', options: {}, min: 1 },
  list: {
    describe: 'lists containers started by oci-runtime with the given root',
    usage: 'list [options]',
    options: {
      format: { type: 'string', alias: 'f', describe: 'select one of: table or json', default: 'table' },
      quiet: { type: 'boolean', alias: 'q', describe: 'display only container IDs' },
    },
    min: 0,
  },
  ps: {
    describe: 'ps displays the processes running inside a container',
    usage: 'ps [options] <container-id> [ps options]',
    options: { format: { type: 'string', alias: 'f', describe: 'select one of: table or json', default: 'table' } },
    min: 1,
  },
  exec: {
    describe: 'execute new process inside the container',
    usage: 'exec [options] <container-id> <command> [command options]  ||  -p process.json <container-id>',
    options: {
      'console-socket': { type: 'string', describe: 'path to an AF_UNIX socket which will receive the pty master' },
      cwd: { type: 'string', describe: 'current working directory in the container' },
      env: { type: 'array', alias: 'e', describe: 'set environment variables' },
      tty: { type: 'boolean', alias: 't', describe: 'allocate a pseudo-TTY' },
      user: { type: 'string', alias: 'u', describe: 'UID (format: <uid>[:<gid>])' },
      'additional-gids': { type: 'array', alias: 'g', describe: 'additional gids' },
      process: { type: 'string', alias: 'p', describe: 'path to the process.json' },
      detach: { type: 'boolean', alias: 'd', describe: 'detach from the container\'s process' },
      'pid-file': { type: 'string', describe: 'file to write the process id to' },
      'process-label': { type: 'string', describe: 'set the SELinux label of the process (refused where SELinux is not enabled)' },
      apparmor: { type: 'string', describe: 'set the AppArmor profile of the process (refused where AppArmor is not enabled)' },
      'no-new-privs': { type: 'boolean', describe: 'set the no new privileges value for the process' },
      cap: { type: 'array', alias: 'c', describe: 'add a capability to the bounding set for the process' },
      'preserve-fds': { type: 'number', describe: 'pass N additional file descriptors to the process', default: 0 },
      cgroup: { type: 'array', describe: 'accepted; the process joins the container\'s cgroups' },
      'ignore-paused': { type: 'boolean', describe: 'accepted for compatibility' },
    },
    min: 1,
  },
  kill: {
    describe: 'kill sends the specified signal (default: SIGTERM) to the container\'s init process',
    usage: 'kill [options] <container-id> [signal]',
    options: { all: { type: 'boolean', alias: 'a', describe: 'send the specified signal to all processes inside the container' } },
    min: 1,
  },
  delete: {
    describe: 'delete any resources held by the container often used with detached container',
    usage: 'delete [options] <container-id>',
    options: { force: { type: 'boolean', alias: 'f', describe: 'forcibly deletes the container if it is still running (uses SIGKILL)' } },
    min: 1,
  },
  pause: { describe: 'pause suspends all processes inside the container', usage: 'pause <container-id>', options: {}, min: 1 },
  resume: { describe: 'resumes all processes that have been previously paused', usage: 'resume <container-id>', options: {}, min: 1 },
  events: {
    describe: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
    usage: 'events [options] <container-id>',
    options: {
      interval: { type: 'string', describe: 'set the stats collection interval', default: '5s' },
      stats: { type: 'boolean', describe: 'display the container\'s stats then exit' },
    },
    min: 1,
  },
  update: {
    describe: 'update container resource constraints',
    usage: 'update [options] <container-id>',
    options: {
      resources: { type: 'string', alias: 'r', describe: 'path to a file with the resources to update, or "-" for stdin' },
      'blkio-weight': { type: 'number', describe: 'specifies per cgroup weight, range is from 10 to 1000' },
      'cpu-period': { type: 'string', describe: 'CPU CFS period to be used for hardcapping (in usecs)' },
      'cpu-quota': { type: 'string', describe: 'CPU CFS hardcap limit (in usecs)' },
      'cpu-rt-period': { type: 'string', describe: 'CPU realtime period to be used for hardcapping (in usecs)' },
      'cpu-rt-runtime': { type: 'string', describe: 'CPU realtime hardcap limit (in usecs)' },
      'cpu-share': { type: 'string', describe: 'CPU shares (relative weight vs. other containers)' },
      'cpuset-cpus': { type: 'string', describe: 'CPU(s) to use' },
      'cpuset-mems': { type: 'string', describe: 'memory node(s) to use' },
      'kernel-memory': { type: 'string', describe: 'accepted; kernel memory limits are deprecated' },
      'kernel-memory-tcp': { type: 'string', describe: 'accepted; kernel memory limits are deprecated' },
      memory: { type: 'string', describe: 'memory limit (in bytes, or with k, m, g suffix)' },
      'memory-reservation': { type: 'string', describe: 'memory reservation or soft_limit' },
      'memory-swap': { type: 'string', describe: 'total memory usage (memory + swap); -1 for unlimited' },
      'pids-limit': { type: 'number', describe: 'maximum number of pids allowed in the container' },
      'l3-cache-schema': { type: 'string', describe: 'not supported' },
      'mem-bw-schema': { type: 'string', describe: 'not supported' },
    },
    min: 1,
  },
  spec: {
    describe: 'create a new specification file',
    usage: 'spec [options]',
    options: {
      bundle: { type: 'string', alias: 'b', describe: 'path to the root of the bundle directory', default: '.' },
      rootless: { type: 'boolean', describe: 'generate a configuration for a rootless container' },
    },
    min: 0,
  },
  features: { describe: 'show the enabled features', usage: 'features', options: {}, min: 0 },
};

export type Parsed = { command: string; global: Record<string, unknown>; opts: Record<string, unknown>; args: string[] };

/**
 * Parse argv the way runc's CLI library does: global flags, the command, its flags, then positional
 * arguments (flag parsing stops at the first positional; "--" also ends flags).
 * Returns undefined when the input needs yargs (help, version, unknown flags, unknown command).
 */
export function parseArgs(argv: readonly string[]): Parsed | undefined {
  const global: Record<string, unknown> = {};
  let i = 0;
  const take = (defs: Record<string, OptDef>, into: Record<string, unknown>): boolean => {
    while (i < argv.length) {
      const a = argv[i]!;
      if (a === '--') { i++; return true; }
      if (!a.startsWith('-') || a === '-') return true;
      let name: string;
      let value: string | undefined;
      if (a.startsWith('--')) {
        const eq = a.indexOf('=');
        name = eq < 0 ? a.slice(2) : a.slice(2, eq);
        value = eq < 0 ? undefined : a.slice(eq + 1);
      } else {
        const eq = a.indexOf('=');
        const short = eq < 0 ? a.slice(1) : a.slice(1, eq);
        value = eq < 0 ? undefined : a.slice(eq + 1);
        const found = Object.entries(defs).find(([, d]) => d.alias === short);
        if (!found) return false;
        name = found[0];
      }
      const d = defs[name];
      if (!d) return false;
      i++;
      if (d.type === 'boolean') {
        into[name] = value === undefined ? true : value !== 'false';
        continue;
      }
      if (value === undefined) {
        if (i >= argv.length) return false;
        value = argv[i++]!;
      }
      if (d.type === 'number') {
        const n = Number(value);
        if (!Number.isFinite(n)) return false;
        into[name] = n;
      } else if (d.type === 'array') {
        ((into[name] ??= []) as string[]).push(value);
      } else into[name] = value;
    }
    return true;
  };
  if (!take(GLOBAL_OPTIONS, global)) return undefined;
  const command = argv[i++];
  if (!command) return undefined;
  const def = COMMANDS[command];
  if (!def) return undefined;
  const opts: Record<string, unknown> = {};
  if (!take(def.options, opts)) return undefined;
  const args = argv.slice(i);
  for (const [k, d] of Object.entries(def.options)) if (opts[k] === undefined && d.default !== undefined) opts[k] = d.default;
  for (const [k, d] of Object.entries(GLOBAL_OPTIONS)) if (global[k] === undefined && d.default !== undefined) global[k] = d.default;
  return { command, global, opts, args };
}
