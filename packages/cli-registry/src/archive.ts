import { constants, createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, open, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, pack } from 'tar-stream';
import { CliError } from './errors.js';

/*
 * oci-archive: is a tar of an OCI image layout, and the archive may be hostile. Extraction is
 * deliberately narrower than `tar -x`: only directories and regular files are written (hardlinks to
 * files already extracted become copies), every name is checked to stay inside the temp dir, every
 * file is created with O_EXCL|O_NOFOLLOW (so nothing planted can be written through and duplicates
 * are refused), and entry count and total size are bounded. Any failure removes the temp dir.
 */

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

/** Limits of one extraction (defaults suit any real image). */
/** A private temporary directory under --tmpdir / $TMPDIR, or a coded error saying which directory failed. */
async function tempDir(): Promise<string> {
  try {
    return await mkdtemp(join(tmpdir(), 'oci-archive-'));
  } catch (err) {
    throw new CliError('ERR_TMPDIR', `cannot create a temporary directory in ${tmpdir()}: ${(err as Error).message}`, {
      cause: err, hint: 'Point --tmpdir (or TMPDIR) at an existing, writable directory with room for the image.',
    });
  }
}

export interface ExtractLimits {
  /** Most entries (files, dirs, links) accepted; default 100 000. */
  maxEntries?: number;
  /**
   * Most bytes written in all; default: the archive's own size for a plain tar (a tar cannot hold
   * more), 20× its size + 1 GiB for a gzip'ed one (gzip bombs).
   */
  maxBytes?: number;
  signal?: AbortSignal;
}

const DEFAULT_MAX_ENTRIES = 100_000;

function invalid(file: string, what: string, cause?: unknown): CliError {
  return new CliError('ERR_INVALID_ARCHIVE', `oci-archive ${file} ${what}`, {
    hint: 'An oci-archive: must be a tar (optionally gzip\'ed) of an OCI image layout, e.g. written by `skopeo copy ... oci-archive:FILE` or `tar -C LAYOUT -cf FILE .`.',
    cause,
  });
}

function unsafe(file: string, entry: string, why: string): CliError {
  return new CliError('ERR_UNSAFE_PATH', `oci-archive ${file} has an unsafe entry "${entry}": ${why}; nothing was extracted`, {
    hint: 'The archive tries to reach outside its own directory (or plants a link). Do not use it; recreate it from a trusted OCI layout.',
  });
}

function tooLarge(file: string, what: string): CliError {
  return new CliError('ERR_TOO_LARGE', `oci-archive ${file} ${what}`, {
    hint: 'The archive exceeds the extraction limits; if it is genuine, unpack it yourself and copy from oci:DIR.',
  });
}

/** Splits a tar entry name into safe components, or returns undefined when it escapes. `[]` is the root. */
function safeParts(name: string): string[] | undefined {
  if (name.includes('\0') || name.startsWith('/') || name.includes('\\')) return undefined;
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return undefined;
  return parts;
}

/** mkdir -p under root, refusing any existing component that is not a real directory. */
async function mkdirInside(root: string, parts: string[]): Promise<void> {
  let cur = root;
  for (const p of parts) {
    cur = join(cur, p);
    try {
      await mkdir(cur, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await lstat(cur);
      if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    }
  }
}

type Compression = 'none' | 'gzip';

async function sniff(file: string): Promise<{ size: number; compression: Compression }> {
  let fh;
  try {
    // O_NONBLOCK: a fifo named as the archive must not hang us; fstat then refuses it
    fh = await open(file, constants.O_RDONLY | O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError('ERR_USAGE', `oci-archive ${file} does not exist`, { cause: err });
    throw invalid(file, `cannot be opened (${code ?? String(err)})`, err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw invalid(file, 'is not a regular file');
    const head = Buffer.alloc(6);
    const { bytesRead } = await fh.read(head, 0, 6, 0);
    const h = head.subarray(0, bytesRead);
    if (h.length >= 2 && h[0] === 0x1f && h[1] === 0x8b) return { size: st.size, compression: 'gzip' };
    const other = h.length >= 4 && h.readUInt32BE(0) === 0x28b52ffd ? 'zstd'
      : h.length >= 3 && h.toString('latin1', 0, 3) === 'BZh' ? 'bzip2'
        : h.length >= 6 && h.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) ? 'xz' : undefined;
    if (other) {
      throw new CliError('ERR_INVALID_ARCHIVE', `oci-archive ${file} is ${other}-compressed, which is not supported`, {
        hint: `Decompress it first (e.g. \`${other === 'zstd' ? 'zstd -d' : other === 'bzip2' ? 'bunzip2' : 'unxz'} ...\`); plain and gzip'ed tars are read directly.`,
      });
    }
    return { size: st.size, compression: 'none' };
  } finally {
    await fh.close();
  }
}

/**
 * Extracts an oci-archive (a tar, or gzip'ed tar, of an OCI layout) into a new temp dir.
 * Errors: ERR_UNSAFE_PATH (names or links escaping, symlinks), ERR_INVALID_ARCHIVE (not a tar,
 * truncated, devices/fifos, duplicate entries, no layout inside), ERR_TOO_LARGE (limits).
 * The temp dir is removed on every failure; on success the caller calls `remove()`.
 */
export async function extractArchive(file: string, limits: ExtractLimits = {}): Promise<{ dir: string; remove: () => Promise<void> }> {
  limits.signal?.throwIfAborted();
  const { size, compression } = await sniff(file);
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxBytes = limits.maxBytes ?? (compression === 'gzip' ? size * 20 + 2 ** 30 : size);
  const dir = await tempDir();
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  const ex = extract();
  const streams: Readable[] = compression === 'gzip' ? [input, createGunzip()] : [input];
  const done = (pipeline as (...s: unknown[]) => Promise<void>)(...streams, ex, limits.signal ? { signal: limits.signal } : {});
  done.catch(() => undefined); // observed below; a throw mid-loop must not leave it unhandled
  const files = new Set<string>();
  try {
    let entries = 0;
    let bytes = 0;
    try {
      for await (const entry of ex) {
        const h = entry.header;
        const shown = h.name.length > 200 ? `${h.name.slice(0, 200)}...` : h.name;
        if (++entries > maxEntries) throw tooLarge(file, `has more than ${maxEntries} entries`);
        const parts = safeParts(h.name);
        if (!parts) throw unsafe(file, shown, h.name.startsWith('/') ? 'absolute name' : 'name leaves the archive root');
        const rel = parts.join('/');
        const target = join(dir, ...parts);
        switch (h.type) {
          case 'directory':
            await mkdirInside(dir, parts);
            entry.resume();
            break;
          case 'file':
          case 'contiguous-file': {
            if (parts.length === 0) throw unsafe(file, shown, 'a file named as the archive root');
            const n = h.size ?? 0;
            if (bytes + n > maxBytes) {
              // a plain tar cannot hold more than its own size: the entry's header lies or the file was cut
              if (compression === 'none' && limits.maxBytes === undefined) throw invalid(file, `is truncated (entry "${shown}" claims ${n} bytes)`);
              throw tooLarge(file, `would extract more than ${maxBytes} bytes`);
            }
            bytes += n;
            await mkdirInside(dir, parts.slice(0, -1));
            const fh = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o644).catch((err: NodeJS.ErrnoException) => {
              if (err.code === 'EEXIST') throw invalid(file, `has the entry "${shown}" more than once (or over a directory)`);
              throw err;
            });
            // the stream closes fh, also on error; a tar cut inside this entry fails `done`, not the entry
            const writing = pipeline(entry, fh.createWriteStream());
            writing.catch(() => undefined);
            try {
              await Promise.race([writing, done.then(() => writing)]);
            } catch (err) {
              entry.destroy();
              throw err;
            }
            files.add(rel);
            break;
          }
          case 'link': {
            // a hardlink is only a way to store the same bytes twice: copy a file extracted before
            const lparts = safeParts(h.linkname ?? '');
            entry.resume();
            if (!lparts || lparts.length === 0) throw unsafe(file, shown, `hardlink to "${h.linkname ?? ''}" points outside the archive`);
            const from = lparts.join('/');
            if (!files.has(from)) throw unsafe(file, shown, `hardlink to "${h.linkname ?? ''}", which is not a file extracted before it`);
            if (parts.length === 0) throw unsafe(file, shown, 'a link named as the archive root');
            await mkdirInside(dir, parts.slice(0, -1));
            const st = await lstat(join(dir, ...lparts));
            if (bytes + st.size > maxBytes) throw tooLarge(file, `would extract more than ${maxBytes} bytes`);
            bytes += st.size;
            await copyFile(join(dir, ...lparts), target, constants.COPYFILE_EXCL).catch((err: NodeJS.ErrnoException) => {
              if (err.code === 'EEXIST') throw invalid(file, `has the entry "${shown}" more than once`);
              throw err;
            });
            files.add(rel);
            break;
          }
          case 'symlink':
            entry.resume();
            throw unsafe(file, shown, `symlink to "${h.linkname ?? ''}" (an OCI layout never needs one, and one could be written through)`);
          case 'character-device':
          case 'block-device':
          case 'fifo':
            entry.resume();
            throw invalid(file, `has a ${h.type} entry "${shown}"; an OCI layout holds only files and directories`);
          default:
            entry.resume();
            throw invalid(file, `has an entry "${shown}" of unsupported type ${String(h.type)}`);
        }
      }
      await done;
    } catch (err) {
      input.destroy();
      ex.destroy();
      if (CliError.is(err)) throw err;
      if ((err as Error)?.name === 'AbortError') throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'ELOOP' || code === 'EISDIR') {
        throw unsafe(file, '(an entry)', 'a file and a directory share a name');
      }
      if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' || code === 'ERR_STREAM_PREMATURE_CLOSE' || /tar|Unexpected end|unexpected end/i.test((err as Error)?.message ?? '')) {
        throw invalid(file, `is not a valid tar archive or is truncated (${(err as Error).message})`, err);
      }
      throw err;
    }
    if (!files.has('oci-layout') || !files.has('index.json')) {
      throw invalid(file, entries === 0 ? 'is empty' : 'does not hold an OCI layout (no oci-layout and index.json at its root)');
    }
    return { dir, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, constants.O_RDONLY | O_NOFOLLOW);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function walk(root: string, rel = ''): Promise<{ rel: string; dir: boolean }[]> {
  const out: { rel: string; dir: boolean }[] = [];
  for (const e of (await readdir(join(root, rel), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name === '.oci-ts') continue; // layout-internal lock/ingest dir
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      out.push({ rel: r, dir: true });
      out.push(...(await walk(root, r)));
    } else if (e.isFile()) {
      out.push({ rel: r, dir: false });
    }
  }
  return out;
}

/**
 * A temp layout that becomes `file` (a tar) on commit. The tar is written to a hidden temp file
 * beside `file`, synced, and renamed over it: an interrupted copy never leaves a half archive.
 */
export async function archiveWorkspace(file: string): Promise<{ dir: string; commit: () => Promise<void>; remove: () => Promise<void> }> {
  const dir = await tempDir();
  return {
    dir,
    remove: () => rm(dir, { recursive: true, force: true }),
    async commit() {
      const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
      const p = pack();
      const out = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o644);
      const writing = pipeline(p, out.createWriteStream());
      writing.catch(() => undefined);
      try {
        for (const e of await walk(dir)) {
          if (e.dir) {
            p.entry({ name: `${e.rel}/`, type: 'directory', mode: 0o755, mtime: new Date(0) });
            continue;
          }
          const src = await open(join(dir, e.rel), constants.O_RDONLY | O_NOFOLLOW);
          const st = await src.stat().catch(async (err: unknown) => {
            await src.close();
            throw err;
          });
          const entry = p.entry({ name: e.rel, size: st.size, mode: 0o644, mtime: new Date(0) });
          await pipeline(src.createReadStream(), entry);
        }
        p.finalize();
        await writing;
        await syncFile(tmp);
        await rename(tmp, file);
      } catch (err) {
        p.destroy();
        await rm(tmp, { force: true });
        throw err;
      }
    },
  };
}
