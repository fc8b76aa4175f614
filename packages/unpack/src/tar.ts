// Format parsing only: turns a tar byte stream into normalised layer entries.
// No filesystem access happens here (see apply.ts).
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { UnpackError, unsafePath } from './errors.js';

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
function patchPaxDecoder(): void {
  // the same module instance tar-stream's index requires (a literal path, so that bundlers keep it one module)
  const require = createRequire(import.meta.url);
  const headers = require('tar-stream/headers.js') as {
    decodePax: (buf: Buffer) => Record<string | symbol, unknown>;
    __ociRawXattrs?: boolean;
  };
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
  const rawName = header.name;
  const parts = cleanEntryPath(rawName);
  const pax = ((header as { pax?: unknown }).pax ?? {}) as Record<string | symbol, unknown>;
  const rawX = pax[RAW] as Map<string, Buffer> | undefined;
  const xattrs = new Map<string, Buffer>();
  for (const key of Object.keys(pax)) {
    if (key.startsWith(XATTR_PREFIX)) {
      const k = key.slice(XATTR_PREFIX.length);
      xattrs.set(k, rawX?.get(k) ?? Buffer.from(String(pax[key]), 'utf8'));
    }
  }
  let mtime = header.mtime ?? new Date(0);
  if (typeof pax.mtime === 'string' && /^-?\d+(\.\d+)?$/.test(pax.mtime)) {
    mtime = new Date(Number.parseFloat(pax.mtime) * 1000);
  }
  const base: Omit<LayerEntry, 'kind'> = {
    rawName,
    parts,
    linkname: undefined,
    linkParts: undefined,
    mode: (header.mode ?? 0o644) & 0o7777,
    uid: num(pax.uid, header.uid ?? 0),
    gid: num(pax.gid, header.gid ?? 0),
    mtime,
    size: header.size ?? 0,
    devmajor: header.devmajor ?? 0,
    devminor: header.devminor ?? 0,
    xattrs,
    body,
  };

  const basename = parts[parts.length - 1];
  if (basename !== undefined && basename.startsWith(WH)) {
    const dirParts = parts.slice(0, -1);
    if (basename === OPAQUE) return { ...base, kind: 'opaque', parts: dirParts };
    const hidden = basename.slice(WH.length);
    if (hidden.startsWith(WH)) {
      // other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): not part of the image
      return undefined;
    }
    if (hidden === '' || hidden === '.' || hidden === '..') {
      throw unsafePath(rawName, `whiteout names "${hidden}"`);
    }
    return { ...base, kind: 'whiteout', parts: [...dirParts, hidden] };
  }

  switch (header.type) {
    case 'file':
    case 'contiguous-file':
      return { ...base, kind: 'file' };
    case 'directory':
      return { ...base, kind: 'directory' };
    case 'symlink':
      if (!header.linkname) throw new UnpackError('ERR_BAD_LAYER', `symlink "${rawName}" has no target`, { path: rawName });
      return { ...base, kind: 'symlink', linkname: header.linkname };
    case 'link': {
      if (!header.linkname) throw new UnpackError('ERR_BAD_LAYER', `hardlink "${rawName}" has no target`, { path: rawName });
      let linkParts: string[];
      try {
        linkParts = cleanEntryPath(header.linkname);
      } catch {
        throw unsafePath(rawName, `hardlink target "${header.linkname}" is outside the rootfs`);
      }
      if (linkParts.length === 0) throw unsafePath(rawName, 'hardlink to the rootfs itself');
      return { ...base, kind: 'hardlink', linkname: linkParts.join('/'), linkParts };
    }
    case 'character-device':
      return { ...base, kind: 'char' };
    case 'block-device':
      return { ...base, kind: 'block' };
    case 'fifo':
      return { ...base, kind: 'fifo' };
    default:
      throw new UnpackError('ERR_UNSUPPORTED_ENTRY', `tar entry "${rawName}" has unsupported type ${String(header.type)}`, {
        path: rawName,
        hint: 'sparse and other GNU extension entries are not supported in image layers',
      });
  }
}

/** Map tar-stream's format errors to ERR_BAD_LAYER; other errors pass through. */
export function tarError(err: unknown): unknown {
  if (err instanceof Error && !UnpackError.is(err) && /Unexpected end of data|Invalid tar header|checksum|Premature close/i.test(err.message)) {
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
