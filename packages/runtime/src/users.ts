import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import { join } from 'node:path';

/** Read a small regular file inside ROOTFS; refuses symlinks in the last component (never follows out). */
function readSmall(rootfs: string, rel: string, max = 1 << 20): string | undefined {
  let fd: number;
  try {
    fd = openSync(join(rootfs, rel), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
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

/** HOME and supplementary groups for UID from the container's /etc/passwd and /etc/group, like runc. */
export function lookupUser(rootfs: string, uid: number, gid: number): { home: string; groups: number[] } {
  let home = '/';
  let name: string | undefined;
  const pw = readSmall(rootfs, 'etc/passwd');
  if (pw) {
    for (const l of pw.split('\n')) {
      const f = l.split(':');
      if (f.length >= 6 && Number(f[2]) === uid && f[2] !== '') { name = f[0]; home = f[5] || '/'; break; }
    }
  }
  const groups: number[] = [];
  const gr = name ? readSmall(rootfs, 'etc/group') : undefined;
  if (gr && name) {
    for (const l of gr.split('\n')) {
      const f = l.split(':');
      if (f.length >= 4 && f[3]!.split(',').includes(name)) {
        const g = Number(f[2]);
        if (Number.isInteger(g) && g !== gid && !groups.includes(g)) groups.push(g);
      }
    }
  }
  return { home, groups };
}
