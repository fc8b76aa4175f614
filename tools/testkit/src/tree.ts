import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { run, which } from './process.js';

export type TreeEntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket';

/** One path of a snapshot. Hardlinked files are 'file' entries; all but the first (in sort order) carry `hardlinkOf`. */
export interface TreeEntry {
  /** Relative path with '/' separators, no leading './' ('.' is the root when includeRoot). */
  path: string;
  type: TreeEntryType;
  /** Permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes for files, length of the target for symlinks, 0 otherwise. */
  size: number;
  /** Hex sha256 of the content (files, unless hash: false). */
  sha256?: string;
  /** Symlink target, as stored. */
  linkname?: string;
  /** Device numbers for 'char' and 'block'. */
  rdev?: { major: number; minor: number };
  nlink: number;
  /** For a file with nlink > 1: the first path (in sort order) in the tree that is the same inode. */
  hardlinkOf?: string;
  /** Extended attributes, name -> value as hex (present only when the path has some). */
  xattrs?: Record<string, string>;
  /** Modification time in whole seconds. */
  mtime: number;
}

export interface SnapshotOptions {
  /** Hash file contents (default true). */
  hash?: boolean;
  /** Read xattrs with getfattr (default true; skipped if getfattr is missing). */
  xattrs?: boolean;
  /** Include the root directory itself as '.' (default false). */
  includeRoot?: boolean;
  /** Leave out paths for which this returns true (and everything under a left-out dir). */
  exclude?: (path: string) => boolean;
}

function typeOf(st: import('node:fs').Stats): TreeEntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'socket';
}

/** Linux dev_t split (glibc gnu_dev_major/minor). */
function splitDev(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return { major, minor };
}

async function sha256File(path: string, size: number): Promise<string> {
  const h = createHash('sha256');
  if (size <= 1 << 20) return h.update(await readFile(path)).digest('hex');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Undo getfattr's octal escapes (\012, \\) in file names. */
function unescapeGetfattr(s: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === 0x5c && i + 3 < raw.length + 0 && /^[0-7]{3}$/.test(raw.subarray(i + 1, i + 4).toString('latin1'))) {
      bytes.push(parseInt(raw.subarray(i + 1, i + 4).toString('latin1'), 8));
      i += 3;
    } else if (c === 0x5c && raw[i + 1] === 0x5c) {
      bytes.push(0x5c);
      i += 1;
    } else bytes.push(c);
  }
  return Buffer.from(bytes).toString('utf8');
}

async function readXattrs(root: string): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  if (!(await which('getfattr'))) return out;
  const r = await run('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root]);
  let current: Record<string, string> | undefined;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      const abs = unescapeGetfattr(line.slice(8));
      const rel = abs === root ? '.' : abs.startsWith(root + '/') ? abs.slice(root.length + 1) : abs;
      current = {};
      out.set(rel, current);
    } else if (current && line.includes('=')) {
      const eq = line.indexOf('=');
      const value = line.slice(eq + 1);
      current[line.slice(0, eq)] = value.startsWith('0x') ? value.slice(2) : value;
    } else if (current && line.trim() !== '' && !line.startsWith('#')) {
      current[line.trim()] = '';
    }
  }
  return out;
}

/**
 * Walk `dir` (without following symlinks) and describe every path: type,
 * mode with special bits, owner, size, content hash, symlink target, device
 * numbers, hardlink identity and xattrs. Sorted by path.
 */
export async function snapshotTree(dir: string, options: SnapshotOptions = {}): Promise<TreeEntry[]> {
  const hash = options.hash ?? true;
  const root = dir.replace(/\/+$/, '') || '/';
  const entries: TreeEntry[] = [];
  const inodes = new Map<string, TreeEntry[]>();
  const toHash: { entry: TreeEntry; abs: string }[] = [];

  async function visit(abs: string, rel: string): Promise<void> {
    const st = await lstat(abs);
    const type = typeOf(st);
    const e: TreeEntry = {
      path: rel,
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: type === 'file' || type === 'symlink' ? st.size : 0,
      nlink: st.nlink,
      mtime: Math.floor(st.mtimeMs / 1000),
    };
    if (type === 'symlink') e.linkname = await readlink(abs);
    if (type === 'char' || type === 'block') e.rdev = splitDev(st.rdev);
    if (type === 'file') {
      if (hash) toHash.push({ entry: e, abs });
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const list = inodes.get(key);
        if (list) list.push(e);
        else inodes.set(key, [e]);
      }
    }
    if (rel !== '.' || options.includeRoot) entries.push(e);
    if (type === 'dir') {
      const names = await readdir(abs);
      names.sort();
      for (const name of names) {
        const childRel = rel === '.' ? name : `${rel}/${name}`;
        if (options.exclude?.(childRel)) continue;
        await visit(join(abs, name), childRel);
      }
    }
  }

  await visit(root, '.');
  await pool(toHash, 8, async ({ entry, abs }) => {
    entry.sha256 = await sha256File(abs, entry.size);
  });
  for (const list of inodes.values()) {
    list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const e of list.slice(1)) e.hardlinkOf = list[0]!.path;
  }
  if (options.xattrs ?? true) {
    const xa = await readXattrs(root);
    for (const e of entries) {
      const x = xa.get(e.path);
      if (x && Object.keys(x).length > 0) e.xattrs = x;
    }
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return entries;
}

export type TreeField = Exclude<keyof TreeEntry, 'path'>;

export interface DiffOptions {
  /** Fields not to compare. Default ['mtime', 'nlink']. */
  ignore?: TreeField[];
  /** Paths not to compare at all. */
  ignorePaths?: RegExp | ((path: string) => boolean);
}

function fmt(field: TreeField, v: unknown): string {
  if (v === undefined) return '(none)';
  if (field === 'mode' && typeof v === 'number') return `0${v.toString(8)}`;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/**
 * Compare two snapshots; returns one readable line per difference
 * (empty when the trees match), e.g. `only in b: etc/x`,
 * `usr/bin/su: mode 04755 != 0755`.
 */
export function diffTrees(a: readonly TreeEntry[], b: readonly TreeEntry[], options: DiffOptions = {}): string[] {
  const ignore = new Set<string>(options.ignore ?? ['mtime', 'nlink']);
  const skip = options.ignorePaths;
  const skipped = (p: string): boolean => (skip === undefined ? false : typeof skip === 'function' ? skip(p) : skip.test(p));
  const mb = new Map(b.map((e) => [e.path, e]));
  const ma = new Map(a.map((e) => [e.path, e]));
  const lines: string[] = [];
  const fields: TreeField[] = ['type', 'mode', 'uid', 'gid', 'size', 'sha256', 'linkname', 'rdev', 'nlink', 'hardlinkOf', 'xattrs', 'mtime'];
  const paths = [...new Set([...ma.keys(), ...mb.keys()])].sort();
  for (const p of paths) {
    if (skipped(p)) continue;
    const x = ma.get(p);
    const y = mb.get(p);
    if (!x) {
      lines.push(`only in b: ${p} (${y!.type})`);
      continue;
    }
    if (!y) {
      lines.push(`only in a: ${p} (${x.type})`);
      continue;
    }
    for (const f of fields) {
      if (ignore.has(f)) continue;
      const vx = fmt(f, x[f]);
      const vy = fmt(f, y[f]);
      if (vx !== vy) lines.push(`${p}: ${f} ${vx} != ${vy}`);
    }
  }
  return lines;
}
