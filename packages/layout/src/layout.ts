import { lstat, mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import type { Readable } from 'node:stream';
import {
  abortReason,
  getBlobIn,
  putBlobIn,
  syncPendingDirs,
  readBlobIn,
  statBlobIn,
  type BlobSource,
  type GetBlobOptions,
  type PutBlobOptions,
  type PutBlobResult,
} from './blobs.js';
import { parseLayoutDigest, isLayoutDigest } from './digest.js';
import { LayoutError } from './errors.js';
import { fsyncDir, writeFileAtomic } from './fsutil.js';
import { withFileLock, type LockOptions } from './lock.js';
import { blobPathIn, layoutPaths, stateDirName, type LayoutPaths } from './paths.js';
import { checkDirs, makeDirs, openRegular, writeError } from './safe.js';
import { assertRefName, isValidRefName } from './refs.js';
import {
  AnnotationRefName,
  MediaType,
  isIndexMediaType,
  isManifestMediaType,
  parsePlatform,
  selectManifest,
  validateConfig,
  validateDescriptor,
  validateIndex,
  validateManifest,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from './spec.js';
import { childrenOf, maxJsonDepth, sniffMediaType, withinJsonDepth, withoutNullFields } from './walk.js';
import { gcLayout, type GcOptions, type GcResult } from './gc.js';
import { hasPins, unpinLater } from './pins.js';
import { verifyLayout, type VerifyOptions, type VerifyResult } from './verify.js';

/** The only `imageLayoutVersion` this package reads and writes. */
export const imageLayoutVersion = '1.0.0';

/** Default size limit for JSON documents read into memory (index.json, manifests, configs). */
export const defaultMaxJsonSize = 16 << 20;

export interface RefEntry {
  name: string;
  descriptor: Descriptor;
  /** True when the ref comes from the pre-1.0 `refs/NAME` file rather than index.json. */
  legacy?: boolean;
}

export interface ResolveOptions {
  /** Platform to pick inside an index: a Platform or "os/arch[/variant]"; default the host's. */
  platform?: Platform | string | undefined;
  signal?: AbortSignal | undefined;
}

export interface Resolved {
  /** Descriptor of the image manifest finally reached. */
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  configDescriptor: Descriptor;
  /** The descriptors followed from the ref to the manifest (first: the ref's own; last: `descriptor`). */
  chain: Descriptor[];
}

export interface PutJsonOptions {
  /** Store these exact bytes instead of JSON.stringify(doc) (keeps a foreign document's digest). */
  bytes?: Uint8Array | undefined;
  /** Check known document types (manifest, index, config) before storing (default true). */
  validate?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface ReadOptions {
  maxSize?: number | undefined;
  signal?: AbortSignal | undefined;
}

function invalidLayout(dir: string, message: string, hint: string, cause?: unknown): LayoutError {
  return new LayoutError('ERR_INVALID_LAYOUT', `${dir} is not a usable OCI image layout: ${message}`, { hint, cause, path: dir });
}

// ignoreBOM keeps a byte-order mark in the text, so JSON.parse refuses it as Go's encoding/json (skopeo, umoci) does.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decode UTF-8 strictly (a stray byte is an error, not U+FFFD), so that what we parse is what is on disk. */
function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch (err) {
    throw Object.assign(new Error(`${what} is not valid UTF-8`), { cause: err });
  }
}

/**
 * Read a small regular file: undefined when missing; never follows a symlink (ERR_UNSAFE_PATH),
 * never blocks on a fifo, never reads more than `maxSize` (E2BIG).
 */
async function readSmallFile(path: string, maxSize: number): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await openRegular(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      if ((err as { directory?: boolean }).directory === true) {
        throw Object.assign(new Error(`${path} is a directory, not a file`), { code: 'EISDIR' });
      }
      return undefined;
    }
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EISDIR' });
    if (st.size > maxSize) throw Object.assign(new Error(`${path} is larger than ${maxSize} bytes`), { code: 'E2BIG' });
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Check a descriptor someone hands us (tag); throws ERR_INVALID_DIGEST / ERR_INVALID_DESCRIPTOR. */
function checkDescriptor(d: Descriptor): void {
  if (typeof d !== 'object' || d === null) {
    throw new LayoutError('ERR_INVALID_DESCRIPTOR', 'descriptor is not an object', { hint: 'pass { mediaType, digest, size }' });
  }
  parseLayoutDigest(d.digest);
  const v = validateDescriptor(d);
  if (!v.valid) {
    const first = v.errors[0];
    throw new LayoutError('ERR_INVALID_DESCRIPTOR', `invalid descriptor for ${d.digest}: ${first ? `${first.path} ${first.message}` : 'schema'}`, {
      hint: 'a descriptor needs a mediaType string, a digest and a non-negative integer size',
      digest: d.digest,
    });
  }
}

function refUnknown(ref: string, dir: string): LayoutError {
  return new LayoutError('ERR_REF_UNKNOWN', `no ref "${ref}" in ${dir}`, {
    hint: 'list the refs with listRefs() (or `skopeo inspect`), or tag a manifest first',
    ref,
  });
}

/**
 * A handle on an OCI image layout directory. Holds no open files and caches nothing, so several
 * handles and several processes can use one layout at once.
 */
export class Layout {
  /** Absolute path of the layout directory. */
  readonly dir: string;
  /** @internal */
  readonly paths: LayoutPaths;

  private constructor(dir: string) {
    this.dir = dir;
    this.paths = layoutPaths(dir);
  }

  /**
   * Open an existing layout: checks `oci-layout` (imageLayoutVersion 1.0.0), `blobs/` and
   * `index.json` (or a pre-1.0 `refs/` directory). Throws ERR_INVALID_LAYOUT / ERR_INVALID_INDEX.
   */
  static async open(dir: string): Promise<Layout> {
    const layout = new Layout(resolvePath(dir));
    await layout.checkLayoutFile();
    if (!(await checkDirs(layout.dir, ['blobs']))) {
      throw invalidLayout(layout.dir, 'the blobs/ directory is missing', 'an image layout holds oci-layout, index.json and blobs/; copy the image again');
    }
    await layout.index();
    return layout;
  }

  /** Open the layout at `dir`, creating an empty one (and the directory) if there is none. */
  static async init(dir: string): Promise<Layout> {
    const layout = new Layout(resolvePath(dir));
    try {
      await mkdir(layout.dir, { recursive: true });
    } catch (err) {
      // Recursive mkdir reports ENOENT where a plain mkdir of the last part says why (EROFS, EACCES).
      const real = await mkdir(layout.dir).then(() => err, (e: unknown) => e);
      const code = (real as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'EEXIST') {
        throw invalidLayout(layout.dir, code === 'EEXIST' ? 'it is a file, not a directory' : 'a part of its path is a file, not a directory',
          'give a directory path (it is created when missing)', real);
      }
      throw writeError(real, layout.dir);
    }
    const existing = await readSmallFile(layout.paths.layoutFile, 64 << 10).catch((err: unknown) => {
      if (LayoutError.is(err)) throw err;
      return undefined;
    });
    if (existing !== undefined) return await Layout.open(dir);
    // both files written here, under the lock: what open() would check (oci-layout's version, blobs/, index.json)
    // is what was just written, and reading it back cost ~10 file operations of every new layout
    let wroteBoth = false;
    await layout.withLock(async () => {
      try {
        await makeDirs(layout.dir, ['blobs', 'sha256']);
      } catch (err) {
        throw writeError(err, layout.dir);
      }
      try {
        let wroteIndex = false;
        if ((await readSmallFile(layout.paths.index, defaultMaxJsonSize)) === undefined && !(await isDirectory(layout.paths.refs))) {
          const empty: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests: [] };
          await writeFileAtomic(layout.paths.index, JSON.stringify(empty), layout.paths.ingest, layout.dir);
          wroteIndex = true;
        }
        // oci-layout last: it is the marker that makes the directory a layout.
        if ((await readSmallFile(layout.paths.layoutFile, 64 << 10).catch(() => undefined)) === undefined) {
          await writeFileAtomic(layout.paths.layoutFile, JSON.stringify({ imageLayoutVersion }), layout.paths.ingest, layout.dir);
          wroteBoth = wroteIndex;
        }
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'ENOTEMPTY') {
          throw invalidLayout(layout.dir, `index.json or oci-layout is a directory (${(err as Error).message})`, 'remove it, or pick an empty directory for a new layout', err);
        }
        throw writeError(err, layout.dir);
      }
    });
    await fsyncDir(resolvePath(layout.dir, '..')).catch(() => {});
    return wroteBoth ? layout : await Layout.open(dir);
  }

  private async checkLayoutFile(): Promise<void> {
    let bytes: Buffer | undefined;
    try {
      bytes = await readSmallFile(this.paths.layoutFile, 64 << 10);
    } catch (err) {
      if (LayoutError.is(err)) throw err;
      throw invalidLayout(this.dir, 'oci-layout cannot be read', 'oci-layout must be a small JSON file', err);
    }
    if (bytes === undefined) {
      const hint = (await isDirectory(this.dir))
        ? 'this directory has no oci-layout file; create a layout with Layout.init() or `skopeo copy ... oci:DIR:REF`'
        : (await lstat(this.dir).then(() => true, () => false))
          ? 'the path is not a directory; a layout is a directory holding oci-layout, index.json and blobs/'
          : 'the directory does not exist; check the path or create a layout with Layout.init()';
      throw invalidLayout(this.dir, 'the oci-layout file is missing', hint);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(decodeUtf8(bytes, 'oci-layout'));
    } catch (err) {
      throw invalidLayout(this.dir, 'oci-layout is not valid JSON', 'oci-layout must hold {"imageLayoutVersion":"1.0.0"}', err);
    }
    const version = (doc as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
    if (version !== imageLayoutVersion) {
      throw invalidLayout(
        this.dir,
        `unsupported imageLayoutVersion ${JSON.stringify(version)}`,
        `this package reads imageLayoutVersion "${imageLayoutVersion}" only`,
      );
    }
  }

  // ---------------------------------------------------------------- blobs

  /** The path of a blob's file (it may not exist). Throws ERR_INVALID_DIGEST. */
  blobPath(digest: string): string {
    return blobPathIn(this.paths, digest);
  }

  /**
   * Store a blob from a stream, an async iterable or bytes: hashed while written to a temp file
   * inside the layout, fsynced and renamed into place. With `digest`/`size`, a mismatch throws
   * ERR_DIGEST_MISMATCH / ERR_SIZE_MISMATCH and leaves nothing behind. A blob already complete is
   * not rewritten (the source is then destroyed unread).
   */
  async putBlob(source: BlobSource, options: PutBlobOptions = {}): Promise<PutBlobResult> {
    return await putBlobIn(this.paths, source, options);
  }

  /**
   * Store a JSON document and return its descriptor. The bytes are JSON.stringify(doc), or
   * `options.bytes` when given (then they must parse to a document). Manifests, indexes and configs
   * are validated first (ERR_INVALID_DOCUMENT) unless `validate: false`.
   */
  async putJson(doc: unknown, mediaType: string, options: PutJsonOptions = {}): Promise<Descriptor> {
    const bytes = options.bytes ?? Buffer.from(JSON.stringify(doc), 'utf8');
    if (options.validate !== false) checkDocument(mediaType, options.bytes !== undefined ? parseJsonBytes(bytes, undefined) : doc, undefined);
    const { digest, size } = await this.putBlob(bytes, { signal: options.signal });
    const descriptor: Descriptor = { mediaType, digest, size };
    const artifactType = (doc as { artifactType?: unknown } | null)?.artifactType;
    if (typeof artifactType === 'string' && isManifestMediaType(mediaType)) descriptor.artifactType = artifactType;
    return descriptor;
  }

  /** A stream of a blob's bytes (ERR_BLOB_UNKNOWN). With `verify`, the stream errors on corrupt content. */
  async getBlob(digest: string, options: GetBlobOptions = {}): Promise<Readable> {
    return await getBlobIn(this.paths, digest, options);
  }

  /** A whole small blob, checked against its digest; ERR_BLOB_TOO_LARGE above maxSize (default 16 MiB). */
  async readBlob(digest: string, options: ReadOptions = {}): Promise<Buffer> {
    return await readBlobIn(this.paths, digest, options);
  }

  /** A JSON blob, parsed (ERR_INVALID_DOCUMENT when it is not JSON). Not schema-validated. */
  async readJson<T = unknown>(digest: string, options: ReadOptions = {}): Promise<T> {
    return parseJsonBytes(await this.readBlob(digest, options), digest) as T;
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await statBlobIn(this.paths, digest)) !== undefined;
  }

  async statBlob(digest: string): Promise<{ size: number } | undefined> {
    return await statBlobIn(this.paths, digest);
  }

  // ---------------------------------------------------------------- index and refs

  /** The parsed and validated index.json (an empty index for a pre-1.0 layout that has only refs/). */
  async index(): Promise<ImageIndex> {
    return (await this.indexWithBytes()).index;
  }

  /**
   * index() and the exact bytes of index.json it was parsed from (undefined for a pre-1.0 layout that has only
   * refs/): one read, so the two always agree.
   */
  async indexWithBytes(): Promise<{ index: ImageIndex; bytes: Buffer | undefined }> {
    let bytes: Buffer | undefined;
    try {
      bytes = await readSmallFile(this.paths.index, defaultMaxJsonSize);
    } catch (err) {
      if (LayoutError.is(err)) throw err;
      throw new LayoutError('ERR_INVALID_INDEX', `index.json in ${this.dir} cannot be read: ${(err as Error).message}`, {
        hint: 'index.json must be a JSON image index of at most 16 MiB',
        cause: err,
        path: this.paths.index,
      });
    }
    if (bytes === undefined) {
      if (await isDirectory(this.paths.refs)) return { index: { schemaVersion: 2, manifests: [] }, bytes: undefined };
      throw invalidLayout(this.dir, 'index.json is missing', 'an image layout holds oci-layout, index.json and blobs/; copy the image again');
    }
    let doc: unknown;
    try {
      doc = JSON.parse(decodeUtf8(bytes, 'index.json'));
    } catch (err) {
      throw new LayoutError('ERR_INVALID_INDEX', `index.json in ${this.dir} is not valid JSON: ${(err as Error).message}`, {
        hint: 'the file is damaged; restore it or re-create the layout (blobs are kept)',
        cause: err,
        path: this.paths.index,
      });
    }
    if (!withinJsonDepth(doc)) {
      throw new LayoutError('ERR_INVALID_INDEX', `index.json in ${this.dir} nests arrays or objects more than ${maxJsonDepth} deep`, {
        hint: 'no real image index is nested like this; the file is damaged or hostile: restore it or re-create the layout',
        path: this.paths.index,
      });
    }
    const v = validateIndex(doc);
    if (!v.valid) {
      const first = v.errors.slice(0, 3).map((e) => `${e.path || '/'} ${e.message}`).join('; ');
      throw new LayoutError('ERR_INVALID_INDEX', `index.json in ${this.dir} is not a valid image index: ${first}`, {
        hint: 'index.json must be an OCI image index: {"schemaVersion":2,"manifests":[descriptors]}',
        path: this.paths.index,
      });
    }
    return { index: doc as ImageIndex, bytes };
  }

  /** Refs from index.json annotations, then legacy `refs/NAME` files not shadowed by them. */
  async listRefs(): Promise<RefEntry[]> {
    const index = await this.index();
    const out: RefEntry[] = [];
    const seen = new Set<string>();
    for (const d of index.manifests) {
      const name = d.annotations?.[AnnotationRefName];
      if (name === undefined) continue;
      out.push({ name, descriptor: d });
      seen.add(name);
    }
    for (const entry of await this.legacyRefs()) {
      if (!seen.has(entry.name)) out.push(entry);
    }
    return out;
  }

  /** Pre-1.0 layouts: every refs/NAME file holding a descriptor. Invalid names and files are skipped. @internal */
  async legacyRefs(): Promise<RefEntry[]> {
    const out: RefEntry[] = [];
    if (!(await checkDirs(this.dir, ['refs']))) return out;
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const name = prefix + e.name;
        if (e.isDirectory()) await walk(join(dir, e.name), `${name}/`);
        else if (e.isFile() && isValidRefName(name)) {
          const d = await this.readLegacyRef(name);
          if (d !== undefined) out.push({ name, descriptor: d, legacy: true });
        }
      }
    };
    await walk(this.paths.refs, '');
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  }

  private async readLegacyRef(name: string): Promise<Descriptor | undefined> {
    if (!isValidRefName(name)) return undefined;
    const parts = name.split('/');
    // Every directory on the way must be real: refs/a -> /etc must not make "a/shadow" readable.
    if (!(await checkDirs(this.dir, ['refs', ...parts.slice(0, -1)]))) return undefined;
    let bytes: Buffer | undefined;
    try {
      bytes = await readSmallFile(join(this.paths.refs, ...parts), 64 << 10);
    } catch (err) {
      if (LayoutError.is(err)) throw err;
      return undefined;
    }
    if (bytes === undefined) return undefined;
    try {
      const raw = JSON.parse(decodeUtf8(bytes, `refs/${name}`)) as unknown;
      if (!withinJsonDepth(raw)) return undefined;
      const d = (withoutNullFields(raw) ?? raw) as Descriptor;
      return validateDescriptor(d).valid ? d : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Find the descriptor a ref names: an index.json ref name, then a legacy refs/ name, then a
   * digest (listed in index.json, or any manifest/index blob in the layout).
   */
  async lookup(ref: string): Promise<Descriptor | undefined> {
    const index = await this.index();
    const hit = index.manifests.find((d) => d.annotations?.[AnnotationRefName] === ref);
    if (hit !== undefined) return hit;
    const legacy = await this.readLegacyRef(ref);
    if (legacy !== undefined) return legacy;
    if (isLayoutDigest(ref)) {
      const listed = index.manifests.find((d) => d.digest === ref);
      if (listed !== undefined) return listed;
      // Any manifest or index blob in the layout can be named by its digest.
      const st = await this.statBlob(ref);
      if (st === undefined || st.size > defaultMaxJsonSize) return undefined;
      let doc: unknown;
      try {
        doc = await this.readJson(ref);
      } catch {
        return undefined;
      }
      const mediaType = sniffMediaType(doc);
      return mediaType === undefined ? undefined : { mediaType, digest: ref, size: st.size };
    }
    return undefined;
  }

  /**
   * Point ref `name` at `descriptor` in index.json (replacing any entry with that name), under the
   * inter-process lock, written atomically. The blob must be in the layout (ERR_BLOB_UNKNOWN).
   */
  async tag(name: string, descriptor: Descriptor, options: LockOptions = {}): Promise<Descriptor> {
    assertRefName(name);
    checkDescriptor(descriptor);
    const entry: Descriptor = { ...descriptor, annotations: { ...descriptor.annotations, [AnnotationRefName]: name } };
    await this.updateIndex(async (index) => {
      // Checked under the lock, so a concurrent gc() cannot remove the blob between check and write.
      await this.checkTaggable(name, descriptor);
      index.manifests = index.manifests.filter((d) => d.annotations?.[AnnotationRefName] !== name);
      index.manifests.push(entry);
    }, options);
    // What the new ref reaches is safe from gc now: it stops being protected as "about to be tagged" (by the next
    // gc(), which walks it then: a later untag and gc remove what only this ref kept)
    if (hasPins(this.dir)) unpinLater(this.dir, entry);
    return entry;
  }

  private async checkTaggable(name: string, descriptor: Descriptor): Promise<void> {
    const st = await this.statBlob(descriptor.digest);
    if (st === undefined) {
      throw new LayoutError('ERR_BLOB_UNKNOWN', `cannot tag ${name}: blob ${descriptor.digest} is not in the layout`, {
        hint: 'put the manifest (and its config and layers) into the layout before tagging it',
        digest: descriptor.digest,
        ref: name,
      });
    }
    if (st.size !== descriptor.size) {
      throw new LayoutError('ERR_SIZE_MISMATCH', `cannot tag ${name}: blob ${descriptor.digest} has ${st.size} bytes, the descriptor says ${descriptor.size}`, {
        hint: 'use the descriptor returned by putBlob()/putJson()',
        digest: descriptor.digest,
        expected: descriptor.size,
        actual: st.size,
      });
    }
  }

  /** Remove ref `name` (from index.json and a legacy refs/NAME file). ERR_REF_UNKNOWN if it is nowhere. */
  async untag(name: string, options: LockOptions = {}): Promise<void> {
    if (typeof name !== 'string' || name === '') assertRefName(name);
    await this.withLock(async () => {
      let found = false;
      await this.updateIndex((index) => {
        const before = index.manifests.length;
        index.manifests = index.manifests.filter((d) => d.annotations?.[AnnotationRefName] !== name);
        found = index.manifests.length !== before;
        return found;
      }, options);
      if (isValidRefName(name) && (await checkDirs(this.dir, ['refs', ...name.split('/').slice(0, -1)]))) {
        const legacyPath = join(this.paths.refs, ...name.split('/'));
        try {
          await unlink(legacyPath);
          found = true;
          await fsyncDir(this.paths.refs);
        } catch {
          // not there
        }
      }
      if (!found) throw refUnknown(name, this.dir);
    }, options);
  }

  /**
   * Read-modify-write index.json under the lock; `change` edits the index in place and may
   * return false to skip the write. The write is atomic (temp file, fsync, rename, fsync dir).
   */
  async updateIndex(change: (index: ImageIndex) => void | boolean | Promise<void | boolean>, options: LockOptions = {}): Promise<ImageIndex> {
    try {
      return await this.updateIndexUnmapped(change, options);
    } catch (err) {
      throw writeError(err, this.dir);
    }
  }

  private async updateIndexUnmapped(change: (index: ImageIndex) => void | boolean | Promise<void | boolean>, options: LockOptions): Promise<ImageIndex> {
    // blobs put with syncDir: false become durable before any index can name them
    await syncPendingDirs(this.paths.dir);
    return await this.withLock(async () => {
      const index = await this.index();
      const result = await change(index);
      if (result === false) return index;
      if (index.mediaType === undefined && (await stat(this.paths.index).catch(() => undefined)) === undefined) {
        index.mediaType = MediaType.ImageIndex;
      }
      await writeFileAtomic(this.paths.index, JSON.stringify(index), this.paths.ingest, this.dir);
      return index;
    }, options);
  }

  /**
   * Run `fn` holding the layout's inter-process lock (`.oci-ts/index.lock`). Waits for a live
   * holder (ERR_LOCKED after `timeout`, default 30 s) and breaks the lock of a dead one. Re-entrant.
   */
  async withLock<T>(fn: () => Promise<T> | T, options: LockOptions = {}): Promise<T> {
    // The lock file and temp files live in .oci-ts/ingest: never create them through a symlink.
    try {
      await makeDirs(this.dir, [stateDirName, 'ingest']);
    } catch (err) {
      throw writeError(err, this.dir);
    }
    // Errors of taking or releasing the lock (EROFS, ENOSPC) get our codes; errors of `fn` pass as they are.
    let fnError: { err: unknown } | undefined;
    const run = async (): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        fnError = { err };
        throw err;
      }
    };
    try {
      return await withFileLock(this.paths.lock, this.paths.ingest, run, options);
    } catch (err) {
      if (fnError !== undefined && fnError.err === err) throw err;
      throw writeError(err, this.dir);
    }
  }

  // ---------------------------------------------------------------- resolve

  /**
   * Follow a ref (a name, or a digest listed in index.json) to an image manifest and its config,
   * picking the platform inside an index (default: the host's). ERR_REF_UNKNOWN, ERR_PLATFORM_UNKNOWN.
   */
  async resolve(ref: string, options: ResolveOptions = {}): Promise<Resolved> {
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    const start = await this.lookup(ref);
    if (start === undefined) {
      if (!isValidRefName(ref) && !isLayoutDigest(ref)) assertRefName(ref);
      throw refUnknown(ref, this.dir);
    }
    const platform = typeof options.platform === 'string' ? parsePlatform(options.platform) : options.platform;
    const chain: Descriptor[] = [];
    let current = start;
    for (let depth = 0; ; depth++) {
      if (signal?.aborted) throw abortReason(signal);
      checkDescriptor(current);
      chain.push(current);
      if (depth > 8) {
        throw new LayoutError('ERR_INVALID_DOCUMENT', `ref ${ref} nests indexes more than 8 deep`, { hint: 'the layout is malformed', ref });
      }
      const doc = lenient(mediaTypeOf(current), await this.readDocument(current, ref));
      const mediaType = isIndexMediaType(current.mediaType) || isManifestMediaType(current.mediaType) ? current.mediaType : sniffMediaType(doc);
      if (mediaType !== undefined) for (const child of childrenOf(mediaType, doc)) parseLayoutDigest(child.digest);
      if (mediaType !== undefined && isIndexMediaType(mediaType)) {
        checkDocument(mediaType, doc, current.digest);
        const picked = selectManifest(doc as ImageIndex, platform);
        if (picked === undefined) {
          const have = (doc as ImageIndex).manifests
            .map((m) => (m.platform ? [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/') : '?'))
            .join(', ');
          throw new LayoutError('ERR_PLATFORM_UNKNOWN', `ref ${ref} has no manifest for ${platform ? JSON.stringify(platform) : 'this platform'} (it has: ${have || 'none'})`, {
            hint: 'pass { platform: "os/arch[/variant]" } naming one of the platforms listed',
            ref,
          });
        }
        current = picked;
        continue;
      }
      if (mediaType === undefined || !isManifestMediaType(mediaType)) {
        throw new LayoutError('ERR_INVALID_DOCUMENT', `ref ${ref} points at ${current.digest} of media type ${current.mediaType}, not an image manifest or index`, {
          hint: 'resolve() follows image manifests and indexes only; read other artifacts with readJson()/getBlob()',
          digest: current.digest,
          ref,
        });
      }
      checkDocument(mediaType, doc, current.digest);
      const manifest = doc as ImageManifest;
      const configDescriptor = manifest.config;
      checkDescriptor(configDescriptor);
      const configDoc = await this.readDocument(configDescriptor, ref);
      if (configDescriptor.mediaType === MediaType.ImageConfig || configDescriptor.mediaType === MediaType.DockerConfig) {
        checkDocument(configDescriptor.mediaType, configDoc, configDescriptor.digest);
      }
      return { descriptor: current, manifest, config: configDoc as ImageConfig, configDescriptor, chain };
    }
  }

  /** Read a document a descriptor names, checking the descriptor's size too (a lying size is refused). */
  private async readDocument(d: Descriptor, ref: string): Promise<unknown> {
    const bytes = await this.readBlob(d.digest);
    if (bytes.byteLength !== d.size) {
      throw new LayoutError('ERR_SIZE_MISMATCH', `ref ${ref}: blob ${d.digest} has ${bytes.byteLength} bytes, its descriptor says ${d.size}`, {
        hint: 'the descriptor is wrong (a hostile or broken writer); verify() lists every such problem',
        digest: d.digest,
        expected: d.size,
        actual: bytes.byteLength,
        ref,
      });
    }
    return parseJsonBytes(bytes, d.digest);
  }

  // ---------------------------------------------------------------- gc and verify

  /**
   * Remove blobs that nothing reachable from index.json (or legacy refs/) points at, and temp files
   * left by dead writers. Runs under the lock. Refuses (ERR_INVALID_DOCUMENT) if a reachable
   * manifest or index cannot be parsed, since its children would be unknown.
   */
  async gc(options: GcOptions = {}): Promise<GcResult> {
    return await gcLayout(this, options);
  }

  /** Check every reachable blob (present, size, digest) and document (schema), and every blob file's content. */
  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    return await verifyLayout(this, options);
  }
}

/** @internal */
export function parseJsonBytes(bytes: Uint8Array, digest: string | undefined): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(decodeUtf8(bytes, digest ? `blob ${digest}` : 'document'));
  } catch (err) {
    throw new LayoutError('ERR_INVALID_DOCUMENT', `${digest ? `blob ${digest}` : 'document'} is not valid JSON: ${(err as Error).message}`, {
      hint: 'the blob is damaged or is not a JSON document',
      digest,
      cause: err,
    });
  }
  if (!withinJsonDepth(doc)) {
    throw new LayoutError('ERR_INVALID_DOCUMENT', `${digest ? `blob ${digest}` : 'document'} nests arrays or objects more than ${maxJsonDepth} deep`, {
      hint: 'no real OCI document is nested like this; the blob is hostile or not what its descriptor says',
      digest,
    });
  }
  return doc;
}

/** Validate a manifest, index or config by media type; throws ERR_INVALID_DOCUMENT. Other types pass. @internal */
export function checkDocument(mediaType: string, doc: unknown, digest: string | undefined): void {
  const v = documentValidation(mediaType, doc);
  if (v !== undefined && !v.valid) {
    const first = v.errors.slice(0, 3).map((e) => `${e.path || '/'} ${e.message}`).join('; ');
    throw new LayoutError('ERR_INVALID_DOCUMENT', `${digest ? `blob ${digest}` : 'document'} is not a valid ${mediaType}: ${first}`, {
      hint: 'the document does not follow the OCI image-spec schema for its media type',
      digest,
    });
  }
}

/** @internal */
export function documentValidation(mediaType: string, doc: unknown): { valid: boolean; errors: { path: string; message: string }[] } | undefined {
  if (isManifestMediaType(mediaType)) return validateManifest(doc);
  if (isIndexMediaType(mediaType)) return validateIndex(doc);
  if (mediaType === MediaType.ImageConfig || mediaType === MediaType.DockerConfig) return validateConfig(doc);
  return undefined;
}

function mediaTypeOf(d: Descriptor): string {
  return d.mediaType;
}

/**
 * A manifest or index that is invalid only because a pre-1.0 writer put `null` in optional fields
 * is read as if those fields were absent (the documents of the tutorials' legacy layouts). @internal
 */
export function lenient(mediaType: string, doc: unknown): unknown {
  const v = documentValidation(mediaType, doc) ?? documentValidation(sniffMediaType(doc) ?? '', doc);
  if (v === undefined || v.valid) return doc;
  const fixed = withoutNullFields(doc);
  if (fixed === undefined) return doc;
  const again = documentValidation(mediaType, fixed) ?? documentValidation(sniffMediaType(fixed) ?? '', fixed);
  return again?.valid === true ? fixed : doc;
}
