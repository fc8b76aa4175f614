import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryError } from './errors.js';

/*
 * @internal Helpers that keep the `dir:` transport inside its directory. A `dir:` directory may be
 * hostile: its files are opened with O_NOFOLLOW|O_NONBLOCK (a symlink is refused, a fifo cannot
 * hang us) and fstat'ed (only regular files are read); writes go to O_EXCL|O_NOFOLLOW temp files
 * renamed into place, so a planted symlink is replaced, never written through.
 */

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a fifo';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symlink';
  return 'not a regular file';
}

export function notRegular(path: string, what: string, hint?: string): RegistryError {
  return new RegistryError('ERR_UNSAFE_PATH', `${path} is ${what}; dir: reads and writes only regular files inside the directory`, {
    hint: hint ?? 'The dir: directory was tampered with (or not written by `skopeo copy ... dir:DIR`); replace the entry with the real file, or copy the image again.',
  });
}

/**
 * @internal Opens `path` (one name inside a dir: directory) for reading: symlinks, fifos, devices and
 * directories are ERR_UNSAFE_PATH; a missing file is `undefined`.
 */
export async function openRegular(path: string): Promise<{ fh: FileHandle; size: number } | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK') throw notRegular(path, 'a symlink');
    if (code === 'ENXIO') throw notRegular(path, 'a socket or device without a reader');
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(path, kind(st));
    return { fh, size: st.size };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

/** @internal Reads at most `max` bytes of an open file; more is ERR_TOO_LARGE (whatever fstat said). */
export async function readBounded(fh: FileHandle, path: string, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buf = Buffer.alloc(Math.min(1 << 20, max + 1 - total));
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    total += bytesRead;
    if (total > max) throw new RegistryError('ERR_TOO_LARGE', `${path} is larger than ${max} bytes`, { hint: 'A manifest this large is not a real manifest; the directory is damaged or hostile.' });
    chunks.push(buf.subarray(0, bytesRead));
  }
  return Buffer.concat(chunks);
}

/**
 * @internal lstat of a name inside a dir: destination: a regular file's size; undefined when absent or
 * when something else (symlink, fifo, device) squats the name, which putBlob then replaces by rename;
 * a directory there is ERR_UNSAFE_PATH (rename cannot replace it).
 */
export async function regularSize(path: string): Promise<number | undefined> {
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return undefined;
  if (st.isDirectory()) throw notRegular(path, 'a directory');
  return st.isFile() ? st.size : undefined;
}

/**
 * @internal Creates the dir: destination, as skopeo does: a new or empty directory is used as is; a
 * non-empty one must be a dir: image (a regular `version` file with `version` text), whose contents are
 * then removed so that it holds one image; anything else is refused rather than overwritten. The
 * directory itself (the last component the user named) must not be a symlink: a planted
 * `DIR -> /elsewhere` would send every write elsewhere.
 */
export async function prepareDestinationDir(dir: string, version: string): Promise<void> {
  const st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (st?.isSymbolicLink()) {
    throw notRegular(dir, 'a symlink', 'Name the real directory (e.g. `realpath DIR`) as the dir: destination; dir: does not follow a symlink out.');
  }
  if (st && !st.isDirectory()) {
    throw new RegistryError('ERR_UNSAFE_PATH', `${dir} exists and is not a directory`, { hint: 'Name a new or existing directory as the dir: destination.' });
  }
  if (!st) {
    await mkdir(dir, { recursive: true });
    return;
  }
  const names = await readdir(dir);
  if (names.length === 0) return;
  const opened = await openRegular(join(dir, 'version'));
  let text = '';
  if (opened) {
    try {
      text = (await readBounded(opened.fh, join(dir, 'version'), 4096)).toString('utf8');
    } finally {
      await opened.fh.close().catch(() => undefined);
    }
  }
  if (text !== version) {
    throw new RegistryError('ERR_DESTINATION_NOT_EMPTY', `${dir} is not empty and is not a dir: image; refusing to overwrite it`, {
      hint: 'Name a new or empty directory, or one written by `skopeo copy ... dir:DIR` (whose contents are then replaced).',
    });
  }
  // rm does not follow symlinks: a planted link is removed, never its target
  for (const name of names) await rm(join(dir, name), { recursive: true, force: true });
}

/**
 * @internal Opens a fresh temp file beside `final` (O_EXCL|O_NOFOLLOW): nothing already there is
 * followed or reused. Returns the handle and its name.
 */
export async function openTemp(dir: string, name: string): Promise<{ fh: FileHandle; tmp: string }> {
  const tmp = join(dir, `.${name}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o644);
  return { fh, tmp };
}

/** @internal Writes `bytes` to DIR/NAME by temp file + rename (replaces a planted symlink, never writes through it). */
export async function writeInside(dir: string, name: string, bytes: Uint8Array | string): Promise<void> {
  const { fh, tmp } = await openTemp(dir, name);
  try {
    try {
      await fh.writeFile(bytes);
    } finally {
      await fh.close();
    }
    const existing = await lstat(join(dir, name)).catch(() => undefined);
    if (existing?.isDirectory()) throw notRegular(join(dir, name), 'a directory');
    await rename(tmp, join(dir, name));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
