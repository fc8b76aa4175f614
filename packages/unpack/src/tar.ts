// Format parsing only: turns a tar byte stream into normalised layer entries.
// No filesystem access happens here (see apply.ts).
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { UnpackError, isUnpackError, unsafePath } from './errors.js';

export type EntryKind =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'hardlink'
  | 'char'
  | 'block'
  | 'fifo'
  | 'whiteout'
  | 'opaque';

export interface LayerEntry {
  kind: EntryKind;
  /** The name as found in the archive (after PAX/GNU long-name records). */
  rawName: string;
  /** Clean path components relative to the rootfs; [] is the rootfs itself. For whiteouts: the hidden path; for opaque: the directory. */
  parts: string[];
  /** Symlink target (verbatim) or, for hardlinks, the clean path of the target joined with '/'. */
  linkname: string | undefined;
  /** Hardlink target components. */
  linkParts: string[] | undefined;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  size: number;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
  /** The entry's data; it must be consumed or resumed. */
  body: Readable;
}

const RAW = Symbol.for('oci.unpack.paxRawXattrs');
const XATTR_PREFIX = 'SCHILY.xattr.';

// tar-stream decodes PAX values as UTF-8, which corrupts binary xattrs such as
// security.capability. We wrap its PAX decoder (same output for every key) and
// keep the raw bytes of SCHILY.xattr.* records under a symbol key that
// Object.assign carries along and JSON/for-in ignore.
interface TarHeaders {
  decode: (buf: Buffer, filenameEncoding: string, allowUnknownFormat: boolean) => tarStream.Headers | null;
  decodePax: (buf: Buffer) => Record<string | symbol, unknown>;
  decodeLongPath: (buf: Buffer, encoding: string) => string;
  __ociRawXattrs?: boolean;
}
// the same module instance tar-stream's index requires (a literal path, so that bundlers keep it one module)
const headers = createRequire(import.meta.url)('tar-stream/headers.js') as TarHeaders;

function patchPaxDecoder(): void {
  if (headers.__ociRawXattrs) return;
  const original = headers.decodePax;
  headers.decodePax = function decodePax(buf: Buffer) {
    const result = original(buf);
    let raw: Map<string, Buffer> | undefined;
    let rest = buf;
    while (rest.length) {
      const sp = rest.indexOf(32);
      if (sp <= 0) break;
      const len = Number.parseInt(rest.subarray(0, sp).toString('latin1'), 10);
      if (!Number.isSafeInteger(len) || len <= sp || len > rest.length) break;
      const rec = rest.subarray(sp + 1, len - 1);
      const eq = rec.indexOf(61);
      if (eq > 0) {
        const key = rec.subarray(0, eq).toString('utf8');
        if (key.startsWith(XATTR_PREFIX)) {
          raw ??= new Map();
          raw.set(key.slice(XATTR_PREFIX.length), Buffer.from(rec.subarray(eq + 1)));
        }
      }
      rest = rest.subarray(len);
    }
    if (raw) result[RAW] = raw;
    return result;
  };
  headers.__ociRawXattrs = true;
}
patchPaxDecoder();

/**
 * Clean a tar member name into path components inside the rootfs, as tar does:
 * a leading "/" is stripped, "." and empty parts dropped, ".." resolved lexically.
 * A ".." that would climb above the rootfs is refused (ERR_UNSAFE_PATH).
 */
export function cleanEntryPath(name: string): string[] {
  if (name.includes('\0')) throw unsafePath(name, 'name contains a NUL byte');
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw unsafePath(name, '".." climbs out of the rootfs');
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out;
}

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

function num(v: unknown, fallback: number): number {
  if (typeof v === 'string' && /^\d+$/.test(v)) {
    const n = Number.parseInt(v, 10);
    if (Number.isSafeInteger(n)) return n;
  }
  return fallback;
}

/** Normalise one tar-stream header into a LayerEntry (pure). Returns undefined for entries to skip. */
export function toLayerEntry(header: tarStream.Headers, body: Readable): LayerEntry | undefined {
  const e = toEntryHeader(header) as LayerEntry | undefined;
  if (e !== undefined) e.body = body;
  return e;
}

/** A LayerEntry without its body (the synchronous reader delivers data separately). @internal */
export type EntryHeader = Omit<LayerEntry, 'body'> & { body?: Readable };

/** Linux limits: a path (or symlink target) of PATH_MAX bytes or more, or a component over NAME_MAX, cannot be created. */
const PATH_MAX = 4096;
const NAME_MAX = 255;

function tooLong(rawName: string, what: string): UnpackError {
  const shown = rawName.length > 200 ? `${rawName.slice(0, 200)}...` : rawName;
  return new UnpackError('ERR_BAD_LAYER', `tar entry "${shown}": ${what}`, {
    path: shown,
    hint: 'no Linux file system can hold it; the layer is corrupt or hostile',
  });
}

/** Refuse names Linux cannot create before they reach the file system (a 1 MiB PAX path of "a/a/a..." took minutes to resolve). */
function checkLengths(rawName: string, parts: string[]): void {
  let total = parts.length - 1;
  for (const p of parts) {
    const n = Buffer.byteLength(p);
    if (n > NAME_MAX) throw tooLong(rawName, `a path component of ${n} bytes is longer than NAME_MAX (${NAME_MAX})`);
    total += n;
    if (total >= PATH_MAX) throw tooLong(rawName, `the path is longer than PATH_MAX (${PATH_MAX} bytes)`);
  }
}

/** Normalise one decoded tar header (pure). Returns undefined for entries to skip. @internal */
export function toEntryHeader(header: tarStream.Headers): EntryHeader | undefined {
  const rawName = header.name;
  if (rawName.length > 16 * PATH_MAX) throw tooLong(rawName, `the name of ${rawName.length} characters is longer than PATH_MAX (${PATH_MAX} bytes)`);
  const parts = cleanEntryPath(rawName);
  checkLengths(rawName, parts);
  const pax = ((header as { pax?: unknown }).pax ?? undefined) as Record<string | symbol, unknown> | undefined;
  const xattrs = new Map<string, Buffer>();
  let mtime = header.mtime ?? new Date(0);
  let uid = header.uid ?? 0;
  let gid = header.gid ?? 0;
  if (pax !== undefined) {
    const rawX = pax[RAW] as Map<string, Buffer> | undefined;
    for (const key of Object.keys(pax)) {
      if (key.startsWith(XATTR_PREFIX)) {
        const k = key.slice(XATTR_PREFIX.length);
        xattrs.set(k, rawX?.get(k) ?? Buffer.from(String(pax[key]), 'utf8'));
      }
    }
    if (typeof pax.mtime === 'string' && /^-?\d+(\.\d+)?$/.test(pax.mtime)) {
      mtime = new Date(Number.parseFloat(pax.mtime) * 1000);
    }
    uid = num(pax.uid, uid);
    gid = num(pax.gid, gid);
  }
  const base: EntryHeader = {
    kind: 'file',
    rawName,
    parts,
    linkname: undefined,
    linkParts: undefined,
    mode: (header.mode ?? 0o644) & 0o7777,
    uid,
    gid,
    mtime,
    size: header.size ?? 0,
    devmajor: header.devmajor ?? 0,
    devminor: header.devminor ?? 0,
    xattrs,
  };

  const basename = parts[parts.length - 1];
  if (basename !== undefined && basename.startsWith(WH)) {
    const dirParts = parts.slice(0, -1);
    if (basename === OPAQUE) {
      base.kind = 'opaque';
      base.parts = dirParts;
      return base;
    }
    const hidden = basename.slice(WH.length);
    if (hidden.startsWith(WH)) {
      // other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): not part of the image
      return undefined;
    }
    if (hidden === '' || hidden === '.' || hidden === '..') {
      throw unsafePath(rawName, `whiteout names "${hidden}"`);
    }
    dirParts.push(hidden);
    base.kind = 'whiteout';
    base.parts = dirParts;
    return base;
  }

  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      base.kind = 'file';
      return base;
    case 'directory':
      base.kind = 'directory';
      return base;
    case 'symlink':
      if (!header.linkname) throw new UnpackError('ERR_BAD_LAYER', `symlink "${rawName}" has no target`, { path: rawName });
      // a PAX linkpath can hold a NUL, which no symlink target can (GNU tar and Go refuse it too)
      if (header.linkname.includes('\0')) throw unsafePath(rawName, 'symlink target contains a NUL byte');
      if (Buffer.byteLength(header.linkname) >= PATH_MAX) throw tooLong(rawName, `the symlink target is longer than PATH_MAX (${PATH_MAX} bytes)`);
      base.kind = 'symlink';
      base.linkname = header.linkname;
      return base;
    case 'link': {
      if (!header.linkname) throw new UnpackError('ERR_BAD_LAYER', `hardlink "${rawName}" has no target`, { path: rawName });
      let linkParts: string[];
      try {
        linkParts = cleanEntryPath(header.linkname);
      } catch {
        throw unsafePath(rawName, `hardlink target "${header.linkname}" is outside the rootfs`);
      }
      if (linkParts.length === 0) throw unsafePath(rawName, 'hardlink to the rootfs itself');
      checkLengths(rawName, linkParts);
      base.kind = 'hardlink';
      base.linkname = linkParts.join('/');
      base.linkParts = linkParts;
      return base;
    }
    case 'character-device':
      base.kind = 'char';
      return base;
    case 'block-device':
      base.kind = 'block';
      return base;
    case 'fifo':
      base.kind = 'fifo';
      return base;
    default:
      throw new UnpackError('ERR_UNSUPPORTED_ENTRY', `tar entry "${rawName}" has unsupported type ${String(header.type)}`, {
        path: rawName,
        hint: 'sparse and other GNU extension entries are not supported in image layers',
      });
  }
}

/** Receives the entries of a layer from TarReader, synchronously and in order. @internal */
export interface TarHandler {
  /** An entry's header. For entries with data, data() follows for each slice, then end(). */
  entry(e: EntryHeader): void;
  /** A slice of the current entry's content, valid only during the call. */
  data(buf: Buffer): void;
  /** The current entry's content is complete (called for every entry). */
  end(): void;
}

/** PAX and GNU long-name records larger than this are refused, as Go's archive/tar does (umoci, containerd). */
export const MAX_SPECIAL_RECORD = 1 << 20;

const S_HEADER = 0;
const S_LONG = 1;
const S_DATA = 2;
const S_SKIP = 3;
/** after the end-of-archive marker: the rest (the second zero block, padding to a record, anything) is not read */
const S_EOF = 4;

/** Entry types that never have data in the archive whatever their size field says (GNU tar and Go's archive/tar agree). */
const HEADER_ONLY = new Set(['link', 'symlink', 'character-device', 'block-device', 'directory', 'fifo']);

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < 512; i++) if (block[i] !== 0) return false;
  return true;
}

/**
 * The numeric fields of a ustar/GNU header must be octal (padded with spaces or NULs) or
 * base-256 (first byte 0x80 or 0xff): tar-stream's parser reads "12x" as 10 and other
 * garbage as NaN or 0, where GNU tar and Go refuse the header.
 */
const NUMERIC_FIELDS: [string, number, number][] = [
  ['mode', 100, 8],
  ['uid', 108, 8],
  ['gid', 116, 8],
  ['size', 124, 12],
  ['mtime', 136, 12],
  ['devmajor', 329, 8],
  ['devminor', 337, 8],
];

function checkNumericFields(block: Buffer): void {
  for (const [field, off, len] of NUMERIC_FIELDS) {
    const first = block[off]!;
    if (first & 0x80) {
      if (first !== 0x80 && first !== 0xff) throw badTar(`header field ${field} is neither octal nor base-256`);
      continue;
    }
    let start = off;
    let end = off + len;
    while (start < end && (block[start] === 0x20 || block[start] === 0)) start++;
    while (end > start && (block[end - 1] === 0x20 || block[end - 1] === 0)) end--;
    for (let i = start; i < end; i++) {
      const c = block[i]!;
      if (c < 0x30 || c > 0x37) throw badTar(`header field ${field} is not an octal number`);
    }
  }
}

/** A PAX extended header must be a sequence of "LEN key=value\n" records (POSIX; GNU tar and Go refuse others). */
function checkPaxRecords(buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    const sp = buf.indexOf(32, off);
    const digits = sp < 0 ? '' : buf.toString('latin1', off, sp);
    const len = /^[0-9]{1,9}$/.test(digits) ? Number.parseInt(digits, 10) : Number.NaN;
    if (!(len > sp - off + 1) || off + len > buf.length || buf[off + len - 1] !== 0x0a || buf.indexOf(61, sp + 1) < 0 || buf.indexOf(61, sp + 1) >= off + len - 1) {
      throw badTar(`malformed PAX record at offset ${off} of an extended header`);
    }
    off += len;
  }
}

function badTar(message: string, cause?: unknown): UnpackError {
  return new UnpackError('ERR_BAD_LAYER', `layer is not a valid tar archive: ${message}`, {
    cause,
    hint: 'the layer blob is truncated or corrupt; fetch the image again',
  });
}

/**
 * A synchronous tar reader: push() the archive's bytes in chunks of any size and
 * the handler is called for each entry and each slice of its content, without a
 * stream or a promise per entry (the hot path of unpacking many small files).
 * Header decoding is tar-stream's (checksums, base-256 numbers, ustar prefix),
 * framing and PAX/GNU long-name merging follow tar-stream's extract. @internal
 */
export class TarReader {
  private readonly handler: TarHandler;
  private state = S_HEADER;
  /** bytes still needed in this state */
  private need = 512;
  /** padding to skip after the current data */
  private pad = 0;
  private acc: Buffer = Buffer.allocUnsafe(512);
  private accLen = 0;
  private longType: string | undefined;
  private pax: Record<string | symbol, unknown> | null = null;
  private paxGlobal: Record<string | symbol, unknown> | null = null;
  private gnuLongPath: string | null = null;
  private gnuLongLinkPath: string | null = null;

  constructor(handler: TarHandler) {
    this.handler = handler;
  }

  push(chunk: Buffer): void {
    if (this.state === S_EOF) return;
    const len = chunk.length;
    let off = 0;
    while (off < len) {
      const state = this.state;
      if (state === S_DATA || state === S_SKIP) {
        const n = Math.min(this.need, len - off);
        if (state === S_DATA) this.handler.data(chunk.subarray(off, off + n));
        off += n;
        this.need -= n;
        if (this.need === 0) this.afterData();
        continue;
      }
      // header or long record: needs `need` contiguous bytes
      let block: Buffer;
      if (this.accLen === 0 && len - off >= this.need) {
        block = chunk.subarray(off, off + this.need);
        off += this.need;
      } else {
        if (this.acc.length < this.need) {
          const bigger = Buffer.allocUnsafe(this.need);
          this.acc.copy(bigger, 0, 0, this.accLen);
          this.acc = bigger;
        }
        const n = Math.min(this.need - this.accLen, len - off);
        chunk.copy(this.acc, this.accLen, off, off + n);
        this.accLen += n;
        off += n;
        if (this.accLen < this.need) return;
        block = this.acc.subarray(0, this.need);
        this.accLen = 0;
      }
      if (state === S_HEADER) {
        this.onHeader(block);
        if (this.state === S_EOF) return;
      } else this.onLong(block);
    }
  }

  /** The archive ended: refuses a truncated one. */
  end(): void {
    if (this.state !== S_EOF && (this.state !== S_HEADER || this.accLen !== 0)) throw badTar('Unexpected end of data');
    if (this.acc.length > 512) this.acc = Buffer.allocUnsafe(512);
  }

  private afterData(): void {
    if (this.state === S_DATA) {
      this.handler.end();
      if (this.pad > 0) {
        this.state = S_SKIP;
        this.need = this.pad;
        this.pad = 0;
        return;
      }
    }
    this.state = S_HEADER;
    this.need = 512;
  }

  private skipThen(n: number): void {
    // skip n bytes (data nobody wants plus padding), then a header
    if (n > 0) {
      this.state = S_SKIP;
      this.need = n;
    } else {
      this.state = S_HEADER;
      this.need = 512;
    }
  }

  private onHeader(block: Buffer): void {
    if (isZeroBlock(block)) {
      // the end-of-archive marker: like GNU tar, nothing after the first zero block is read (a lone
      // zero block included), so no entry can hide behind it; the caller still hashes every byte
      this.state = S_EOF;
      this.accLen = 0;
      return;
    }
    let h: tarStream.Headers | null;
    try {
      h = headers.decode(block, 'utf-8', false);
    } catch (err) {
      throw badTar((err as Error).message, err);
    }
    if (h === null) throw badTar('a header block holds nothing but a checksum');
    checkNumericFields(block);
    switch (h.type) {
      case 'gnu-long-path':
      case 'gnu-long-link-path':
      case 'pax-global-header':
      case 'pax-header': {
        const size = h.size ?? 0;
        if (size > MAX_SPECIAL_RECORD) {
          throw new UnpackError('ERR_BAD_LAYER', `layer has a ${h.type} record of ${size} bytes (limit ${MAX_SPECIAL_RECORD})`, {
            hint: 'the layer is corrupt or hostile; do not trust this image',
          });
        }
        this.longType = h.type;
        if (size === 0) {
          this.onLong(Buffer.alloc(0));
          return;
        }
        this.state = S_LONG;
        this.need = size;
        this.pad = overflow(size);
        return;
      }
    }
    if (this.gnuLongPath !== null) {
      h.name = this.gnuLongPath;
      this.gnuLongPath = null;
    }
    if (this.gnuLongLinkPath !== null) {
      h.linkname = this.gnuLongLinkPath;
      this.gnuLongLinkPath = null;
    }
    if (this.pax !== null) {
      const pax = this.pax;
      if (pax.path) h.name = pax.path as string;
      if (pax.linkpath) h.linkname = pax.linkpath as string;
      if (pax.size !== undefined) {
        if (typeof pax.size !== 'string' || !/^[0-9]{1,16}$/.test(pax.size)) throw badTar(`entry "${h.name}" has a PAX size that is not a number`);
        h.size = Number.parseInt(pax.size, 10);
      }
      (h as { pax?: unknown }).pax = pax;
      this.pax = null;
    }
    // old tars mark directories by a trailing slash on a regular file (GNU tar: "0" and "\0" alike)
    if (h.type === 'file' && h.name.endsWith('/')) h.type = 'directory';
    const size = HEADER_ONLY.has(h.type ?? '') ? 0 : (h.size ?? 0);
    if (!Number.isSafeInteger(size) || size < 0) throw badTar(`entry "${h.name}" has an invalid size`);
    const e = toEntryHeader(h);
    if (e === undefined) {
      this.skipThen(size + overflow(size));
      return;
    }
    this.handler.entry(e);
    if (size === 0) {
      this.handler.end();
      this.state = S_HEADER;
      this.need = 512;
      return;
    }
    this.state = S_DATA;
    this.need = size;
    this.pad = overflow(size);
  }

  private onLong(buf: Buffer): void {
    try {
      switch (this.longType) {
        case 'gnu-long-path':
          this.gnuLongPath = headers.decodeLongPath(buf, 'utf-8');
          break;
        case 'gnu-long-link-path':
          this.gnuLongLinkPath = headers.decodeLongPath(buf, 'utf-8');
          break;
        case 'pax-global-header':
          checkPaxRecords(buf);
          this.paxGlobal = headers.decodePax(buf);
          break;
        case 'pax-header':
          checkPaxRecords(buf);
          this.pax = this.paxGlobal === null ? headers.decodePax(buf) : Object.assign({}, this.paxGlobal, headers.decodePax(buf));
          break;
      }
    } catch (err) {
      if (isUnpackError(err)) throw err;
      throw badTar((err as Error).message, err);
    }
    this.skipThen(this.pad);
    this.pad = 0;
  }
}

function overflow(size: number): number {
  const r = size & 511;
  return r === 0 ? 0 : 512 - r;
}

/** Map tar-stream's format errors to ERR_BAD_LAYER; other errors pass through. */
export function tarError(err: unknown): unknown {
  if (err instanceof Error && !isUnpackError(err) && /Unexpected end of data|Invalid tar header|checksum|Premature close/i.test(err.message)) {
    return new UnpackError('ERR_BAD_LAYER', `layer is not a valid tar archive: ${err.message}`, {
      cause: err,
      hint: 'the layer blob is truncated or corrupt; fetch the image again',
    });
  }
  return err;
}

/**
 * Parse a tar stream into LayerEntry objects. The caller must consume or
 * resume each entry's body before asking for the next one.
 */
export async function* parseLayer(tar: Readable | AsyncIterable<Uint8Array>): AsyncGenerator<LayerEntry> {
  const extract = tarStream.extract();
  const source = tar as Readable;
  const onError = (err: Error) => extract.destroy(err);
  let done = false;
  // feed the extractor with back-pressure
  const feed = (async () => {
    try {
      for await (const chunk of source) {
        if (!extract.write(chunk as Buffer)) {
          await new Promise<void>((resolve, reject) => {
            const cleanup = () => {
              extract.off('drain', ok);
              extract.off('close', ok);
              extract.off('error', bad);
            };
            const ok = () => { cleanup(); resolve(); };
            const bad = (e: Error) => { cleanup(); reject(e); };
            extract.once('drain', ok);
            extract.once('close', ok);
            extract.once('error', bad);
          });
        }
        if (done || extract.destroyed) break;
      }
      extract.end();
    } catch (err) {
      onError(err as Error);
    }
  })();
  try {
    for await (const stream of extract as AsyncIterable<tarStream.Entry>) {
      const entry = toLayerEntry(stream.header, stream as unknown as Readable);
      if (entry === undefined) {
        stream.resume();
        continue;
      }
      yield entry;
    }
  } catch (err) {
    throw tarError(err);
  } finally {
    done = true;
    if (!extract.destroyed) extract.destroy();
    if (typeof (source as Readable).destroy === 'function' && !(source as Readable).destroyed) {
      (source as Readable).destroy();
    }
    await feed.catch(() => {});
  }
}
