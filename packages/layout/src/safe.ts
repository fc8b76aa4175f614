import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LayoutError } from './errors.js';

// Safe file-system access inside a layout a stranger may have handed us: never follow a symlink
// out of the layout, never block on a fifo, never open a device node. Like umoci, only the layout
// root itself may be a symlink (the user chose that path); everything below it must be a real
// directory or a regular file. A race (a directory swapped for a symlink between our check and our
// open) is out of scope: whoever can do that can write the layout anyway.

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

function unsafe(path: string, what: string, hint: string): LayoutError {
  return new LayoutError('ERR_UNSAFE_PATH', `${path} ${what}`, { hint, path });
}

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a fifo';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device node';
  return 'not a regular file';
}

/**
 * Check that each of `parts` below `root` is a real directory (not a symlink) when it exists.
 * Returns false when one is missing (nothing below it can exist), throws ERR_UNSAFE_PATH otherwise.
 * @internal
 */
export async function checkDirs(root: string, parts: readonly string[]): Promise<boolean> {
  let path = root;
  for (const part of parts) {
    path = join(path, part);
    if (!(await checkDir(path, parts))) return false;
  }
  return true;
}

/** lstat, `undefined` when there is nothing at `path` (or a part of it is not a directory, or it is too long). */
async function lstatIfThere(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return undefined;
    throw err;
  }
}

/** One directory of checkDirs: false when missing. */
async function checkDir(path: string, parts: readonly string[]): Promise<boolean> {
  const st = await lstatIfThere(path);
  if (st === undefined) return false;
  if (!st.isDirectory()) {
    throw unsafe(path, `is ${kindOf(st)}, not a directory inside the layout`, `a layout's ${parts.join('/')} must be a real directory; a symlink could lead reads and writes outside the layout. Remove it and copy the image again`);
  }
  return true;
}

/**
 * mkdir -p `parts` below `root`, refusing (ERR_UNSAFE_PATH) to go through a symlink: each part that was there
 * already is checked before anything is made below it (a symlinked part would otherwise have its child made
 * outside the layout); a part made here is a real directory and is not looked at again. @internal
 */
export async function makeDirs(root: string, parts: readonly string[]): Promise<string> {
  let path = root;
  for (let i = 0; i < parts.length; i++) {
    path = join(path, parts[i]!);
    try {
      await mkdir(path);
      continue;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // there already (possibly made meanwhile by another process): it must be a real directory
    await checkDir(path, parts);
  }
  return path;
}

/**
 * lstat a file that must be a regular file: `undefined` when missing; ERR_UNSAFE_PATH when it is
 * a symlink, fifo, socket or device (a directory counts as missing, as it has always done).
 * @internal
 */
export async function lstatRegular(path: string): Promise<Stats | undefined> {
  const st = await lstatFile(path);
  return st === 'directory' ? undefined : st;
}

/** lstatRegular, telling a directory from a missing file. */
async function lstatFile(path: string): Promise<Stats | 'directory' | undefined> {
  const st = await lstatIfThere(path);
  if (st === undefined) return undefined;
  if (st.isFile()) return st;
  if (st.isDirectory()) return 'directory';
  throw unsafe(path, `is ${kindOf(st)}, not a regular file`, 'a layout holds regular files only; remove it (a symlink could expose files outside the layout, a fifo or device could hang or harm the reader)');
}

/**
 * Open a regular file for reading without following a symlink and without blocking on a fifo.
 * A missing file or a directory is an ENOENT errno error for the caller to map (with `directory: true`
 * for a directory); a symlink, fifo, socket or device is ERR_UNSAFE_PATH.
 * @internal
 */
export async function openRegular(path: string): Promise<FileHandle> {
  // lstat first so that a device node is never opened at all (opening one can have side effects).
  const st = await lstatFile(path);
  if (st === undefined || st === 'directory') {
    // a directory counts as missing; `directory` tells the callers that care without another lstat
    throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT', path, directory: st === 'directory' });
  }
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') {
      throw unsafe(path, 'is a symbolic link', 'a layout holds regular files only; remove the link');
    }
    throw err;
  }
  try {
    const now = await fh.stat();
    if (!now.isFile()) throw unsafe(path, `is ${kindOf(now)}, not a regular file`, 'a layout holds regular files only; remove it');
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
  return fh;
}

/** The errno codes that mean "the disk is full" and "this layout cannot be written". */
const noSpace = new Set(['ENOSPC', 'EDQUOT']);
const readOnly = new Set(['EROFS', 'EACCES', 'EPERM']);

/**
 * Turn a plain errno error from writing into the layout into a LayoutError with a stable code
 * (ERR_NO_SPACE, ERR_READ_ONLY); anything else is returned unchanged. @internal
 */
export function writeError(err: unknown, dir: string): unknown {
  if (LayoutError.is(err) || typeof err !== 'object' || err === null) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined) return err;
  if (noSpace.has(code)) {
    return new LayoutError('ERR_NO_SPACE', `no space left on the file system of ${dir} (${code}); nothing was stored`, {
      hint: 'free some space (gc() removes unreferenced blobs) or use a layout on a larger file system, then retry',
      cause: err,
      path: dir,
    });
  }
  if (readOnly.has(code)) {
    return new LayoutError('ERR_READ_ONLY', `cannot write to the layout ${dir} (${code}: ${(err as Error).message})`, {
      hint: 'the layout is on a read-only file system or you lack write permission; reading still works, writing needs a writable copy',
      cause: err,
      path: (err as NodeJS.ErrnoException).path ?? dir,
    });
  }
  return err;
}
