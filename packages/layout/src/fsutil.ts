import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { hostname } from 'node:os';

/** fsync a directory so a rename or unlink inside it is durable. @internal */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    await fh.sync();
  } catch (err) {
    // Some file systems refuse fsync on directories (EINVAL/EISDIR/EPERM); durability is then best effort.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close();
  }
}

let startTimeCache: string | undefined;

/** Forgets this process's start time (a restored process image is another process). @internal */
export function forgetStartTime(): void {
  startTimeCache = undefined;
}

/** The kernel start time of a process (Linux /proc), to tell a live pid from a recycled one. @internal */
export async function processStartTime(pid: number): Promise<string | undefined> {
  if (pid === process.pid && startTimeCache !== undefined) return startTimeCache;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
    // Field 2 (comm) may hold spaces and parentheses: parse after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = rest[19]; // field 22 overall
    if (pid === process.pid) startTimeCache = start;
    return start;
  } catch {
    return undefined;
  }
}

export interface Owner {
  pid: number;
  host: string;
  start?: string | undefined;
}

/** Identity of this process, written into lock files and temp file names. @internal */
export async function selfOwner(): Promise<Owner> {
  return { pid: process.pid, host: hostname(), start: await processStartTime(process.pid) };
}

/**
 * Whether the owner of a lock or temp file may still be running. Owners on another host are
 * always presumed alive (we cannot tell); a dead pid, or a pid whose start time differs (the pid
 * was recycled), means the owner is gone. @internal
 */
export async function ownerAlive(owner: Owner): Promise<boolean> {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: exists but belongs to someone else.
  }
  if (owner.start !== undefined) {
    const start = await processStartTime(owner.pid);
    if (start !== undefined && start !== owner.start) return false;
  }
  return true;
}

/**
 * A unique temp file name that records its writer: `<pid>.<start>.<random>.tmp`, so that gc can
 * remove temp files of dead writers without touching those of live ones. @internal
 */
export async function tempName(prefix: string): Promise<string> {
  const start = (await processStartTime(process.pid)) ?? '0';
  return `${prefix}${process.pid}.${start}.${randomBytes(6).toString('hex')}.tmp`;
}

/** Parse the owner back out of a name made by tempName. @internal */
export function tempOwner(name: string): Owner | undefined {
  const m = /^(?:[a-z]+-)?(\d+)\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
  if (m === null) return undefined;
  return { pid: Number(m[1]), host: hostname(), start: m[2] === '0' ? undefined : m[2] };
}

/**
 * Write `data` to `target` atomically: write a temp file in `tmpDir` (same file system), fsync it,
 * rename it over the target, fsync the target's directory. A crash leaves either the old or the
 * new file, never a mix. @internal
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string, tmpDir: string, targetDir: string): Promise<void> {
  const tmp = `${tmpDir}/${await tempName('w-')}`;
  const fh = await open(tmp, 'wx', 0o644);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fsyncDir(targetDir);
}

/** Remove a file, ignoring "not there". @internal */
export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => {});
}
