// Resolution of paths inside a rootfs with chroot semantics ("securejoin"):
// symlinks met in intermediate components are followed relative to the rootfs
// (an absolute target restarts at the rootfs, ".." stops at it), so the result
// is always a real directory inside the rootfs.
import * as fs from 'node:fs';
import { UnpackError } from './errors.js';

const MAX_LINKS = 40;

export class RootResolver {
  readonly root: string;
  /** clean path (joined) -> real rootfs-relative directory path */
  private cache = new Map<string, string>();

  private readonly prefix: string;

  constructor(root: string) {
    this.root = root;
    this.prefix = root.endsWith('/') ? root : `${root}/`;
  }

  /** Absolute path of a clean rootfs-relative path ('' is the rootfs). */
  abs(rel: string): string {
    return rel === '' ? this.root : this.prefix + rel;
  }

  invalidate(): void {
    this.cache.clear();
  }

  remember(parts: string[], real: string): void {
    this.cache.set(parts.join('/'), real);
  }

  /**
   * Resolve clean path components to a real directory path relative to the rootfs
   * ('' for the rootfs itself). Missing directories are created (mode 0755) when
   * create is true (onCreate is told), otherwise undefined is returned.
   * A non-directory in the way: ERR_NOT_A_DIRECTORY.
   */
  resolveDir(parts: string[], create: boolean, onCreate?: (rel: string) => void): string | undefined {
    if (parts.length === 0) return '';
    const key = parts.join('/');
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;

    // start from the longest cached prefix
    let start = 0;
    let cur: string[] = [];
    for (let i = parts.length - 1; i > 0; i--) {
      const c = this.cache.get(parts.slice(0, i).join('/'));
      if (c !== undefined) {
        start = i;
        cur = c === '' ? [] : c.split('/');
        break;
      }
    }
    const todo = parts.slice(start);
    let links = 0;
    let consumed = start; // how many of the original parts are resolved (for caching prefixes)
    let viaLinks = 0; // components pushed by symlink expansion still to process
    while (todo.length > 0) {
      const c = todo.shift()!;
      const original = viaLinks === 0;
      if (!original) viaLinks--;
      if (c === '' || c === '.') {
        if (original) consumed++;
        continue;
      }
      if (c === '..') {
        cur.pop();
        if (original) consumed++;
        continue;
      }
      const next = [...cur, c];
      const abs = this.prefix + next.join('/');
      const st = fs.lstatSync(abs, { throwIfNoEntry: false });
      if (st === undefined) {
        if (!create) return undefined;
        fs.mkdirSync(abs, { mode: 0o755 });
        fs.chmodSync(abs, 0o755);
        onCreate?.(next.join('/'));
        cur = next;
      } else if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) {
          throw new UnpackError('ERR_UNSAFE_PATH', `too many levels of symbolic links resolving "${key}"`, {
            path: key,
            hint: 'the layer contains a symlink loop',
          });
        }
        const target = fs.readlinkSync(abs);
        if (target.startsWith('/')) cur = [];
        const tparts = target.split('/');
        todo.unshift(...tparts);
        viaLinks += tparts.length;
        if (original) consumed++;
        continue;
      } else if (st.isDirectory()) {
        cur = next;
      } else {
        throw new UnpackError('ERR_NOT_A_DIRECTORY', `"${key}": /${next.join('/')} is not a directory`, {
          path: key,
          hint: 'a layer entry needs a directory where a lower layer has a file',
        });
      }
      if (original) consumed++;
      if (viaLinks === 0) this.cache.set(parts.slice(0, consumed).join('/'), cur.join('/'));
    }
    const real = cur.join('/');
    this.cache.set(key, real);
    return real;
  }
}
