import { lstat, rename, rm } from 'node:fs/promises';
import { notRegular, openRegular, openTemp, prepareDestinationDir, readBounded, regularSize, writeInside } from './dir-safety.js';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RegistryClient } from './client.js';
import type { Descriptor, ImageIndex } from '@oci/image-spec';
import type { PlainDescriptor } from './convert.js';
import type { CopyDestination, CopySource, ManifestData } from './copy.js';
import { digestBytes, hasherFor, mismatch, splitDigest, verifyBytes } from './digest.js';
import { RegistryError } from './errors.js';
import { sniffManifestType } from './media.js';
import { formatReference, withSelector, type Reference } from './reference.js';

const MAX_MANIFEST = 4 * 1024 * 1024;
const REF_NAME = 'org.opencontainers.image.ref.name';

/** A registry image as a copy source. */
export function registrySource(client: RegistryClient, ref: Reference): CopySource {
  const target = { registry: ref.registry, repository: ref.repository };
  return {
    name: `docker://${formatReference(ref)}`,
    registryLocation: target,
    async getRoot(o = {}) {
      const m = await client.getManifest(ref, o);
      return { bytes: m.bytes, mediaType: m.mediaType, digest: m.digest };
    },
    async getManifest(d, o = {}) {
      const m = await client.getManifest(withSelector(ref, { digest: d.digest }), o);
      return { bytes: m.bytes, mediaType: m.mediaType, digest: m.digest };
    },
    async getBlob(d, o = {}) {
      return await client.getBlob(target, d.digest, { size: d.size, signal: o.signal, onProgress: o.onBytes, verify: o.verify });
    },
  };
}

/** A registry repository (and tag) as a copy destination. */
export function registryDestination(client: RegistryClient, ref: Reference, options: { chunkSize?: number } = {}): CopyDestination {
  const target = { registry: ref.registry, repository: ref.repository };
  return {
    name: `docker://${formatReference(ref)}`,
    acceptsDockerMediaTypes: true,
    // the registry checks ?digest= against what it received and keeps nothing on a mismatch
    verifiesBlobs: true,
    registryLocation: target,
    async hasBlob(d, o = {}) {
      return await client.hasBlob(target, d.digest, o);
    },
    async putBlob(d, openSource, o = {}) {
      const r = await client.pushBlob(target, openSource, {
        digest: d.digest, size: d.size, signal: o.signal, skipExistsCheck: true, chunkSize: options.chunkSize,
        mountFrom: o.mountFrom ? [o.mountFrom.repository] : undefined,
        onProgress: o.onBytes ? (n) => o.onBytes!(n) : undefined,
      });
      return r.outcome;
    },
    async putManifest(m, o) {
      const sel = o.top ? { tag: ref.tag, digest: ref.tag ? undefined : m.digest } : { digest: m.digest };
      if (o.top && ref.digest && !ref.tag && ref.digest !== m.digest) {
        throw new RegistryError('ERR_DIGEST_MISMATCH', `destination ${formatReference(ref)} names digest ${ref.digest}, but the copied manifest is ${m.digest}`, {
          expected: ref.digest, actual: m.digest, hint: 'Use a tag for the destination, or the digest of the copied manifest.',
        });
      }
      await client.putManifest(withSelector(ref, sel), m.bytes, m.mediaType, o);
    },
  };
}

/** The parts of @oci/layout's Layout that copies use (structural, so any compatible handle works). */
/**
 * What the copy needs of an OCI layout: `@oci/layout`'s `Layout` is one (pass it as it is); the descriptor and
 * index types are `@oci/image-spec`'s.
 */
export interface LayoutLike {
  readonly dir: string;
  putBlob(source: Readable | AsyncIterable<Uint8Array> | Uint8Array, options?: {
    digest?: string | undefined; size?: number | undefined; signal?: AbortSignal | undefined;
    onProgress?: ((p: { bytes: number }) => void) | undefined;
    /** false: one directory fsync before the index is written instead of one per blob (@oci/layout). */
    syncDir?: boolean | undefined;
    /** Called with each chunk once written and hashed (@oci/layout); a layout that does not call it is fine too. */
    release?: ((chunk: Uint8Array) => void) | undefined;
  }): Promise<{ digest: string; size: number }>;
  getBlob(digest: string, options?: { signal?: AbortSignal | undefined; verify?: boolean | undefined }): Promise<Readable>;
  readBlob(digest: string, options?: { maxSize?: number | undefined }): Promise<Buffer>;
  hasBlob(digest: string): Promise<boolean>;
  statBlob(digest: string): Promise<{ size: number } | undefined>;
  lookup(ref: string): Promise<Descriptor | undefined>;
  index(): Promise<ImageIndex>;
  tag(name: string, descriptor: Descriptor): Promise<unknown>;
  updateIndex(change: (index: ImageIndex) => void | boolean | Promise<void | boolean>): Promise<unknown>;
}

/** An image in an OCI layout (by ref name; without one, the layout's only manifest). */
export function layoutSource(layout: LayoutLike, refName?: string): CopySource {
  const name = `oci:${layout.dir}${refName ? `:${refName}` : ''}`;
  const read = async (d: { mediaType: string; digest: string; size: number }): Promise<ManifestData> => {
    if (d.size > MAX_MANIFEST) throw new RegistryError('ERR_TOO_LARGE', `manifest ${d.digest} in ${name} is too large (${d.size} bytes)`);
    const bytes = await layout.readBlob(d.digest, { maxSize: MAX_MANIFEST });
    verifyBytes(bytes, d.digest, d.size);
    const doc = JSON.parse(bytes.toString('utf8')) as unknown;
    return { bytes, digest: d.digest, mediaType: sniffManifestType(doc, d.mediaType) };
  };
  return {
    name,
    async getRoot() {
      let d: Descriptor | undefined;
      if (refName) {
        d = await layout.lookup(refName);
        if (!d) {
          throw new RegistryError('ERR_MANIFEST_UNKNOWN', `no image named "${refName}" in ${layout.dir}`, {
            hint: 'List the refs of the layout (its index.json annotations org.opencontainers.image.ref.name).',
          });
        }
      } else {
        const idx = await layout.index();
        if (idx.manifests.length !== 1) {
          throw new RegistryError('ERR_MANIFEST_UNKNOWN', `${layout.dir} holds ${idx.manifests.length} images; say which one with oci:DIR:REF`, {
            hint: 'Add :REF to the oci: reference.',
          });
        }
        d = idx.manifests[0]!;
      }
      return await read(d);
    },
    async getManifest(d) {
      return await read(d);
    },
    async getBlob(d, o = {}) {
      return await layout.getBlob(d.digest, { signal: o.signal, verify: o.verify !== false });
    },
  };
}

/**
 * Whether an index's `manifests` already say what a copy to a layout writes for `desc` (tagged `refName`, or
 * untagged without one): then layoutDestination leaves index.json alone. Pure.
 */
export function indexNames(manifests: readonly Descriptor[], refName: string | undefined, desc: Descriptor): boolean {
  if (!refName) return manifests.some((x) => x.digest === desc.digest && !x.annotations?.[REF_NAME]);
  const named = manifests.filter((x) => x.annotations?.[REF_NAME] === refName);
  // exactly what tag() would write: the descriptor plus the ref name, nothing else
  const x = named[0];
  return named.length === 1 && x !== undefined && x.mediaType === desc.mediaType && x.digest === desc.digest && x.size === desc.size &&
    Object.keys(x).every((k) => k === 'mediaType' || k === 'digest' || k === 'size' || k === 'annotations') &&
    Object.keys(x.annotations ?? {}).length === 1;
}

/** Options of `layoutDestination`. */
export interface LayoutDestinationOptions {
  /** The layout's directory, for the destination's name while the layout is still opening. */
  dir?: string | undefined;
  /**
   * The layout did not exist before this copy (it is being created): no blob can be there but those this copy
   * puts, so hasBlob answers without waiting for the layout to open, and the first downloads start meanwhile.
   */
  created?: boolean | undefined;
}

/**
 * An OCI layout as a copy destination; the top manifest is tagged `refName` (if given). `layout` may still be
 * opening (a promise): every call waits for it, but a blob's source is opened first, so its request is on its way
 * while the layout is being initialised.
 */
export function layoutDestination(layout: LayoutLike | Promise<LayoutLike>, refName?: string, options: LayoutDestinationOptions = {}): CopyDestination {
  const ready = Promise.resolve(layout);
  // a layout that fails to open is reported by the first call that needs it, never as an unhandled rejection
  ready.catch(() => {});
  const dir = options.dir ?? (layout as LayoutLike).dir;
  // Whether this copy stored anything: when it did not and index.json already says what we would write, the
  // index is left alone (no lock, no temp file, no fsync): a re-copy of a present image writes nothing.
  let wrote = false;
  const stored = new Set<string>();
  const present = async (d: { digest: string; size: number }): Promise<boolean> => {
    if (options.created) return stored.has(`${d.digest} ${d.size}`);
    const st = await (await ready).statBlob(d.digest);
    return st !== undefined && st.size === d.size;
  };
  const alreadyIndexed = async (desc: Descriptor): Promise<boolean> => {
    if (wrote) return false;
    return indexNames((await (await ready).index()).manifests, refName, desc);
  };
  return {
    name: `oci:${dir}${refName ? `:${refName}` : ''}`,
    acceptsDockerMediaTypes: false,
    // Layout.putBlob with a digest hashes while writing and leaves nothing on a mismatch
    verifiesBlobs: true,
    hasBlob: present,
    async putBlob(d, openSource, o = {}) {
      // the source first: its request travels while the layout opens
      const opening = openSource();
      // it may fail (abort, network) while we wait for the layout: awaited below, never unhandled meanwhile
      opening.catch(() => {});
      let l: LayoutLike;
      try {
        l = await ready;
      } catch (err) {
        opening.then((s) => s.destroy(), () => {});
        throw err;
      }
      const stream = await opening;
      wrote = true;
      // the blob directory is fsynced once, before the index names the image (tag/updateIndex)
      // a registry blob stream takes its chunks back once written: their memory is reused for the next reads
      const release = (stream as { release?: unknown }).release;
      await l.putBlob(stream, {
        digest: d.digest, size: d.size, signal: o.signal, syncDir: false,
        onProgress: o.onBytes ? (p) => o.onBytes!(p.bytes) : undefined,
        release: typeof release === 'function' ? (chunk) => release.call(stream, chunk) : undefined,
      });
      stored.add(`${d.digest} ${d.size}`);
      return 'uploaded';
    },
    async putManifest(m, o) {
      const l = await ready;
      if (!(await present({ digest: m.digest, size: m.bytes.length }))) {
        wrote = true;
        await l.putBlob(m.bytes, { digest: m.digest, size: m.bytes.length, signal: o.signal, syncDir: false });
        stored.add(`${m.digest} ${m.bytes.length}`);
      }
      if (!o.top) return;
      const desc: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
      if (await alreadyIndexed(desc)) return;
      if (refName) {
        await l.tag(refName, desc);
      } else {
        await l.updateIndex((index) => {
          if (index.manifests.some((x) => x.digest === m.digest && !x.annotations?.[REF_NAME])) return false;
          index.manifests.push(desc);
          return true;
        });
      }
    },
  };
}

const DIR_VERSION = 'Directory Transport Version: 1.1\n';

function dirBlobPath(dir: string, digest: string): string {
  const { algorithm, encoded } = splitDigest(digest);
  return join(dir, algorithm === 'sha256' ? encoded : `${algorithm}-${encoded}`);
}

/** skopeo's `dir:` format as a source: manifest.json (+ HEX.manifest.json for index children), blobs named by hex. */
export function dirSource(dir: string): CopySource {
  // every file is opened O_NOFOLLOW|O_NONBLOCK and fstat'ed: symlinks, fifos, devices, dirs are ERR_UNSAFE_PATH
  const readManifest = async (file: string, expected?: PlainDescriptor): Promise<ManifestData> => {
    const path = join(dir, file);
    const opened = await openRegular(path);
    if (!opened) throw new RegistryError('ERR_MANIFEST_UNKNOWN', `${path} does not exist`, { hint: 'Is this a directory written by `skopeo copy ... dir:DIR`?' });
    let bytes: Buffer;
    try {
      if (opened.size > MAX_MANIFEST) throw new RegistryError('ERR_TOO_LARGE', `${path} is too large (${opened.size} bytes)`, { hint: 'A manifest this large is not a real manifest; the directory is damaged or hostile.' });
      bytes = await readBounded(opened.fh, path, MAX_MANIFEST);
    } finally {
      await opened.fh.close().catch(() => undefined);
    }
    if (expected) verifyBytes(bytes, expected.digest, expected.size);
    let doc: unknown;
    try {
      doc = JSON.parse(bytes.toString('utf8')) as unknown;
    } catch (err) {
      throw new RegistryError('ERR_MANIFEST_INVALID', `${path} is not JSON`, { cause: err, hint: 'The dir: directory is damaged; copy the image again.' });
    }
    return { bytes, mediaType: sniffManifestType(doc, expected?.mediaType), digest: expected?.digest ?? digestBytes(bytes) };
  };
  return {
    name: `dir:${dir}`,
    getRoot: () => readManifest('manifest.json'),
    getManifest: async (d) => await readManifest(`${splitDigest(d.digest).encoded}.manifest.json`, d),
    async getBlob(d, o = {}) {
      o.signal?.throwIfAborted();
      const path = dirBlobPath(dir, d.digest); // splitDigest: only [a-f0-9] names, no `..`
      const opened = await openRegular(path);
      if (!opened) throw new RegistryError('ERR_BLOB_UNKNOWN', `blob ${d.digest} is missing from ${dir}`, { digest: d.digest, hint: 'The dir: directory is incomplete; copy the image again.' });
      if (opened.size !== d.size) {
        await opened.fh.close().catch(() => undefined);
        throw new RegistryError('ERR_SIZE_MISMATCH', `blob ${d.digest} in ${dir} has ${opened.size} bytes, the manifest says ${d.size}`, {
          digest: d.digest, expected: d.size, actual: opened.size, hint: 'The dir: directory is damaged or its manifest lies; copy the image again.',
        });
      }
      const hasher = hasherFor(d.digest);
      const file = opened.fh.createReadStream({ highWaterMark: 1 << 20 });
      const { algorithm } = splitDigest(d.digest);
      async function* verified(): AsyncGenerator<Buffer> {
        let n = 0;
        try {
          for await (const c of file) {
            n += (c as Buffer).length;
            // the file may grow while read: never hand on more than the manifest promised
            if (n > d.size) break;
            hasher.update(c as Buffer);
            yield c as Buffer;
          }
        } finally {
          file.destroy();
        }
        if (n !== d.size) throw new RegistryError('ERR_SIZE_MISMATCH', `blob ${d.digest} in ${dir} has ${n} bytes, expected ${d.size}`, { digest: d.digest, expected: d.size, actual: n });
        const actual = `${algorithm}:${hasher.digest('hex')}`;
        if (actual !== d.digest) throw mismatch(d.digest, actual);
      }
      return Readable.from(verified(), { objectMode: false });
    },
  };
}

/** skopeo's `dir:` format as a destination (keeps Docker media types, as skopeo does). */
export function dirDestination(dir: string): CopyDestination {
  // DIR itself must not be a symlink; a non-empty DIR must be a dir: image and is emptied (as skopeo
  // does); names are written by O_EXCL temp file + rename, so nothing planted is written through.
  let prepared: Promise<void> | undefined;
  const prepare = (): Promise<void> => (prepared ??= (async () => {
    await prepareDestinationDir(dir, DIR_VERSION);
    await writeInside(dir, 'version', DIR_VERSION);
  })());
  return {
    name: `dir:${dir}`,
    acceptsDockerMediaTypes: true,
    verifiesBlobs: true,
    async hasBlob(d) {
      await prepare();
      return (await regularSize(dirBlobPath(dir, d.digest))) === d.size;
    },
    async putBlob(d, openSource, o = {}) {
      await prepare();
      const final = dirBlobPath(dir, d.digest);
      const hasher = hasherFor(d.digest);
      let n = 0;
      let tmp: string | undefined;
      try {
        const src = await openSource();
        const t = await openTemp(dir, splitDigest(d.digest).encoded);
        tmp = t.tmp;
        const fh = t.fh;
        try {
          await pipeline(src, async function* (source: AsyncIterable<Buffer>) {
            for await (const c of source) {
              n += c.length;
              if (n > d.size) throw new RegistryError('ERR_SIZE_MISMATCH', `blob ${d.digest} has more than the expected ${d.size} bytes`, { digest: d.digest, expected: d.size, actual: n });
              hasher.update(c);
              o.onBytes?.(n);
              yield c;
            }
          }, fh.createWriteStream(), { signal: o.signal });
        } finally {
          await fh.close().catch(() => undefined);
        }
        const actual = `${splitDigest(d.digest).algorithm}:${hasher.digest('hex')}`;
        if (n !== d.size) throw new RegistryError('ERR_SIZE_MISMATCH', `blob ${d.digest} has ${n} bytes, expected ${d.size}`, { expected: d.size, actual: n });
        if (actual !== d.digest) throw mismatch(d.digest, actual);
        const existing = await lstat(final).catch(() => undefined);
        if (existing?.isDirectory()) throw notRegular(final, 'a directory');
        await rename(tmp, final);
      } catch (err) {
        if (tmp) await rm(tmp, { force: true });
        throw err;
      }
      return 'uploaded';
    },
    async putManifest(m, o) {
      await prepare();
      const file = o.top ? 'manifest.json' : `${splitDigest(m.digest).encoded}.manifest.json`;
      await writeInside(dir, file, m.bytes);
    },
  };
}
