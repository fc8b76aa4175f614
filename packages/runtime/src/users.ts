import { closeSync, fstatSync, lstatSync, openSync, readlinkSync, readSync, constants } from 'node:fs';

// O_PATH is not in node's fs.constants; the value is the same on every Linux architecture node supports
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;
const MAX_LINKS = 40;

/**
 * Open REL (a path as seen from inside the container) below ROOTFS, one component at a time, each
 * relative to the directory fd of the previous one (through /proc/self/fd/N, never a whole host path):
 * a symlink is read and its target resolved again inside the rootfs (an absolute target restarts at
 * the rootfs, `..` stops at it, like runc's securejoin), and nothing is ever opened by following a
 * link. So `etc -> /etc` or `etc -> ../../../etc` in an image, or swapped in by a running container
 * during `exec`, cannot make us read the host's files. Returns an fd of a regular file, or undefined.
 */
function openInRoot(rootfs: string, rel: string): number | undefined {
  let root: number;
  try {
    root = openSync(rootfs, O_PATH | O_CLOEXEC | constants.O_DIRECTORY);
  } catch {
    return undefined;
  }
  const stack = [root];
  const todo = rel.split('/').filter((c) => c !== '' && c !== '.');
  let links = 0;
  try {
    while (todo.length > 0) {
      const comp = todo.shift()!;
      if (comp === '..') {
        if (stack.length > 1) closeSync(stack.pop()!);
        continue;
      }
      const here = `/proc/self/fd/${stack[stack.length - 1]!}/${comp}`;
      const st = lstatSync(here, { throwIfNoEntry: false });
      if (!st) return undefined;
      if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) return undefined;
        const target = readlinkSync(here, 'utf8');
        if (target.startsWith('/')) while (stack.length > 1) closeSync(stack.pop()!);
        todo.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
        continue;
      }
      const last = todo.length === 0;
      // O_NOFOLLOW: if the component was swapped for a symlink since lstat, the open fails
      const fd = openSync(here, (last ? constants.O_RDONLY | constants.O_NONBLOCK : O_PATH | constants.O_DIRECTORY) | constants.O_NOFOLLOW | O_CLOEXEC);
      if (last) return fd;
      stack.push(fd);
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    for (const fd of stack) closeSync(fd);
  }
}

/** Read a small regular file inside ROOTFS, resolved inside it (see openInRoot); undefined if absent or unsafe. */
function readSmall(rootfs: string, rel: string, max = 1 << 20): string | undefined {
  const fd = openInRoot(rootfs, rel);
  if (fd === undefined) return undefined;
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > max) return undefined;
    const b = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, b, off, st.size - off, off);
      if (n <= 0) break;
      off += n;
    }
    return b.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * HOME for UID from the container's /etc/passwd, like runc. The file is resolved inside ROOTFS (never
 * the host's); an unreadable file counts as absent (HOME=/). Like runc, /etc/group memberships are not
 * added: a numeric config.json user gets its gid plus `additionalGids` only. `passwd`: the text read (undefined:
 * absent or unsafe), which a recorded run checks again before it is replayed (replay.ts).
 */
export function lookupUser(rootfs: string, uid: number): { home: string; passwd: string | undefined } {
  const pw = readSmall(rootfs, 'etc/passwd');
  if (pw) {
    for (const l of pw.split('\n')) {
      const f = l.split(':');
      if (f.length >= 6 && f[2] !== '' && Number(f[2]) === uid) return { home: f[5] || '/', passwd: pw };
    }
  }
  return { home: '/', passwd: pw };
}
