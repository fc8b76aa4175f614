// Shared harness of the conformance-*.test.ts files: the OCI runtime-tools validation suite
// (github.com/opencontainers/runtime-tools, validation/ and cmd/runtimetest) re-expressed as
// runc-oracle tests. See docs/runtime-conformance.md for the map from each validation program to
// the test that covers it.
//
// - generatorDefault(): the config runtime-tools' generate.New("linux") + GetDefaultGenerator() writes
//   (its seccomp default profile left out; linux_seccomp is covered with its own small profile).
// - probeScript()/parseReport(): a busybox sh script that prints, section by section, everything
//   runtimetest inspects from inside the container (cwd, env, args, uid/gid/groups, caps, rlimits,
//   hostname, mounts, default symlinks and devices, masked and read-only paths, oom_score_adj,
//   sysctls, id mappings, root propagation).
// - runtimetest(): runtimetest's assertions evaluated on such a report, one result per assertion.
// - Reaper: every runtime command of a test file runs under one child-subreaper process (python3 with
//   PR_SET_CHILD_SUBREAPER), so the init processes of created/detached containers are reaped by it
//   and not left as zombies under PID 1 (which does not reap on these machines).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { expect } from 'vitest';

export const OURS_CLI = fileURLToPath(new URL('../../cli-runtime/bin/oci-runtime.js', import.meta.url));
export type Which = 'runc' | 'ours';
export const RUNTIMES: readonly Which[] = ['runc', 'ours'];
export type Config = Record<string, any>;
export interface Result { code: number; stdout: string; stderr: string }

// ------------------------------------------------------------------ temp dirs

const temps: string[] = [];
export function tmp(prefix = 'oci-conf-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  temps.push(d);
  return d;
}
export function removeTemps(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

// ------------------------------------------------------------------ the reaper

const REAPER_PY = String.raw`
import os, sys, json, threading, ctypes, time
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:
    sys.stderr.write("reaper: PR_SET_CHILD_SUBREAPER failed\n"); sys.exit(125)
tracked = {}
tlock = threading.Lock()
olock = threading.Lock()
closed = threading.Event()
def out(o):
    with olock:
        sys.stdout.write(json.dumps(o) + "\n"); sys.stdout.flush()
def reader():
    for line in sys.stdin:
        m = json.loads(line)
        if "kill" in m:
            with tlock:
                for pid, i in list(tracked.items()):
                    if i == m["kill"]:
                        try: os.kill(pid, 9)
                        except OSError: pass
            continue
        fds = [os.open(m.get("stdin") or "/dev/null", os.O_RDONLY),
               os.open(m["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600),
               os.open(m["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)]
        with tlock:
            pid = os.fork()
            if pid == 0:
                try:
                    for n, fd in enumerate(fds): os.dup2(fd, n)
                    os.closerange(3, 4096)
                    if m.get("cwd"): os.chdir(m["cwd"])
                    os.execvpe(m["argv"][0], m["argv"], m["env"])
                except BaseException as e:
                    os.write(2, ("reaper: exec %s: %s\n" % (m["argv"][0], e)).encode())
                finally:
                    os._exit(127)
            tracked[pid] = m["id"]
        for fd in fds: os.close(fd)
        out({"started": m["id"], "pid": pid})
    closed.set()
threading.Thread(target=reader, daemon=True).start()
while True:
    try:
        pid, st = os.waitpid(-1, 0)
    except ChildProcessError:
        if closed.is_set(): break
        time.sleep(0.02); continue
    with tlock:
        i = tracked.pop(pid, None)
    if i is not None:
        c = os.waitstatus_to_exitcode(st)
        out({"id": i, "code": c if c >= 0 else 128 - c})
`;

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  env?: Record<string, string>;
  /** write stdout and stderr (both) to this file and keep it: what a detached container prints lands there */
  outputFile?: string;
}

export class Reaper {
  #proc: ChildProcess;
  #dir: string;
  #n = 0;
  #waiting = new Map<number, (code: number) => void>();
  #started = new Map<number, (pid: number) => void>();
  constructor() {
    this.#dir = tmp('oci-conf-reaper-');
    const script = join(this.#dir, 'reaper.py');
    writeFileSync(script, REAPER_PY);
    this.#proc = spawn('/usr/bin/python3', [script], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.#proc.stdout! }).on('line', (l) => {
      const m = JSON.parse(l) as { id?: number; code?: number; started?: number; pid?: number };
      if (m.started !== undefined) this.#started.get(m.started)?.(m.pid!);
      else if (m.id !== undefined) {
        this.#waiting.get(m.id)?.(m.code!);
        this.#waiting.delete(m.id);
      }
    });
  }

  /** Start ARGV under the reaper without waiting: its pid, and its result once it exits. */
  async spawn(argv: string[], opts: ExecOptions = {}): Promise<{ pid: number; done: Promise<Result> }> {
    const id = this.#n + 1;
    const started = new Promise<number>((resolve) => this.#started.set(id, resolve));
    const done = this.exec(argv, { timeoutMs: 24 * 3600 * 1000, ...opts });
    const pid = await started;
    this.#started.delete(id);
    return { pid, done };
  }

  /** Run ARGV to completion under the reaper; never throws on a non-zero exit. */
  async exec(argv: string[], opts: ExecOptions = {}): Promise<Result> {
    const id = ++this.#n;
    const out = opts.outputFile ?? join(this.#dir, `${id}.out`);
    const err = opts.outputFile ?? join(this.#dir, `${id}.err`);
    let stdin: string | undefined;
    if (opts.input !== undefined) {
      stdin = join(this.#dir, `${id}.in`);
      writeFileSync(stdin, opts.input);
    }
    const env = { ...process.env, ...opts.env } as Record<string, string>;
    delete env['NODE_OPTIONS'];
    const done = new Promise<number>((resolve) => this.#waiting.set(id, resolve));
    this.#proc.stdin!.write(JSON.stringify({ id, argv, stdout: out, stderr: err, stdin, cwd: opts.cwd, env }) + '\n');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        this.#proc.stdin!.write(JSON.stringify({ kill: id }) + '\n');
        resolve(-1);
      }, opts.timeoutMs ?? 30000);
    });
    let code = await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (code === -1) code = await done;
    const r = { code, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
    for (const f of [out, err, stdin]) if (f && f !== opts.outputFile) rmSync(f, { force: true });
    return r;
  }

  async close(): Promise<void> {
    this.#proc.stdin!.end();
    const exited = new Promise<void>((r) => this.#proc.once('exit', () => r()));
    const t = setTimeout(() => this.#proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
}

// ------------------------------------------------------------------ runtimes

/** A pair of state roots and helpers to call either runtime with runc's command line. */
export class Runtimes {
  readonly reaper = new Reaper();
  readonly roots: Record<Which, string> = { runc: tmp('oci-conf-runc-'), ours: tmp('oci-conf-ours-') };
  readonly created: Array<[Which, string]> = [];
  #n = 0;
  readonly prefix: string;
  constructor(area: string) {
    this.prefix = `conf-${area}-${process.pid}`;
  }
  id(which: Which): string {
    return `${this.prefix}-${++this.#n}-${which}`;
  }
  argv(which: Which, args: string[]): string[] {
    return which === 'runc' ? ['runc', '--root', this.roots.runc, ...args] : [process.execPath, OURS_CLI, '--root', this.roots.ours, ...args];
  }
  cmd(which: Which, args: string[], opts: ExecOptions = {}): Promise<Result> {
    const verb = args.find((a) => !a.startsWith('-'));
    if (verb === 'create' || verb === 'run') {
      const id = args[args.length - 1];
      if (id && !id.startsWith('-')) this.created.push([which, id]);
    }
    return this.reaper.exec(this.argv(which, args), opts);
  }
  async state(which: Which, id: string): Promise<Record<string, any> | undefined> {
    const r = await this.cmd(which, ['state', id]);
    if (r.code !== 0) return undefined;
    return JSON.parse(r.stdout) as Record<string, any>;
  }
  async waitStatus(which: Which, id: string, statuses: string[], timeoutMs = 10000): Promise<string | undefined> {
    const end = Date.now() + timeoutMs;
    let last: string | undefined;
    while (Date.now() < end) {
      const st = await this.state(which, id);
      if (!st) return 'absent';
      last = st['status'] as string | undefined;
      if (last && statuses.includes(last)) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    return last;
  }
  /** delete -f every container created through cmd(), then stop the reaper. */
  async cleanup(): Promise<void> {
    for (const [which, id] of this.created.splice(0)) await this.cmd(which, ['delete', '-f', id]);
  }
  async close(): Promise<void> {
    await this.cleanup();
    await this.reaper.close();
  }
}

// ------------------------------------------------------------------ bundles

let baseRootfsPath: string | undefined;

/** The @oci/fixtures busybox image unpacked by umoci (once per test file). */
export async function baseRootfs(): Promise<string> {
  if (baseRootfsPath) return baseRootfsPath;
  const fx = await import('@oci/fixtures');
  const info = await fx.buildFixture('busybox');
  const dir = tmp('oci-conf-base-');
  const r = spawnSync('umoci', ['unpack', '--image', `${info.layout}:latest`, join(dir, 'b')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('umoci unpack: ' + r.stderr);
  chmodSync(join(dir, 'b'), 0o755);
  baseRootfsPath = join(dir, 'b', 'rootfs');
  return baseRootfsPath;
}

export interface BundleOptions {
  /** give the bundle its own copy of the rootfs at BUNDLE/rootfs (root.path "rootfs"), for tests that write into it */
  copy?: boolean;
  /** called with the rootfs path before config.json is written (only with copy) */
  prep?: (rootfs: string) => void;
}

export async function makeBundle(config: Config, opts: BundleOptions = {}): Promise<{ dir: string; rootfs: string }> {
  const base = await baseRootfs();
  const dir = tmp('oci-conf-bundle-');
  let rootfs = base;
  const c = structuredClone(config);
  if (opts.copy) {
    rootfs = join(dir, 'rootfs');
    const r = spawnSync('cp', ['-a', base, rootfs], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error('cp: ' + r.stderr);
    opts.prep?.(rootfs);
    c['root'] = { ...c['root'], path: 'rootfs' };
  } else {
    c['root'] = { ...c['root'], path: base };
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c, null, 2));
  return { dir, rootfs };
}

export function writeConfig(dir: string, config: Config): void {
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
}

const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** runtime-tools generate.New("linux") as util.GetDefaultGenerator() uses it, minus the seccomp profile. */
export function generatorDefault(args: string[] = ['sh']): Config {
  return {
    ociVersion: '1.2.0',
    hostname: 'mrsdalloway',
    root: { path: 'rootfs', readonly: false },
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      capabilities: {
        bounding: [...DEFAULT_CAPS], permitted: [...DEFAULT_CAPS], inheritable: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS], ambient: [...DEFAULT_CAPS],
      },
    },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    },
  };
}

// ------------------------------------------------------------------ the probe (runtimetest's view)

const DEFAULT_SYMLINKS: Array<[string, string]> = [
  ['/dev/fd', '/proc/self/fd'], ['/dev/ptmx', 'pts/ptmx'], ['/dev/stdin', '/proc/self/fd/0'],
  ['/dev/stdout', '/proc/self/fd/1'], ['/dev/stderr', '/proc/self/fd/2'],
];
const DEFAULT_DEVICES: Array<{ path: string; type: string; major: number; minor: number }> = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3 }, { path: '/dev/zero', type: 'c', major: 1, minor: 5 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7 }, { path: '/dev/random', type: 'c', major: 1, minor: 8 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9 }, { path: '/dev/tty', type: 'c', major: 5, minor: 0 },
  { path: '/dev/ptmx', type: 'c', major: 5, minor: 2 },
];

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface ProbeOptions { propagation?: boolean; seccompGetcwd?: boolean }

/**
 * The script for process.args = ['sh', '-c', SCRIPT]: prints "@@section" headers followed by what
 * runtimetest looks at. $$ is the container process itself (the shell the runtime exec'd).
 */
export function probeScript(config: Config, opts: ProbeOptions = {}): string {
  const lines: string[] = ['p=$$'];
  const sec = (name: string) => lines.push(`echo @@${name}`);
  sec('cwd'); lines.push('pwd');
  sec('env'); lines.push(`tr '\\0' '\\n' < /proc/$p/environ | sort`);
  sec('cmdline'); lines.push(`md5sum < /proc/$p/cmdline | cut -d' ' -f1`);
  sec('status'); lines.push(`grep -E '^(Uid|Gid|Groups|NoNewPrivs|Seccomp|Cap[A-Za-z]+):' /proc/$p/status`);
  sec('umask'); lines.push('umask');
  sec('hostname'); lines.push('hostname', 'cat /proc/sys/kernel/domainname');
  sec('limits'); lines.push(`cat /proc/$p/limits`);
  sec('oom'); lines.push(`cat /proc/$p/oom_score_adj`);
  sec('sysctl');
  for (const k of Object.keys(config['linux']?.['sysctl'] ?? {})) lines.push(`echo ${q(k)}="$(cat /proc/sys/${k.replace(/\./g, '/')})"`);
  sec('uid_map'); lines.push(`cat /proc/$p/uid_map`);
  sec('gid_map'); lines.push(`cat /proc/$p/gid_map`);
  sec('mountinfo'); lines.push(`cat /proc/$p/mountinfo`);
  sec('links');
  for (const [l] of DEFAULT_SYMLINKS) lines.push(`if [ -L ${l} ]; then echo "${l} -> $(readlink ${l})"; elif [ -e ${l} ]; then echo "${l} notlink"; else echo "${l} missing"; fi`);
  sec('devices');
  const devs = [...DEFAULT_DEVICES.map((d) => d.path), ...((config['linux']?.['devices'] ?? []) as Array<{ path: string }>).map((d) => d.path)];
  for (const d of devs) lines.push(`stat -L -c '%n %F %t:%T %a %u %g' ${q(d)} 2>/dev/null || echo ${q(d)} missing`);
  // runtimetest testReadAccess: dirs are readable when they list an entry; files and char devices when
  // one byte can be read. Fifos and block devices cannot be tested (never opened here: a fifo would block).
  sec('masked');
  for (const m of (config['linux']?.['maskedPaths'] ?? []) as string[]) {
    lines.push(`x=${q(m)}; if [ ! -e "$x" ] && [ ! -L "$x" ]; then echo "$x absent"; elif [ -p "$x" ]; then echo "$x fifo"; elif [ -b "$x" ]; then echo "$x blockdev"; elif [ -d "$x" ]; then [ -n "$(ls -A "$x" 2>/dev/null | head -1)" ] && echo "$x readable" || echo "$x unreadable"; else [ "$(head -c1 "$x" 2>/dev/null | wc -c)" = 1 ] && echo "$x readable" || echo "$x unreadable"; fi`);
  }
  sec('readonly');
  for (const m of (config['linux']?.['readonlyPaths'] ?? []) as string[]) {
    lines.push(`x=${q(m)}; if [ ! -e "$x" ] && [ ! -L "$x" ]; then echo "$x absent"; elif [ -p "$x" ]; then echo "$x fifo"; elif [ -b "$x" ]; then echo "$x blockdev"; elif [ -d "$x" ]; then (touch "$x/.wtest") 2>/dev/null && { echo "$x writable"; rm -f "$x/.wtest"; } || echo "$x notwritable"; else (printf a > "$x") 2>/dev/null && echo "$x writable" || echo "$x notwritable"; fi`);
  }
  sec('rootfs'); lines.push(`(touch /.wtest-$p) 2>/dev/null && { echo writable; rm -f /.wtest-$p; } || echo readonly`);
  if (opts.propagation) {
    // runtimetest validateRootfsPropagation: rbind / on a target, bind a test dir on a mount dir,
    // and see whether the new mount shows up under the target.
    sec('propagation');
    lines.push(
      'mkdir -p /target$p /mount$p /test$p && echo secret > /test$p/example',
      'if mount -o rbind / /target$p 2>/tmp/err$p; then mount -o bind /test$p /mount$p && { [ -e /target$p/mount$p/example ] && echo exposed || echo not-exposed; }; umount /mount$p; umount -l /target$p; else echo "rbind-failed: $(cat /tmp/err$p)"; fi',
      'rm -rf /target$p /mount$p /test$p /tmp/err$p',
    );
  }
  if (opts.seccompGetcwd) {
    sec('getcwd'); lines.push('busybox pwd -P >/dev/null 2>&1 && echo getcwd-ok || echo getcwd-fails');
  }
  sec('end');
  return lines.join('\n');
}

export type Report = Map<string, string[]>;

export function parseReport(stdout: string): Report {
  const r: Report = new Map();
  let cur: string[] | undefined;
  for (const l of stdout.split('\n')) {
    const m = /^@@(\S+)$/.exec(l);
    if (m) r.set(m[1]!, (cur = []));
    else if (cur && l !== '') cur.push(l);
  }
  return r;
}

/** mountinfo normalised: what is the same for the same config (no ids, no peer group numbers, no device numbers). */
export function normMount(line: string): string {
  const [left, right] = line.split(' - ');
  const f = left!.split(' ');
  const r = right!.split(' ');
  const optional = f.slice(6).map((o) => o.replace(/:\d+$/, '')).join(',') || '-';
  // each runtime runs its own copy of a bundle: the bundle path is the one expected difference
  // and where a container's cgroup lives when config.json has no cgroupsPath is the runtime's choice
  // (runc: /<id> under the caller's cgroup; ours: /oci-runtime/<id>)
  const root = r[0] === 'cgroup' ? '<container cgroup>' : f[3]!.replace(/\/oci-conf-bundle-[^/]+/, '/BUNDLE');
  return `${f[4]} root=${root} ${f[5]} [${optional}] ${r[0]} ${r[1]} ${r[2]}`;
}

export function mountinfoOf(report: Report): Array<{ root: string; mountpoint: string; fstype: string; source: string; line: string }> {
  return (report.get('mountinfo') ?? []).map((l) => {
    const [left, right] = l.split(' - ');
    const f = left!.split(' ');
    const r = right!.split(' ');
    return { root: f[3]!, mountpoint: f[4]!, fstype: r[0]!, source: r[1]!, line: l };
  });
}

// ------------------------------------------------------------------ runtimetest's assertions

export interface Check { name: string; ok: boolean; detail?: string }

const LIMIT_ROWS: Record<string, string> = {
  RLIMIT_CPU: 'Max cpu time', RLIMIT_FSIZE: 'Max file size', RLIMIT_DATA: 'Max data size', RLIMIT_STACK: 'Max stack size',
  RLIMIT_CORE: 'Max core file size', RLIMIT_RSS: 'Max resident set', RLIMIT_NPROC: 'Max processes',
  RLIMIT_NOFILE: 'Max open files', RLIMIT_MEMLOCK: 'Max locked memory', RLIMIT_AS: 'Max address space',
  RLIMIT_LOCKS: 'Max file locks', RLIMIT_SIGPENDING: 'Max pending signals', RLIMIT_MSGQUEUE: 'Max msgqueue size',
  RLIMIT_NICE: 'Max nice priority', RLIMIT_RTPRIO: 'Max realtime priority', RLIMIT_RTTIME: 'Max realtime timeout',
};

export const CAP_NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
].map((n) => 'CAP_' + n);
const CAP_LAST = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());

function statusField(report: Report, key: string): string | undefined {
  const l = (report.get('status') ?? []).find((s) => s.startsWith(key + ':'));
  return l?.slice(key.length + 1).trim();
}

/** runtimetest's mountMatch */
function mountMatches(cm: Config, sm: { mountpoint: string; fstype: string; source: string; root: string }): boolean {
  const clean = (p: string) => p.replace(/\/+$/, '') || '/';
  if (clean(cm['destination']) !== sm.mountpoint) return false;
  const isBind = ((cm['options'] ?? []) as string[]).some((o) => o === 'bind' || o === 'rbind');
  if (cm['type'] && cm['type'] !== sm.fstype) return false;
  const base = (p: string) => p.replace(/\/+$/, '').split('/').pop() ?? '';
  if (isBind) return !cm['source'] || base(cm['source']) === base(sm.root);
  return !cm['source'] || clean(cm['source']) === sm.source;
}

/** cmd/runtimetest's validations on a report, one Check per TAP assertion it would print. */
export function runtimetest(config: Config, report: Report, opts: { argsMd5?: boolean } = {}): Check[] {
  const checks: Check[] = [];
  const ok = (name: string, cond: boolean, detail?: string) => checks.push({ name, ok: cond, detail });
  const p = config['process'] ?? {};
  const linux = config['linux'] ?? {};
  // validateRootFS
  if (config['root']?.['readonly']) ok('root filesystem is readonly', report.get('rootfs')?.[0] === 'readonly');
  // validateHostname
  if (config['hostname']) ok('has expected hostname', report.get('hostname')?.[0] === config['hostname'], report.get('hostname')?.[0]);
  // validateProcess
  if (p['cwd']) ok('has expected working directory', report.get('cwd')?.[0] === p['cwd'], report.get('cwd')?.[0]);
  const env = report.get('env') ?? [];
  for (const e of (p['env'] ?? []) as string[]) ok(`has expected environment variable ${e.split('=')[0]}`, env.includes(e));
  // validatePosixMounts
  const mi = mountinfoOf(report);
  let j = 0;
  ((config['mounts'] ?? []) as Config[]).forEach((cm, i) => {
    const k = mi.slice(j).findIndex((sm) => mountMatches(cm, sm));
    if (k >= 0) {
      j += k + 1;
      ok(`mounts[${i}] (${cm['destination']}) found in order`, true);
    } else {
      const found = mi.some((sm) => mountMatches(cm, sm));
      ok(found ? `mounts[${i}] (${cm['destination']}) found in order` : `mounts[${i}] (${cm['destination']}) found`, false);
    }
  });
  // validatePosixUser
  const uid = statusField(report, 'Uid')?.split(/\s+/)[0];
  const gid = statusField(report, 'Gid')?.split(/\s+/)[0];
  ok('has expected user ID', uid === String(p['user']?.['uid'] ?? 0), uid);
  ok('has expected group ID', gid === String(p['user']?.['gid'] ?? 0), gid);
  const groups = (statusField(report, 'Groups') ?? '').split(/\s+/).filter(Boolean);
  for (const g of (p['user']?.['additionalGids'] ?? []) as number[]) ok(`has expected additional group ID ${g}`, groups.includes(String(g)));
  // validateRlimits
  const limits = report.get('limits') ?? [];
  for (const rl of (p['rlimits'] ?? []) as Array<{ type: string; soft: number; hard: number }>) {
    const row = limits.find((l) => l.startsWith(LIMIT_ROWS[rl.type] ?? '?'));
    const cols = row?.slice(26).trim().split(/\s+/) ?? [];
    const val = (s: string | undefined) => (s === 'unlimited' ? '18446744073709551615' : s);
    ok(`has expected soft ${rl.type}`, val(cols[0]) === String(rl.soft), cols[0]);
    ok(`has expected hard ${rl.type}`, val(cols[1]) === String(rl.hard), cols[1]);
  }
  // validateCapabilities
  if (p['capabilities']) {
    const sets: Array<[string, string]> = [['bounding', 'CapBnd'], ['effective', 'CapEff'], ['inheritable', 'CapInh'], ['permitted', 'CapPrm'], ['ambient', 'CapAmb']];
    for (const [set, field] of sets) {
      const mask = BigInt('0x' + (statusField(report, field) ?? '0'));
      const want = new Set((p['capabilities'][set] ?? []) as string[]);
      for (let c = 0; c <= CAP_LAST && c < CAP_NAMES.length; c++) {
        const name = CAP_NAMES[c]!;
        const isSet = (mask >> BigInt(c)) & 1n ? true : false;
        ok(want.has(name) ? `expected ${set} capability ${name} set` : `unexpected ${set} capability ${name} not set`, want.has(name) === isSet);
      }
    }
  }
  // validateDefaultSymlinks
  const links = report.get('links') ?? [];
  for (const [l, dest] of DEFAULT_SYMLINKS) {
    const row = links.find((x) => x.startsWith(l + ' '));
    ok(`has a file at default symlink path ${l}`, !!row && !row.endsWith(' missing'));
    ok(`file at default symlink path ${l} is a symlink`, !!row && row.includes(' -> '));
    ok(`symlink at default symlink path ${l} has the expected target`, row === `${l} -> ${dest}`, row);
  }
  // validateDefaultFS
  const fsOf = new Map(mi.map((m) => [m.mountpoint, m.fstype]));
  for (const [fs, type] of [['/proc', 'proc'], ['/sys', 'sysfs'], ['/dev/pts', 'devpts'], ['/dev/shm', 'tmpfs']] as const) ok(`mount ${fs} has expected type`, fsOf.get(fs) === type, fsOf.get(fs));
  // validateDefaultDevices, validateLinuxDevices
  const devRows = report.get('devices') ?? [];
  const checkDevice = (d: Config, what: string) => {
    const row = devRows.find((r) => r.startsWith(d['path'] + ' '));
    const exists = !!row && !row.endsWith(' missing');
    ok(`has a file at ${what}`, exists);
    if (!exists) return;
    const m = / (character special file|block special file|fifo|[a-z ]+?) ([0-9a-f]+):([0-9a-f]+) (\d+) (\d+) (\d+)$/.exec(row!);
    const kind = m?.[1] === 'character special file' ? 'c' : m?.[1] === 'block special file' ? 'b' : m?.[1] === 'fifo' ? 'p' : 'unmatched';
    const want = d['type'] === 'u' ? 'c' : d['type'];
    ok(`${what} has the expected type`, kind === want, row);
    if (kind !== want) return;
    if (kind !== 'p') {
      ok(`${what} has the expected major ID`, parseInt(m![2]!, 16) === d['major']);
      ok(`${what} has the expected minor ID`, parseInt(m![3]!, 16) === d['minor']);
    }
    if (d['fileMode'] !== undefined) ok(`${what} has the expected permissions`, parseInt(m![4]!, 8) === (d['fileMode'] & 0o777), m![4]);
    if (d['uid'] !== undefined) ok(`${what} has the expected user ID`, Number(m![5]) === d['uid']);
    if (d['gid'] !== undefined) ok(`${what} has the expected group ID`, Number(m![6]) === d['gid']);
  };
  for (const d of DEFAULT_DEVICES) checkDevice(d, `${d.path} (default device)`);
  ((linux['devices'] ?? []) as Config[]).forEach((d, i) => checkDevice(d, `"${d['path']}" (linux.devices[${i}])`));
  // validateLinuxProcess
  if (opts.argsMd5 !== false) {
    const md5 = createHash('md5').update(((p['args'] ?? []) as string[]).map((a) => a + '\0').join('')).digest('hex');
    ok('has expected process arguments', report.get('cmdline')?.[0] === md5);
  }
  ok('has expected noNewPrivileges', statusField(report, 'NoNewPrivs') === (p['noNewPrivileges'] ? '1' : '0'));
  // validateMaskedPaths
  const masked = report.get('masked') ?? [];
  for (const m of (linux['maskedPaths'] ?? []) as string[]) {
    const row = masked.find((r) => r.startsWith(m + ' '));
    ok(`cannot read masked path "${m}"`, !!row && !row.endsWith(' readable'), row);
  }
  // validateOOMScoreAdj
  if (p['oomScoreAdj'] !== undefined) ok('has expected OOM score adjustment', report.get('oom')?.[0] === String(p['oomScoreAdj']), report.get('oom')?.[0]);
  // validateROPaths
  const ro = report.get('readonly') ?? [];
  ((linux['readonlyPaths'] ?? []) as string[]).forEach((m, i) => {
    const row = ro.find((r) => r.startsWith(m + ' '));
    ok(`"${m}" (linux.readonlyPaths[${i}]) is not writable`, !!row && !row.endsWith(' writable'), row);
  });
  // validateRootfsPropagation
  const prop = linux['rootfsPropagation'] as string | undefined;
  const seen = report.get('propagation')?.[0];
  if (prop && seen !== undefined) {
    if (prop === 'shared') ok('shared root propagation exposes the new mount', seen === 'exposed', seen);
    else if (prop === 'unbindable') ok('root propagation is unbindable', seen.startsWith('rbind-failed'), seen);
    else ok(`${prop} root propagation does not expose the new mount`, seen === 'not-exposed', seen);
  }
  // validateSysctls
  const sys = report.get('sysctl') ?? [];
  for (const [k, v] of Object.entries((linux['sysctl'] ?? {}) as Record<string, string>)) ok(`has expected sysctl ${k}`, sys.includes(`${k}=${v}`));
  // validateUIDMappings, validateGIDMappings
  for (const [key, sec] of [['uidMappings', 'uid_map'], ['gidMappings', 'gid_map']] as const) {
    const want = (linux[key] ?? []) as Array<{ containerID: number; hostID: number; size: number }>;
    if (!want.length) continue;
    const have = (report.get(sec) ?? []).map((l) => l.trim().split(/\s+/).map(Number));
    ok(`/proc/self/${sec} has expected number of mappings`, have.length === want.length);
    for (const w of want) ok(`/proc/self/${sec} has expected mapping ${w.containerID} ${w.hostID} ${w.size}`, have.some((h) => h[0] === w.containerID && h[1] === w.hostID && h[2] === w.size));
  }
  return checks;
}

// ------------------------------------------------------------------ running one config with both runtimes

export interface Side { result: Result; report: Report; checks: Check[] }
export interface Both { runc: Side; ours: Side }

/** Set process.args to the probe, run the same bundle with runc then ours (foreground `run`). */
export async function probeBoth(rt: Runtimes, config: Config, opts: BundleOptions & ProbeOptions = {}): Promise<Both> {
  const c = structuredClone(config);
  c['process'].args = ['sh', '-c', probeScript(c, opts)];
  const out: Partial<Both> = {};
  for (const which of RUNTIMES) {
    // each runtime gets a fresh bundle (copies are written to by the masked/readonly probes)
    const b = await makeBundle(c, opts);
    const result = await rt.cmd(which, ['run', '--bundle', b.dir, rt.id(which)]);
    const report = parseReport(result.stdout);
    out[which] = { result, report, checks: runtimetest(c, report) };
  }
  return out as Both;
}

/**
 * In a user namespace the default devices are bind mounts of the host's nodes; the order in which
 * a runtime binds them is not specified (runc follows its own device table): sort each run of them.
 */
function sortDeviceBinds(lines: string[]): string[] {
  const out: string[] = [];
  let run: string[] = [];
  const flush = () => { out.push(...run.sort()); run = []; };
  for (const l of lines) {
    if (/^\/dev\/\S+ root=\/\S+ .* devtmpfs /.test(l)) run.push(l);
    else { flush(); out.push(l); }
  }
  flush();
  return out;
}

/** Sections that may legitimately differ between two runs (none so far); mountinfo is normalised. */
export function comparable(report: Report): Record<string, string[]> {
  const o: Record<string, string[]> = {};
  for (const [k, v] of report) o[k] = k === 'mountinfo' ? sortDeviceBinds(v.map(normMount)) : v;
  return o;
}

export function failed(checks: Check[]): string[] {
  return checks.filter((c) => !c.ok).map((c) => c.name + (c.detail ? ` (${c.detail})` : ''));
}

/** per-file tally printed at the end, for docs/runtime-conformance.md */
export const tally = { runs: 0, sectionsEqual: 0, sections: 0, checks: 0, oursPass: 0, runcPass: 0 };
export function count(b: Both): void {
  tally.runs++;
  const o = comparable(b.ours.report);
  const r = comparable(b.runc.report);
  for (const k of new Set([...Object.keys(o), ...Object.keys(r)])) {
    tally.sections++;
    if (JSON.stringify(o[k]) === JSON.stringify(r[k])) tally.sectionsEqual++;
  }
  tally.checks += b.ours.checks.length;
  tally.oursPass += b.ours.checks.filter((c) => c.ok).length;
  tally.runcPass += b.runc.checks.filter((c) => c.ok).length;
}
export function printTally(area: string): void {
  if (process.env['OCI_CONFORMANCE_TALLY']) console.log(`TALLY ${area} ${JSON.stringify(tally)}`);
}

/**
 * Runs one inside-container probe with both runtimes and asserts what every "inside" conformance test
 * asserts: runc succeeds, ours exits the same, the reports are equal, and ours fails no runtimetest
 * assertion that runc passes.
 */
export async function conformBoth(rt: Runtimes, config: Config, opts: BundleOptions & ProbeOptions = {}): Promise<Both> {
  const b = await probeBoth(rt, config, opts);
  count(b);
  expect(b.runc.result.code, 'runc: ' + b.runc.result.stderr).toBe(0);
  expect(b.ours.result.code, 'ours: ' + b.ours.result.stderr).toBe(b.runc.result.code);
  expect(comparable(b.ours.report)).toEqual(comparable(b.runc.report));
  const runcFailed = new Set(failed(b.runc.checks));
  expect(failed(b.ours.checks).filter((f) => !runcFailed.has(f))).toEqual([]);
  return b;
}
