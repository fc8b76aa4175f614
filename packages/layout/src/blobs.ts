import { open, rename, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { hasherFor, parseLayoutDigest } from './digest.js';
import { LayoutError } from './errors.js';
import { fsyncDir, tempName } from './fsutil.js';
import { blobPathIn, stateDirName, type LayoutPaths } from './paths.js';
import { checkDirs, lstatRegular, makeDirs, openRegular, writeError } from './safe.js';
import { pin } from './pins.js';

export type BlobSource = Readable | AsyncIterable<Uint8Array> | Uint8Array;

export interface PutBlobProgress {
  /** Bytes received so far. */
  bytes: number;
  /** Expected size, when given. */
  total: number | undefined;
}

export interface PutBlobOptions {
  /** Expected digest: the put fails with ERR_DIGEST_MISMATCH (and leaves nothing) when the bytes differ. */
  digest?: string | undefined;
  /** Expected size: the put fails with ERR_SIZE_MISMATCH as soon as more bytes arrive, or at the end if fewer did. */
  size?: number | undefined;
  /** Algorithm when no digest is given (default sha256). */
  algorithm?: 'sha256' | 'sha512' | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: PutBlobProgress) => void) | undefined;
  /**
   * false: skip the fsync of the blob directory after the rename (the blob file itself is still fsynced).
   * The directory is synced before the next index.json write of this layout (`tag`, `updateIndex`), so an
   * index never names a blob whose rename a crash could undo; copies of many blobs pay one directory fsync
   * instead of one per blob. Default true.
   */
  syncDir?: boolean | undefined;
  /**
   * Called with each chunk of the source once it is written to the temp file and hashed: nothing here reads
   * it again, so a source that pools its memory can reuse it (`@oci/registry-client`'s blob streams have
   * such a `release` method). Chunks of a write that failed are not given back (the garbage collector frees them).
   */
  release?: ((chunk: Uint8Array) => void) | undefined;
}

/** Blob directories renamed into without a directory fsync, per layout directory. @internal */
const unsyncedDirs = new Map<string, Set<string>>();

/** Forgets the directories left unsynced (a restored process image has written nothing yet). @internal */
export function forgetUnsyncedDirs(): void {
  unsyncedDirs.clear();
}

/** fsync the blob directories that puts with `syncDir: false` left unsynced. @internal */
export async function syncPendingDirs(layoutDir: string): Promise<void> {
  const dirs = unsyncedDirs.get(layoutDir);
  if (dirs === undefined) return;
  unsyncedDirs.delete(layoutDir);
  for (const d of dirs) await fsyncDir(d);
}

export interface PutBlobResult {
  digest: string;
  size: number;
  /** True when the blob was already complete in the layout and was not rewritten. */
  existed: boolean;
}

export interface GetBlobOptions {
  signal?: AbortSignal | undefined;
  /** Hash while reading and fail the stream with ERR_DIGEST_MISMATCH / ERR_SIZE_MISMATCH at the end. */
  verify?: boolean | undefined;
  /** Read buffer size (default 1 MiB). */
  highWaterMark?: number | undefined;
}

/** @internal */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

function discard(source: BlobSource): void {
  if (source instanceof Readable) source.destroy();
  else if (!(source instanceof Uint8Array)) {
    const it = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]?.();
    void it?.return?.()?.catch?.(() => {});
  }
}

async function* chunksOf(source: BlobSource): AsyncIterable<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  for await (const chunk of source as AsyncIterable<unknown>) {
    if (chunk instanceof Uint8Array) yield chunk;
    else if (typeof chunk === 'string') yield Buffer.from(chunk);
    else throw new TypeError('putBlob: the source yielded something that is not bytes');
  }
}

/**
 * Calls `fn` with each chunk of `source`, in order; while a promise `fn` returned is pending, the source is paused.
 * A Readable is consumed through 'data' events, not an async iterator: a layer passes in thousands of socket-sized
 * chunks, and each turn of an async iterator costs promise jobs (measured: ~30% of the CPU of a registry pull).
 */
async function forEachChunk(source: BlobSource, fn: (chunk: Uint8Array) => Promise<void> | undefined): Promise<void> {
  if (!(source instanceof Readable)) {
    for await (const chunk of chunksOf(source)) await fn(chunk);
    return;
  }
  if (source.errored) throw source.errored;
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', settle);
      source.off('close', onClose);
      if (err === undefined) return resolve();
      // stop the flow now: the caller destroys the source, but only after its own clean-up awaits
      source.pause();
      reject(err);
    };
    const onEnd = (): void => settle();
    const onClose = (): void => {
      if (!source.readableEnded) settle(source.errored ?? Object.assign(new Error('the blob source closed before its end'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    const onData = (data: unknown): void => {
      if (settled) return;
      const chunk = data instanceof Uint8Array ? data : typeof data === 'string' ? Buffer.from(data) : undefined;
      if (chunk === undefined) return settle(new TypeError('putBlob: the source yielded something that is not bytes'));
      let wait: Promise<void> | undefined;
      try {
        wait = fn(chunk);
      } catch (err) {
        return settle(err);
      }
      if (wait === undefined) return;
      source.pause();
      wait.then(() => { if (!settled) source.resume(); }, settle);
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', settle);
    source.on('close', onClose);
    if (source.readableEnded) settle();
    else if (source.destroyed) onClose();
  });
}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

/** Writes the chunks in order, several per system call (writev), finishing short writes. */
async function writeChunks(fh: FileHandle, chunks: Uint8Array[]): Promise<void> {
  if (chunks.length === 1) return await writeAll(fh, chunks[0]!);
  let rest = chunks;
  while (rest.length > 0) {
    const batch = rest.slice(0, 512); // IOV_MAX is 1024 on Linux
    let { bytesWritten } = await fh.writev(batch);
    let i = 0;
    while (i < batch.length && bytesWritten >= batch[i]!.byteLength) bytesWritten -= batch[i++]!.byteLength;
    if (i < batch.length) {
      await writeAll(fh, batch[i]!.subarray(bytesWritten));
      i++;
    }
    rest = rest.slice(i);
  }
}

/** Bytes gathered while a write is in flight before reading waits for it (bounds memory). */
const WRITE_BATCH = 1 << 20;

function sizeMismatch(expected: number, actual: number, early: boolean): LayoutError {
  return new LayoutError(
    'ERR_SIZE_MISMATCH',
    early ? `blob is larger than the expected ${expected} bytes (got ${actual} so far)` : `blob has ${actual} bytes, expected ${expected}`,
    { hint: 'the source is truncated, corrupt or not the blob the descriptor names; fetch it again', expected, actual },
  );
}

/** @internal */
export async function statBlobIn(paths: LayoutPaths, digest: string): Promise<{ size: number } | undefined> {
  const path = blobPathIn(paths, digest);
  if (!(await checkDirs(paths.dir, ['blobs', parseLayoutDigest(digest).algorithm]))) return undefined;
  const st = await lstatRegular(path);
  return st === undefined ? undefined : { size: st.size };
}

/**
 * Stream `source` into the layout: hash while writing to a temp file in the ingest directory,
 * fsync, check digest and size, rename into blobs/<alg>/<encoded>, fsync the directory.
 * Any failure removes the temp file. @internal
 */
export async function putBlobIn(paths: LayoutPaths, source: BlobSource, options: PutBlobOptions = {}): Promise<PutBlobResult> {
  // A stream source may fail while we are still opening the temp file, before anything reads it: keep
  // that error from becoming an uncaught exception (the read loop still sees it through stream.errored).
  const emitter = typeof (source as { on?: unknown }).on === 'function' ? (source as NodeJS.EventEmitter) : undefined;
  emitter?.on('error', ignoreEarlyError);
  try {
    const result = await putBlobUnmapped(paths, source, options);
    pin(paths.dir, result.digest);
    return result;
  } catch (err) {
    discard(source);
    throw writeError(err, paths.dir);
  } finally {
    emitter?.off('error', ignoreEarlyError);
  }
}

function ignoreEarlyError(): void {}

async function putBlobUnmapped(paths: LayoutPaths, source: BlobSource, options: PutBlobOptions): Promise<PutBlobResult> {
  const { signal, onProgress, size, release } = options;
  try {
    if (signal?.aborted) throw abortReason(signal);
    if (options.digest !== undefined) parseLayoutDigest(options.digest);
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
      throw new LayoutError('ERR_INVALID_DESCRIPTOR', `invalid expected size ${String(size)}`, { hint: 'size is a non-negative integer' });
    }
  } catch (err) {
    discard(source);
    throw err;
  }
  const algorithm = options.digest !== undefined ? parseLayoutDigest(options.digest).algorithm : (options.algorithm ?? 'sha256');
  const hash = hasherFor(algorithm);

  if (options.digest !== undefined) {
    const existing = await statBlobIn(paths, options.digest);
    if (existing !== undefined && (size === undefined || existing.size === size)) {
      discard(source);
      await touch(blobPathIn(paths, options.digest));
      return { digest: options.digest, size: existing.size, existed: true };
    }
  }

  await makeDirs(paths.dir, [stateDirName, 'ingest']);
  const tmp = `${paths.ingest}/${await tempName('b-')}`;
  const fh = await open(tmp, 'wx', 0o644);
  let closed = false;
  let kept = false;
  const onAbort = (): void => {
    if (source instanceof Readable) source.destroy(abortReason(signal!) as Error);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let written = 0;
    // Overlap: hash (and read) the next chunks while the thread pool writes; what arrives meanwhile goes
    // out in one writev when the write in flight is done (fewer thread-pool round trips). The source is
    // paused only when that backlog reaches WRITE_BATCH (bounds memory).
    let pending: Promise<void> | undefined;
    let writing = false;
    let writeFailure: { error: unknown } | undefined;
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const startWrite = (): void => {
      const chunks = batch;
      batch = [];
      batchBytes = 0;
      writing = true;
      pending = writeChunks(fh, chunks).then(
        () => {
          writing = false;
          if (release !== undefined) for (const c of chunks) release(c);
        },
        (error: unknown) => { writing = false; writeFailure ??= { error }; },
      );
    };
    const afterWrite = (): void => {
      if (writeFailure !== undefined) throw writeFailure.error;
      if (batch.length > 0) startWrite();
    };
    try {
      await forEachChunk(source, (chunk) => {
        if (signal?.aborted) throw abortReason(signal);
        if (writeFailure !== undefined) throw writeFailure.error;
        written += chunk.byteLength;
        if (size !== undefined && written > size) throw sizeMismatch(size, written, true);
        hash.update(chunk);
        batch.push(chunk);
        batchBytes += chunk.byteLength;
        onProgress?.({ bytes: written, total: size });
        if (!writing) startWrite();
        else if (batchBytes >= WRITE_BATCH) return pending!.then(afterWrite);
        return undefined;
      });
      while (batch.length > 0 || writing) {
        await pending;
        afterWrite();
      }
    } finally {
      // Never leave a write in flight behind us, whatever happened.
      if (pending !== undefined) await pending;
    }
    if (writeFailure !== undefined) throw writeFailure.error;
    if (signal?.aborted) throw abortReason(signal);
    if (size !== undefined && written !== size) throw sizeMismatch(size, written, false);
    const digest = hash.digest();
    if (options.digest !== undefined && digest !== options.digest) {
      throw new LayoutError('ERR_DIGEST_MISMATCH', `blob content has digest ${digest}, expected ${options.digest}`, {
        hint: 'the source is corrupt or not the blob the descriptor names; nothing was stored, fetch it again',
        digest: options.digest,
        expected: options.digest,
        actual: digest,
      });
    }
    await fh.sync();
    await fh.close();
    closed = true;
    const target = blobPathIn(paths, digest);
    const existing = await statBlobIn(paths, digest);
    if (existing !== undefined && existing.size === written) {
      await touch(target);
      return { digest, size: written, existed: true };
    }
    await makeDirs(paths.dir, ['blobs', algorithm]);
    try {
      await rename(tmp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EISDIR' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      throw new LayoutError('ERR_UNSAFE_PATH', `${target} is a directory where blob ${digest} belongs`, {
        hint: 'a layout holds regular files only under blobs/<alg>/; remove the directory and put the blob again',
        path: target,
        digest,
        cause: err,
      });
    }
    kept = true;
    if (options.syncDir === false) {
      let dirs = unsyncedDirs.get(paths.dir);
      if (dirs === undefined) unsyncedDirs.set(paths.dir, (dirs = new Set()));
      dirs.add(dirname(target));
    } else {
      await fsyncDir(dirname(target));
    }
    return { digest, size: written, existed: false };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!closed) await fh.close().catch(() => {});
    if (!kept) await unlink(tmp).catch(() => {});
  }
}

async function touch(path: string): Promise<void> {
  // Refresh mtime so a concurrent gc with a grace period keeps a blob that is being re-used.
  const now = new Date();
  await utimes(path, now, now).catch(() => {});
}

function unknownBlob(digest: string): LayoutError {
  return new LayoutError('ERR_BLOB_UNKNOWN', `blob ${digest} is not in the layout`, {
    hint: 'copy the image into the layout again, or check the digest',
    digest,
  });
}

/** @internal */
export async function openBlob(paths: LayoutPaths, digest: string): Promise<FileHandle> {
  const path = blobPathIn(paths, digest);
  try {
    if (!(await checkDirs(paths.dir, ['blobs', parseLayoutDigest(digest).algorithm]))) throw unknownBlob(digest);
    return await openRegular(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw unknownBlob(digest);
    throw err;
  }
}

/** A Transform that hashes what passes and fails at the end on a digest or size mismatch. @internal */
export function verifier(digest: string, size?: number): Transform {
  const { algorithm } = parseLayoutDigest(digest);
  const hash = hasherFor(algorithm);
  let seen = 0;
  return new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.byteLength;
      if (size !== undefined && seen > size) {
        cb(sizeMismatch(size, seen, true));
        return;
      }
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      if (size !== undefined && seen !== size) {
        cb(sizeMismatch(size, seen, false));
        return;
      }
      const actual = hash.digest();
      if (actual !== digest) {
        cb(
          new LayoutError('ERR_DIGEST_MISMATCH', `blob ${digest} has content with digest ${actual}`, {
            hint: 'the blob file is corrupt; remove it and copy the image again (verify() lists every damaged blob)',
            digest,
            expected: digest,
            actual,
          }),
        );
        return;
      }
      cb();
    },
  });
}

/** @internal */
export async function getBlobIn(paths: LayoutPaths, digest: string, options: GetBlobOptions = {}): Promise<Readable> {
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const fh = await openBlob(paths, digest);
  const stream = fh.createReadStream({ highWaterMark: options.highWaterMark ?? 1 << 20 });
  let out: Readable = stream;
  if (options.verify === true) {
    const v = verifier(digest);
    stream.on('error', (err) => v.destroy(err));
    v.on('close', () => stream.destroy());
    out = stream.pipe(v);
  }
  if (signal !== undefined) {
    const onAbort = (): void => {
      out.destroy(abortReason(signal) as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    out.on('close', () => signal.removeEventListener('abort', onAbort));
  }
  return out;
}

/** Read a whole (small) blob into memory, refusing more than `maxSize`, and check its digest. @internal */
export async function readBlobIn(paths: LayoutPaths, digest: string, options: { maxSize?: number | undefined; signal?: AbortSignal | undefined } = {}): Promise<Buffer> {
  const maxSize = options.maxSize ?? 16 << 20;
  if (options.signal?.aborted) throw abortReason(options.signal);
  const fh = await openBlob(paths, digest);
  try {
    const st = await fh.stat();
    if (st.size > maxSize) {
      throw new LayoutError('ERR_BLOB_TOO_LARGE', `blob ${digest} has ${st.size} bytes, more than the limit of ${maxSize}`, {
        hint: 'stream it with getBlob(), or raise maxSize if the document is legitimately this large',
        digest,
        expected: maxSize,
        actual: st.size,
      });
    }
    const buf = await fh.readFile();
    const { algorithm } = parseLayoutDigest(digest);
    const actual = hasherFor(algorithm).update(buf).digest();
    if (actual !== digest) {
      throw new LayoutError('ERR_DIGEST_MISMATCH', `blob ${digest} has content with digest ${actual}`, {
        hint: 'the blob file is corrupt; remove it and copy the image again (verify() lists every damaged blob)',
        digest,
        expected: digest,
        actual,
      });
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** @internal */
export async function removeBlobFile(path: string): Promise<void> {
  await unlink(path);
}
