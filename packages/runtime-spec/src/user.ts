import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeSpecError } from './errors.js';

/** The result of resolving an image's `User` string. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups from /etc/group membership (only when `User` names no group). */
  additionalGids: number[];
  /** Home directory from /etc/passwd, when the user has an entry. */
  home?: string;
}

/** The contents of a rootfs's /etc/passwd and /etc/group (undefined when the file does not exist). */
export interface UserDatabase {
  passwd?: string | undefined;
  group?: string | undefined;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 0x7fffffff; // what the kernel and libcontainer accept for a uid/gid

function parseId(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : Number.POSITIVE_INFINITY;
}

/** An id field of /etc/passwd or /etc/group: numeric and in range, else the line is malformed. */
function fileId(s: string | undefined): number | undefined {
  const n = parseId(s);
  return n === undefined || n > MAX_ID ? undefined : n;
}

function lines(text: string): string[][] {
  const out: string[][] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    out.push(line.split(':'));
  }
  return out;
}

/** Parse /etc/passwd text; malformed lines (too few fields, ids not numeric or above 2^31-1) are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const uid = fileId(f[2]);
    const gid = fileId(f[3]);
    if (f.length < 4 || uid === undefined || gid === undefined) continue;
    out.push({ name: f[0] ?? '', uid, gid, home: f[5] ?? '' });
  }
  return out;
}

/** Parse /etc/group text; malformed lines (as for parsePasswd) are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const gid = fileId(f[2]);
    if (f.length < 3 || gid === undefined) continue;
    const members = (f[3] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '');
    out.push({ name: f[0] ?? '', gid, members });
  }
  return out;
}

function invalid(user: string, message: string, hint: string): RuntimeSpecError {
  return new RuntimeSpecError('ERR_INVALID_USER', message, { hint, actual: user });
}

function checkRange(user: string, n: number, what: string): number {
  if (n > MAX_ID) throw invalid(user, `${what} ${n} in image User "${user}" is out of range (0 .. ${MAX_ID})`, 'Use a smaller numeric id.');
  return n;
}

/**
 * Resolve an image config `User` (`''`, `name`, `uid`, `name:group`, `uid:gid`, `name:gid`, `uid:group`) through
 * /etc/passwd and /etc/group text, as the image-spec conversion document and runc/umoci do:
 * numeric ids need no entry; names must exist (ERR_INVALID_USER otherwise); a user found in /etc/passwd gets its
 * primary gid and home from there; supplementary groups come from /etc/group membership only when no group is
 * given. An empty `User` means uid 0 (and root's entry, if any).
 */
export function resolveUser(user: string, db: UserDatabase = {}): ResolvedUser {
  const colon = user.indexOf(':');
  const userArg = colon < 0 ? user : user.slice(0, colon);
  const groupArg = colon < 0 ? '' : user.slice(colon + 1);
  const uidArg = parseId(userArg);
  const gidArg = parseId(groupArg);
  const users = db.passwd === undefined ? [] : parsePasswd(db.passwd);
  const match = users.find((u) => (userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg));

  const out: ResolvedUser = { uid: 0, gid: 0, additionalGids: [] };
  if (match) {
    out.uid = checkRange(user, match.uid, 'uid');
    out.gid = checkRange(user, match.gid, 'gid');
    if (match.home !== '') out.home = match.home;
  } else if (userArg !== '') {
    if (uidArg === undefined) {
      throw invalid(
        user,
        db.passwd === undefined
          ? `image User "${user}": cannot resolve user name "${userArg}": the rootfs has no /etc/passwd`
          : `image User "${user}": no user "${userArg}" in the rootfs's /etc/passwd`,
        'Use a numeric uid[:gid] in the image config, or add the user to the image.',
      );
    }
    out.uid = checkRange(user, uidArg, 'uid');
  }

  if (groupArg !== '' || match) {
    const groups = db.group === undefined ? [] : parseGroup(db.group);
    if (groupArg !== '') {
      const g = groups.find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
      if (g) out.gid = checkRange(user, g.gid, 'gid');
      else if (gidArg !== undefined) out.gid = checkRange(user, gidArg, 'gid');
      else {
        throw invalid(
          user,
          db.group === undefined
            ? `image User "${user}": cannot resolve group name "${groupArg}": the rootfs has no /etc/group`
            : `image User "${user}": no group "${groupArg}" in the rootfs's /etc/group`,
          'Use a numeric gid in the image config, or add the group to the image.',
        );
      }
    } else if (match) {
      for (const g of groups) if (g.members.includes(match.name)) out.additionalGids.push(checkRange(user, g.gid, 'gid'));
    }
  }
  return out;
}

export interface ReadInRootOptions {
  /** Refuse files larger than this (default 4 MiB) with ERR_TOO_LARGE. */
  maxSize?: number;
}

function unsafe(rootfs: string, path: string, why: string): RuntimeSpecError {
  return new RuntimeSpecError('ERR_UNSAFE_PATH', `refusing to read ${path} in ${rootfs}: ${why}`, {
    path,
    hint: 'The image contains a symlink that points outside its root filesystem; fix or remove it.',
  });
}

/**
 * Read a small regular file at `path` (as seen from inside the container) below `rootfs`, resolving every
 * symlink inside the rootfs: absolute targets restart at the rootfs, and a `..` that would climb above the
 * rootfs is refused with ERR_UNSAFE_PATH (so is a loop of more than 40 links). The last component is opened
 * with O_NOFOLLOW and must be a regular file. Returns undefined when the file (or a directory on the way) does
 * not exist.
 */
export function readFileInRoot(rootfs: string, path: string, options: ReadInRootOptions = {}): Buffer | undefined {
  const maxSize = options.maxSize ?? 4 * 1024 * 1024;
  const todo = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const comp = todo.shift()!;
    if (comp === '.') continue;
    if (comp === '..') {
      if (done.length === 0) throw unsafe(rootfs, path, 'a ".." climbs above the root filesystem');
      done.pop();
      continue;
    }
    const here = join(rootfs, ...done, comp);
    let st;
    try {
      st = lstatSync(here);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    if (st.isSymbolicLink()) {
      if (++links > 40) throw unsafe(rootfs, path, 'too many levels of symbolic links');
      const target = readlinkSync(here, 'utf8');
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
      continue;
    }
    if (todo.length > 0 && !st.isDirectory()) return undefined;
    done.push(comp);
  }
  if (done.length === 0) return undefined;
  const full = join(rootfs, ...done);
  let fd: number;
  try {
    fd = openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw unsafe(rootfs, path, 'it was replaced by a symbolic link');
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw unsafe(rootfs, path, 'it is not a regular file');
    if (st.size > maxSize) {
      throw new RuntimeSpecError('ERR_TOO_LARGE', `${path} in ${rootfs} is ${st.size} bytes, more than ${maxSize}`, {
        path,
        hint: 'The file is implausibly large for its purpose; check the image.',
      });
    }
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/** Read /etc/passwd and /etc/group of a rootfs safely (see readFileInRoot). */
export function readUserDatabase(rootfs: string): UserDatabase {
  return {
    passwd: readFileInRoot(rootfs, '/etc/passwd')?.toString('utf8'),
    group: readFileInRoot(rootfs, '/etc/group')?.toString('utf8'),
  };
}
