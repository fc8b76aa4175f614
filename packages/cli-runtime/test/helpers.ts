// What the CLI's tests share: the launcher, temporary directories, running a command to its end, a busybox
// rootfs and a bundle from `runc spec`.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** the sh launcher npm links as the `oci-runtime` bin, as users and engines run it */
export const CLI = fileURLToPath(new URL('../bin/oci-runtime', import.meta.url));

const dirs: string[] = [];

/** a new directory (0755: containers that switch users can still enter it), removed by `removeTmp` */
export function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  dirs.push(d);
  return d;
}

export function removeTmp(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface R { code: number | null; stdout: string; stderr: string }

/** CMD ARGS run to the end with stdin empty, its output collected */
export function capture(cmd: string, args: string[], o: { cwd?: string; env?: Record<string, string> } = {}): Promise<R> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    c.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    c.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
  });
}

/** a rootfs with busybox and its applets, in a new temporary directory */
export function busyboxRootfs(): string {
  const rootfs = join(tmp('oci-cli-fs-'), 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  spawnSync('chroot', [rootfs, '/bin/busybox', '--install', '-s', '/bin']);
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  return rootfs;
}

/** a new bundle: `runc spec` with ROOTFS, no terminal, ARGS as the process, then EDIT */
export function bundle(rootfs: string, args: string[], edit: (c: Record<string, any>) => void = () => {}): string {
  const b = tmp('oci-cli-b-');
  spawnSync('runc', ['spec'], { cwd: b });
  const c = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
  c.root.path = rootfs;
  c.process.terminal = false;
  c.process.args = args;
  edit(c);
  writeFileSync(join(b, 'config.json'), JSON.stringify(c));
  return b;
}
