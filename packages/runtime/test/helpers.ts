import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PKG = fileURLToPath(new URL('..', import.meta.url));
export const HELPER = join(PKG, 'native', 'oci-runtime-init');
export const CLI = fileURLToPath(new URL('../../cli-runtime/bin/oci-runtime.js', import.meta.url));

export interface Result { code: number | null; stdout: string; stderr: string }

/** Run a command to completion (stdin empty), collecting output. */
export function sh(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: opts.cwd });
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    c.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const t = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 20000);
    c.on('error', reject);
    c.on('close', (code, sig) => {
      clearTimeout(t);
      resolve({ code: code ?? (sig ? 128 : null), stdout: out, stderr: err });
    });
    // a command that exits without reading its stdin (most: oci-runtime state/list/kill now exit within a few ms)
    // closes the pipe first: EPIPE here is not the test's failure
    c.stdin.on('error', () => {});
    c.stdin.end(opts.input ?? '');
  });
}

let rootfsCache: string | undefined;
const cleanups: string[] = [];

export function tmp(prefix = 'oci-rt-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  cleanups.push(d);
  return d;
}

export function cleanupAll(): void {
  for (const d of cleanups.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A busybox rootfs: the @oci/fixtures busybox image unpacked by umoci, or busybox-static copied in. */
export async function busyboxRootfs(): Promise<string> {
  if (rootfsCache) return rootfsCache;
  const base = tmp('oci-rt-rootfs-');
  try {
    const fx = await import('@oci/fixtures');
    const info = await fx.buildFixture('busybox');
    const layout = (info as { gzipLayout?: string }).gzipLayout ?? info.layout;
    const r = spawnSync('umoci', ['unpack', '--image', `${layout}:latest`, join(base, 'b')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    chmodSync(join(base, 'b'), 0o755);
    rootfsCache = join(base, 'b', 'rootfs');
  } catch {
    const rootfs = join(base, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    spawnSync('chroot', [rootfs, '/bin/busybox', '--install', '-s', '/bin']);
    rootfsCache = rootfs;
  }
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc', 'root']) mkdirSync(join(rootfsCache, d), { recursive: true });
  if (!existsSync(join(rootfsCache, 'etc', 'passwd'))) writeFileSync(join(rootfsCache, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  if (!existsSync(join(rootfsCache, 'etc', 'group'))) writeFileSync(join(rootfsCache, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  return rootfsCache;
}

export type Config = Record<string, any>;

/** `runc spec` in a fresh bundle pointing at the shared busybox rootfs, edited by FN. */
export async function bundle(edit: (c: Config) => void = () => {}): Promise<string> {
  const rootfs = await busyboxRootfs();
  const dir = tmp('oci-rt-bundle-');
  const r = spawnSync('runc', ['spec'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error('runc spec failed: ' + r.stderr);
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Config;
  c['root'].path = rootfs;
  c['process'].terminal = false;
  edit(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c, null, 2));
  return dir;
}

export const ROOT = tmp('oci-rt-state-');
export const RUNC_ROOT = tmp('oci-rt-runc-');

let n = 0;
export function uid(prefix = 'c'): string {
  return `${prefix}-${process.pid}-${++n}`;
}

/** our CLI */
export function ours(args: string[], opts: { input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  return sh(process.execPath, [CLI, '--root', ROOT, ...args], opts);
}
export function runc(args: string[], opts: { input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  return sh('runc', ['--root', RUNC_ROOT, ...args], opts);
}

/** Run BUNDLE in the foreground with both runtimes. */
export async function both(b: string): Promise<{ ours: Result; runc: Result }> {
  const o = await ours(['run', '--bundle', b, uid('o')]);
  const r = await runc(['run', '--bundle', b, uid('r')]);
  return { ours: o, runc: r };
}

/**
 * Start a detached container under a child subreaper (our helper's `reap` mode) so its init is
 * reaped by us and not left to PID 1. Resolves once the pid file exists; `done` settles when every
 * process of it has exited (after delete).
 */
export async function detached(which: 'ours' | 'runc', args: string[]): Promise<{ pid: number; done: Promise<number> }> {
  const pidFile = join(tmp('oci-rt-pid-'), 'pid');
  const log = join(tmp('oci-rt-log-'), 'out');
  const fd = openSync(log, 'w');
  const [cmd, pre] = which === 'ours' ? [process.execPath, [CLI, '--root', ROOT]] : ['runc', ['--root', RUNC_ROOT]];
  const [verb, ...rest] = args;
  const c = spawn(HELPER, ['reap', cmd, ...pre, verb!, '--pid-file', pidFile, ...rest], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const done = new Promise<number>((r) => c.on('exit', (code) => r(code ?? 1)));
  let exited = false;
  void done.then(() => (exited = true));
  for (let i = 0; i < 1000 && !existsSync(pidFile); i++) {
    if (exited) throw new Error(`${which} ${args.join(' ')} failed: ${readFileSync(log, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!existsSync(pidFile)) throw new Error('no pid file: ' + readFileSync(log, 'utf8'));
  let pid = 0;
  for (let i = 0; i < 100 && !pid; i++) {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!pid) await new Promise((r) => setTimeout(r, 5));
  }
  return { pid, done };
}

/** /proc/self/mountinfo normalised: mount point, fs type, per-mount options, super options minus ids. */
export function normMountinfo(s: string): string[] {
  return s
    .trim()
    .split('\n')
    .map((l) => {
      const [left, right] = l.split(' - ');
      const f = left!.split(' ');
      const r = right!.split(' ');
      const superOpts = (r[2] ?? '').split(',').filter((o) => !/^(size|nr_inodes|inode64|uid|gid|mode)=/.test(o) || /^mode=/.test(o)).join(',');
      return `${f[4]} ${r[0]} ${f[5]} ${superOpts}`;
    });
}
