// Filesystem writes only: applies parsed layer entries (tar.ts) to a rootfs.
//
// Safety model: every path is resolved inside the rootfs component by component
// (resolve.ts) with chroot semantics, so a symlink in an intermediate component
// never leads outside; the final component is never followed: whatever is there
// is removed and the new node is created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW,
// mkdir, symlink, link, mknod all fail on an existing name). This assumes no
// other process changes the rootfs while we write to it; unpackImage() guarantees
// that by unpacking into a fresh private (0700) directory.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { UnpackError, throwIfAborted, unsafePath, type UnpackWarning } from './errors.js';
import { RootResolver } from './resolve.js';
import { TarReader, tarError, type EntryHeader, type TarHandler } from './tar.js';

export interface ApplyLayerOptions {
  /** Not root: skip chown (owners are recorded in the result), skip devices with a warning. Default: true unless running as uid 0. */
  rootless?: boolean;
  /** Turn warnings into errors. */
  strict?: boolean;
  signal?: AbortSignal;
  onWarning?: (warning: UnpackWarning) => void;
  onProgress?: (progress: { entries: number; bytes: number }) => void;
  /** Refuse (ERR_LAYER_TOO_LARGE) a tar of more than this many bytes; default: no limit. */
  maxLayerSize?: number | undefined;
}

export interface OwnerRecord {
  /** Absolute path inside the rootfs, e.g. "/etc/shadow". */
  path: string;
  uid: number;
  gid: number;
}

export interface ApplyLayerResult {
  entries: number;
  /** Bytes of file content written. */
  bytes: number;
  warnings: UnpackWarning[];
  /** Rootless mode: the owners from the layer that were not applied (only non-root owners). */
  owners: OwnerRecord[];
}

const O_FILE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * The process umask, read without changing it (process.umask() with no argument sets and restores it,
 * a race with other code creating files). undefined when /proc is not there.
 */
function currentUmask(): number | undefined {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
    return m ? Number.parseInt(m[1]!, 8) : undefined;
  } catch {
    return undefined;
  }
}

export function isRootless(): boolean {
  return typeof process.getuid === 'function' ? process.getuid() !== 0 : true;
}

/** State of one layer application. @internal */
class LayerApplier implements TarHandler {
  readonly root: string;
  readonly resolver: RootResolver;
  readonly rootless: boolean;
  readonly strict: boolean;
  readonly opts: ApplyLayerOptions;
  /** Real rootfs-relative paths written by this layer, with their ancestors. */
  readonly layerPaths = new Set<string>();
  readonly dirTimes: { abs: string; mtime: Date }[] = [];
  readonly result: ApplyLayerResult = { entries: 0, bytes: 0, warnings: [], owners: [] };
  /** The regular file being written: its fd and entry (the reader streams its data in between). */
  private fd = -1;
  private file: EntryHeader | undefined;
  private fileAbs = '';
  private fileRel = '';

  /** Permission bits open(2) cannot give a new file (the umask); all of them when unknown. */
  private readonly umask: number;
  /** Whether the file being written was created with its final mode already (no fchmod needed). */
  private fileModeSet = false;

  constructor(root: string, opts: ApplyLayerOptions) {
    this.root = root;
    this.resolver = new RootResolver(root);
    this.rootless = opts.rootless ?? isRootless();
    this.strict = opts.strict ?? false;
    this.opts = opts;
    this.umask = currentUmask() ?? 0o777;
  }

  warn(code: string, message: string, path?: string): void {
    if (this.strict) throw new UnpackError(code, message, { path, hint: 'strict mode turns this warning into an error' });
    const w: UnpackWarning = path === undefined ? { code, message } : { code, message, path };
    this.result.warnings.push(w);
    this.opts.onWarning?.(w);
  }

  mark(rel: string): void {
    let p = rel;
    while (p !== '' && !this.layerPaths.has(p)) {
      this.layerPaths.add(p);
      const i = p.lastIndexOf('/');
      p = i < 0 ? '' : p.slice(0, i);
    }
  }

  /** Remove whatever is at abs (never following a symlink). */
  remove(abs: string, st?: fs.Stats): void {
    const s = st ?? fs.lstatSync(abs, { throwIfNoEntry: false });
    if (!s) return;
    if (s.isDirectory()) {
      fs.rmSync(abs, { recursive: true, force: true });
      this.resolver.invalidate();
    } else {
      fs.unlinkSync(abs);
      if (s.isSymbolicLink()) this.resolver.invalidate();
    }
  }

  /** Run create(); if the name exists, remove it (unless keep() says so) and retry once. */
  createExclusive(abs: string, create: () => void, keepExisting?: (st: fs.Stats) => boolean): boolean {
    try {
      create();
      return true;
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
    }
    const st = fs.lstatSync(abs);
    if (keepExisting?.(st)) return false;
    this.remove(abs, st);
    create();
    return true;
  }

  owner(abs: string, rel: string, e: EntryHeader, fd?: number): void {
    if (this.rootless) {
      if (e.uid !== 0 || e.gid !== 0) this.result.owners.push({ path: '/' + rel, uid: e.uid, gid: e.gid });
      return;
    }
    if (fd !== undefined) fs.fchownSync(fd, e.uid, e.gid);
    else fs.lchownSync(abs, e.uid, e.gid);
  }

  xattrs(abs: string, rel: string, e: EntryHeader): void {
    for (const [name, value] of e.xattrs) {
      if (this.rootless && !name.startsWith('user.')) {
        this.warn('WARN_XATTR_SKIPPED', `xattr ${name} of /${rel} skipped in rootless mode`, '/' + rel);
        continue;
      }
      try {
        execFileSync('setfattr', ['-h', '-n', name, '-v', '0x' + value.toString('hex'), abs], { stdio: 'pipe' });
      } catch (err) {
        this.warn('WARN_XATTR_FAILED', `could not set xattr ${name} on /${rel}: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`, '/' + rel);
      }
    }
  }

  entry(e: EntryHeader): void {
    const r = this.result;
    r.entries++;
    if (e.parts.length === 0) {
      // the rootfs itself ("./")
      if (e.kind === 'directory' || e.kind === 'opaque') {
        if (e.kind === 'opaque') this.clearLower('');
        else this.metaDir(this.root, '', e);
        return;
      }
      throw unsafePath(e.rawName, `a ${e.kind} cannot replace the rootfs directory`);
    }

    if (e.kind === 'whiteout') {
      const parent = this.resolver.resolveDir(e.parts.slice(0, -1), false);
      if (parent === undefined) return;
      const name = e.parts[e.parts.length - 1]!;
      const rel = parent === '' ? name : `${parent}/${name}`;
      const abs = this.resolver.abs(rel);
      if (this.layerPaths.has(rel)) {
        // same-layer entries are not hidden by a whiteout of that layer
        const st = fs.lstatSync(abs, { throwIfNoEntry: false });
        if (st?.isDirectory()) this.clearLower(rel);
        return;
      }
      this.remove(abs);
      return;
    }
    if (e.kind === 'opaque') {
      const dir = this.resolver.resolveDir(e.parts, true, (rel) => this.mark(rel))!;
      this.mark(dir);
      this.clearLower(dir);
      return;
    }

    const parent = this.resolver.resolveDir(e.parts.slice(0, -1), true, (rel) => this.mark(rel))!;
    const name = e.parts[e.parts.length - 1]!;
    const rel = parent === '' ? name : `${parent}/${name}`;
    const abs = this.resolver.abs(rel);
    this.mark(rel);

    switch (e.kind) {
      case 'file': {
        // most files can be created with their final mode (no setuid/setgid/sticky bit, nothing the umask
        // removes): one fchmod less; the others are created 0600 and fchmod'ed after the chown
        const direct = (e.mode & 0o7000) === 0 && (e.mode & this.umask) === 0;
        this.createExclusive(abs, () => {
          this.fd = fs.openSync(abs, O_FILE, direct ? e.mode : 0o600);
        });
        this.fileModeSet = direct;
        this.file = e;
        this.fileAbs = abs;
        this.fileRel = rel;
        return;
      }
      case 'directory': {
        const created = this.createExclusive(
          abs,
          () => fs.mkdirSync(abs, { mode: 0o700 }),
          (st) => st.isDirectory(),
        );
        if (created) this.resolver.remember(e.parts, rel);
        this.metaDir(abs, rel, e);
        return;
      }
      case 'symlink': {
          // a new name cannot be on a cached resolution; replacing one invalidates in remove()
        this.createExclusive(abs, () => fs.symlinkSync(e.linkname!, abs));
        this.owner(abs, rel, e);
        this.xattrs(abs, rel, e);
        fs.lutimesSync(abs, e.mtime, e.mtime);
        return;
      }
      case 'hardlink': {
          const lp = e.linkParts!;
        const tparent = this.resolver.resolveDir(lp.slice(0, -1), false);
        const tname = lp[lp.length - 1]!;
        const trel = tparent === undefined ? undefined : tparent === '' ? tname : `${tparent}/${tname}`;
        const tabs = trel === undefined ? undefined : this.resolver.abs(trel);
        const tst = tabs === undefined ? undefined : fs.lstatSync(tabs, { throwIfNoEntry: false });
        if (tabs === undefined || tst === undefined) {
          throw new UnpackError('ERR_BAD_LAYER', `hardlink "${e.rawName}" points to "${e.linkname}", which does not exist`, {
            path: e.rawName,
            hint: 'a hardlink must point to a file of this layer (earlier in the archive) or of a lower layer',
          });
        }
        if (tst.isDirectory()) throw unsafePath(e.rawName, `hardlink to directory "${e.linkname}"`);
        if (trel === rel) return;
        this.createExclusive(abs, () => fs.linkSync(tabs, abs));
        return;
      }
      case 'char':
      case 'block':
      case 'fifo': {
          if (this.rootless && e.kind !== 'fifo') {
          this.warn('WARN_DEVICE_SKIPPED', `${e.kind} device /${rel} skipped: creating devices needs root`, '/' + rel);
          return;
        }
        const type = e.kind === 'char' ? 'c' : e.kind === 'block' ? 'b' : 'p';
        const args = ['-m', (e.mode & 0o777).toString(8), abs, type];
        if (type !== 'p') args.push(String(e.devmajor), String(e.devminor));
        this.createExclusive(abs, () => {
          try {
            execFileSync('mknod', args, { stdio: 'pipe' });
          } catch (err) {
            const msg = String((err as { stderr?: Buffer }).stderr ?? '');
            if (/File exists/.test(msg)) throw Object.assign(new Error(msg), { code: 'EEXIST' });
            throw new UnpackError('ERR_MKNOD_FAILED', `could not create ${e.kind} /${rel}: ${msg.trim()}`, { path: '/' + rel, cause: err });
          }
        });
        this.owner(abs, rel, e);
        fs.chmodSync(abs, e.mode); // just created by us, not a symlink
        this.xattrs(abs, rel, e);
        fs.lutimesSync(abs, e.mtime, e.mtime);
        return;
      }
    }
  }

  data(buf: Buffer): void {
    const fd = this.fd;
    if (fd < 0) return; // content of an entry that has none on disk (e.g. a symlink with a size)
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    this.result.bytes += buf.length;
  }

  end(): void {
    const fd = this.fd;
    if (fd < 0) return;
    const e = this.file!;
    try {
      this.owner(this.fileAbs, this.fileRel, e, fd);
      if (!this.fileModeSet) fs.fchmodSync(fd, e.mode); // after chown: chown clears setuid/setgid
      this.xattrs(this.fileAbs, this.fileRel, e);
      fs.futimesSync(fd, e.mtime, e.mtime);
    } finally {
      this.fd = -1;
      this.file = undefined;
      fs.closeSync(fd);
    }
  }

  /** Close a file left open by an error. */
  abort(): void {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      fs.closeSync(fd);
    }
  }

  metaDir(abs: string, rel: string, e: EntryHeader): void {
    this.owner(abs, rel, e);
    fs.chmodSync(abs, this.rootless ? e.mode | 0o700 : e.mode);
    this.xattrs(abs, rel, e);
    this.dirTimes.push({ abs, mtime: e.mtime });
  }

  /** Opaque directory: remove what lower layers put in rel, keep this layer's entries. */
  clearLower(rel: string): void {
    const abs = rel === '' ? this.root : this.resolver.abs(rel);
    let names: string[];
    try {
      names = fs.readdirSync(abs);
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return;
      throw err;
    }
    for (const name of names) {
      const crel = rel === '' ? name : `${rel}/${name}`;
      const cabs = `${abs}/${name}`;
      if (!this.layerPaths.has(crel)) {
        this.remove(cabs);
        continue;
      }
      const st = fs.lstatSync(cabs);
      if (st.isDirectory()) this.clearLower(crel);
    }
  }

  finish(): void {
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const d = this.dirTimes[i]!;
      try {
        fs.utimesSync(d.abs, d.mtime, d.mtime);
      } catch (err) {
        // removed later in the same layer
        if (errno(err) !== 'ENOENT') throw err;
      }
    }
  }
}

/**
 * Apply one uncompressed layer tar to rootfs (an existing directory), with the
 * image-spec's whiteout semantics. Never writes outside rootfs.
 */
export async function applyLayer(
  rootfs: string,
  tar: Readable | AsyncIterable<Uint8Array>,
  opts: ApplyLayerOptions = {},
): Promise<ApplyLayerResult> {
  throwIfAborted(opts.signal);
  const root = fs.realpathSync(rootfs);
  if (!fs.statSync(root).isDirectory()) {
    throw new UnpackError('ERR_NOT_A_DIRECTORY', `rootfs ${rootfs} is not a directory`, { path: rootfs });
  }
  const applier = new LayerApplier(root, opts);
  const reader = new TarReader(applier);
  const { signal, onProgress } = opts;
  const max = opts.maxLayerSize ?? Number.POSITIVE_INFINITY;
  let total = 0;
  let lastReport = 0;
  try {
    // one await per chunk of the archive, none per entry: the reader and the applier are synchronous
    for await (const chunk of tar) {
      throwIfAborted(signal);
      total += chunk.byteLength;
      if (total > max) {
        throw new UnpackError('ERR_LAYER_TOO_LARGE', `layer is larger than the limit of ${max} bytes uncompressed`, {
          expected: String(max),
          hint: 'raise the limit (maxLayerSize, --max-layer-size) if the image is trusted; otherwise do not unpack it',
        });
      }
      reader.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (onProgress && applier.result.bytes - lastReport >= 1 << 20) {
        lastReport = applier.result.bytes;
        onProgress({ entries: applier.result.entries, bytes: applier.result.bytes });
      }
    }
    throwIfAborted(signal);
    reader.end();
  } catch (err) {
    applier.abort();
    if (errno(err) === 'ENAMETOOLONG') {
      // a name under PATH_MAX (tar.ts checks that) that is too long once joined to the rootfs path
      throw new UnpackError('ERR_BAD_LAYER', `a layer entry's path is too long once below ${rootfs} (ENAMETOOLONG)`, {
        cause: err,
        hint: 'unpack into a directory with a shorter path; a path this long is unusual in an image',
      });
    }
    throw tarError(err);
  }
  applier.finish();
  opts.onProgress?.({ entries: applier.result.entries, bytes: applier.result.bytes });
  return applier.result;
}
