import { rmSync } from 'node:fs';

/**
 * Last-resort cleanup at process exit: kill child processes we started and
 * remove temp dirs we created, synchronously (an 'exit' listener cannot await).
 */
const pids = new Set<number>();
const dirs = new Set<string>();
let installed = false;

function onExit(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  pids.clear();
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  dirs.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', onExit);
}

/** @internal */
export function trackPid(pid: number): void {
  install();
  pids.add(pid);
}
/** @internal */
export function untrackPid(pid: number): void {
  pids.delete(pid);
}
/** @internal */
export function trackDir(dir: string): void {
  install();
  dirs.add(dir);
}
/** @internal */
export function untrackDir(dir: string): void {
  dirs.delete(dir);
}
