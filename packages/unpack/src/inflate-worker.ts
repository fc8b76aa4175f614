// Hashing and gzip decompression of an image's gzip layers on ONE worker thread,
// so that the main thread only parses tar and writes files: on 2 cores the two
// halves run in parallel instead of taking turns.
//
// The worker reads each blob through a file descriptor the caller opened (once,
// safely, by @oci/layout: no path is opened twice), hashes the compressed bytes
// (digest, size), gunzips (zlib works on the thread pool while the worker hashes
// the previous output for the diff_id and copies it), and copies the output into
// a fixed ring of slots in one SharedArrayBuffer. The main thread reads each slot
// in place (the tar reader and the applier are synchronous) and hands it back
// when it asks for the next one. Memory is that ring (4 MiB) plus zlib's buffers whatever the layer
// sizes, and no garbage is made per chunk on the main thread. A layer ends only
// after its blob's digest and size and then its diff_id were verified (what was
// applied before a failure is discarded with the staging directory). The worker
// goes on to the next layer as soon as it has finished one, so the next layer is
// decompressed while the current one is still being applied (bounded: the ring
// fills, then the worker waits).
import { Worker } from 'node:worker_threads';
import { UnpackError } from './errors.js';

// Plain JS run with { eval: true }: no file to locate next to dist/ or src/. It uses
// process.getBuiltinModule (Node >= 20.16) so it runs whether eval code is CJS or ESM
// (--input-type=module is inherited by workers).
const WORKER_SOURCE = `
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
const fs = process.getBuiltinModule('node:fs');
const zlib = process.getBuiltinModule('node:zlib');
const { createHash } = process.getBuiltinModule('node:crypto');
const { jobs, sab, slots, slotSize, readSize, zchunk } = workerData;
const ring = Buffer.from(sab);
const algo = (d) => d.slice(0, d.indexOf(':'));
const err = (code, message, expected, actual) => Object.assign(new Error(message), { code, expected, actual });
const free = [];
for (let i = 0; i < slots; i++) free.push(i);
let onFree = null;
parentPort.on('message', (m) => {
  if (m.type === 'ack') {
    free.push(m.slot);
    if (onFree !== null) onFree();
  }
});
// two read buffers used in turn: one is read into again only once zlib has consumed it
const rbufs = [Buffer.allocUnsafe(readSize), Buffer.allocUnsafe(readSize)];

const run = (job) => {
  const { fd, digest, size, maxSize, diffId } = jobs[job];
  const hc = createHash(algo(digest));
  const hu = createHash(algo(diffId));
  const toHash = [];
  let seen = 0;
  let out = 0;
  // decompressed chunks not yet copied into the ring, and how much of the first one is
  const chunks = [];
  let chunkOff = 0;
  let scheduled = false;
  let gzEnded = false;
  let failed = false;
  let gzError = null;
  let srcDone = false;
  let srcOk = false;
  let done = false;
  const busy = [false, false];
  let ri = 0;
  let readWaits = false;
  const gunzip = zlib.createGunzip({ chunkSize: zchunk });
  const fail = (stage, e) => {
    if (failed) return;
    failed = true;
    onFree = null;
    // the worker stops here: the caller fails this layer and tears everything down
    parentPort.postMessage({ type: 'error', job, stage, message: e.message, code: e.code, expected: e.expected, actual: e.actual });
    try { gunzip.destroy(); } catch {}
  };
  // copy decompressed bytes into free slots and hand them over; pause the gunzip while the ring is full
  const drain = () => {
    if (failed || done) return;
    while (chunks.length > 0 && free.length > 0) {
      const c = chunks[0];
      const slot = free.shift();
      const n = Math.min(slotSize, c.length - chunkOff);
      c.copy(ring, slot * slotSize, chunkOff, chunkOff + n);
      chunkOff += n;
      if (chunkOff === c.length) { chunks.shift(); chunkOff = 0; }
      parentPort.postMessage({ type: 'data', job, slot, len: n, c: seen });
    }
    if (chunks.length > 0) { gunzip.pause(); return; }
    // the layer ends once zlib's output is all handed over AND the blob was read to its end and
    // verified (zlib ends early when zeros pad the blob after the gzip member); only once
    if (gzEnded && srcOk && !done) {
      done = true;
      const got = algo(diffId) + ':' + hu.digest('hex');
      if (got !== diffId) { fail('uncompressed', err('ERR_DIGEST_MISMATCH', 'layer uncompresses to ' + got, diffId, got)); return; }
      onFree = null;
      parentPort.postMessage({ type: 'end', job });
      if (job + 1 < jobs.length) run(job + 1);
      return;
    }
    if (gunzip.isPaused()) gunzip.resume();
  };
  onFree = drain;
  gunzip.on('data', (c) => {
    if (failed) return;
    out += c.length;
    if (maxSize >= 0 && out > maxSize) {
      fail('limit', err('ERR_LAYER_TOO_LARGE', 'layer uncompresses to more than ' + maxSize + ' bytes', String(maxSize), String(out)));
      return;
    }
    chunks.push(c);
    toHash.push(c);
    // hash and copy after zlib has been given its next piece of work (it runs on the thread pool meanwhile)
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(() => {
        scheduled = false;
        for (const h of toHash) hu.update(h);
        toHash.length = 0;
        drain();
      });
    }
  });
  const onGzError = (e) => { gzError = gzError || e; if (srcDone) fail('decompress', gzError); else readMore(); };
  gunzip.on('error', onGzError);
  gunzip.on('end', () => {
    gzEnded = true;
    for (const h of toHash) hu.update(h);
    toHash.length = 0;
    drain();
    // zlib is done before the blob (zeros after the gzip member): the rest is read to be hashed only
    if (!srcDone) readMore();
  });
  const srcEnd = () => {
    srcDone = true;
    if (seen !== size) { fail('compressed', err('ERR_SIZE_MISMATCH', 'blob has ' + seen + ' bytes, its descriptor says ' + size, String(size), String(seen))); return; }
    const got = algo(digest) + ':' + hc.digest('hex');
    if (got !== digest) { fail('compressed', err('ERR_DIGEST_MISMATCH', 'blob digest is ' + got, digest, got)); return; }
    if (gzError) { fail('decompress', gzError); return; }
    srcOk = true;
    if (gzEnded) drain();
    else gunzip.end();
  };
  // positional reads: the caller's descriptor is read from its start whatever else holds it.
  // One read at a time; a buffer zlib may still hold is not read into (after a gzip error zlib
  // holds nothing: the rest of the blob is only hashed, to report a corrupt blob as such)
  let reading = false;
  const readMore = () => {
    if (failed || reading || srcDone) return;
    const i = ri;
    if (busy[i] && gzError === null && !gzEnded) { readWaits = true; return; }
    reading = true;
    ri ^= 1;
    const buf = rbufs[i];
    fs.read(fd, buf, 0, readSize, seen, (e, n) => {
      reading = false;
      if (failed) return;
      if (e) { fail('source', e); return; }
      if (n === 0) { srcEnd(); return; }
      const c = buf.subarray(0, n);
      seen += n;
      if (seen > size) { fail('compressed', err('ERR_SIZE_MISMATCH', 'blob is larger than its descriptor size ' + size, String(size), String(seen))); return; }
      hc.update(c);
      if (gzError !== null || gzEnded) { readMore(); return; } // keep hashing: a corrupt blob is reported as such, not as bad gzip
      busy[i] = true;
      const more = gunzip.write(c, () => {
        busy[i] = false;
        if (readWaits) { readWaits = false; readMore(); }
      });
      if (more) readMore();
      else gunzip.once('drain', readMore);
    });
  };
  readMore();
};
if (jobs.length > 0) run(0);
`;

/** Ring of SLOTS slots of SLOT_SIZE bytes: the uncompressed bytes in flight to the main thread. */
const SLOTS = 8;
const SLOT_SIZE = 512 << 10;
/** Compressed bytes per read, and zlib's output chunk (smaller chunks cost more CPU per byte). */
const READ_SIZE = 512 << 10;
const ZCHUNK = 512 << 10;

export interface InflateJob {
  /** An open descriptor of the blob (read with positions from 0; the caller closes it after `exited`). */
  fd: number;
  digest: string;
  size: number;
  diffId: string;
  /** Refuse (ERR_LAYER_TOO_LARGE) a layer that uncompresses to more bytes. */
  maxSize?: number | undefined;
}

/** What a layer's consumer plugs in. */
export interface InflateHooks {
  onBytes?: ((compressedBytes: number) => void) | undefined;
  /** Map a failure (stage, code, message...) to the error to throw. */
  mapError: (stage: string, err: Error & { code?: string; expected?: string; actual?: string }) => unknown;
}

type Msg = { type: string; job?: number; slot?: number; len?: number; c?: number; stage?: string; message?: string; code?: string; expected?: string; actual?: string };

interface JobState {
  queue: { slot: number; len: number }[];
  ended: boolean;
  /** the raw failure from the worker, mapped when surfaced */
  failure: Msg | undefined;
  hooks: InflateHooks | undefined;
  source: InflateSource | undefined;
}

/** One worker thread that decompresses and verifies a list of gzip layers in order. */
export class Inflater {
  private readonly worker: Worker;
  readonly ring: Buffer;
  private readonly jobs: JobState[];
  private stopped = false;
  /** why everything stopped (abort, worker crash), if not a layer's own failure */
  private stopError: unknown;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort: () => void;
  /** Settles when the worker thread is gone (then the caller may close the descriptors). */
  readonly exited: Promise<void>;

  constructor(jobs: InflateJob[], opts: { signal?: AbortSignal | undefined } = {}) {
    const sab = new SharedArrayBuffer(SLOTS * SLOT_SIZE);
    this.ring = Buffer.from(sab);
    this.jobs = jobs.map(() => ({ queue: [], ended: false, failure: undefined, hooks: undefined, source: undefined }));
    this.signal = opts.signal;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
      workerData: {
        jobs: jobs.map((j) => ({ fd: j.fd, digest: j.digest, size: j.size, diffId: j.diffId, maxSize: j.maxSize ?? -1 })),
        sab,
        slots: SLOTS,
        slotSize: SLOT_SIZE,
        readSize: READ_SIZE,
        zchunk: ZCHUNK,
      },
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.onAbort = () => this.stop(this.signal?.reason ?? new UnpackError('ERR_ABORTED', 'aborted'));
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.worker.on('message', (m: Msg) => this.onMessage(m));
    this.worker.on('error', (err) => {
      const e = Object.assign(err, { code: (err as { code?: string }).code });
      this.stop(undefined, e);
    });
    this.worker.on('exit', () => {
      if (!this.stopped) this.stop(new UnpackError('ERR_BAD_LAYER', 'the decompression worker stopped unexpectedly'));
    });
  }

  private onMessage(m: Msg): void {
    if (this.stopped) return;
    const job = this.jobs[m.job!]!;
    if (m.type === 'data') {
      if (m.c !== undefined) job.hooks?.onBytes?.(m.c);
      job.queue.push({ slot: m.slot!, len: m.len! });
    } else if (m.type === 'end') {
      job.ended = true;
    } else if (m.type === 'error') {
      job.failure = m;
      // the worker stops after a failure: later layers cannot complete either
      for (const j of this.jobs) if (j !== job && !j.ended) j.failure ??= { type: 'error', stage: 'decompress', message: 'an earlier layer failed' };
    }
    job.source?.wake();
    if (m.type === 'error') for (const j of this.jobs) j.source?.wake();
  }

  /** Stop the worker; pending and later reads fail with `reason` (or a worker error mapped per layer). */
  stop(reason?: unknown, workerError?: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    if (reason !== undefined) this.stopError = reason;
    else if (workerError !== undefined) {
      for (const j of this.jobs) if (!j.ended) j.failure ??= { type: 'error', stage: 'decompress', message: workerError.message, code: (workerError as { code?: string }).code };
    }
    this.signal?.removeEventListener('abort', this.onAbort);
    void this.worker.terminate();
    for (const j of this.jobs) j.source?.wake();
  }

  /** The uncompressed tar of job k (ask once per job, in order). */
  source(k: number, hooks: InflateHooks): InflateSource {
    const job = this.jobs[k]!;
    job.hooks = hooks;
    job.source = new InflateSource(this, job);
    return job.source;
  }

  /** @internal */
  ack(slot: number): void {
    if (!this.stopped) this.worker.postMessage({ type: 'ack', slot });
  }

  /** @internal the error job `job` ends with, if any */
  errorOf(job: JobState): unknown {
    if (job.failure !== undefined) {
      const m = job.failure;
      const e = Object.assign(new Error(m.message), { code: m.code, expected: m.expected, actual: m.actual });
      return job.hooks ? job.hooks.mapError(m.stage ?? 'decompress', e) : e;
    }
    if (this.stopped && !job.ended) return this.stopError ?? new UnpackError('ERR_ABORTED', 'aborted');
    return undefined;
  }
}

/**
 * The uncompressed tar of one layer: an async iterable of Buffers that are views
 * into the ring. A view is valid until the next call of next() (the consumer must
 * use it synchronously or copy it).
 */
export class InflateSource implements AsyncIterableIterator<Buffer> {
  private readonly inflater: Inflater;
  private readonly job: JobState;
  /** the slot the consumer holds (handed back at its next next()) */
  private current = -1;
  private finished = false;
  private error: unknown;
  private waiter: { resolve: (r: IteratorResult<Buffer>) => void; reject: (e: unknown) => void } | undefined;

  constructor(inflater: Inflater, job: JobState) {
    this.inflater = inflater;
    this.job = job;
  }

  /** @internal new data, end or failure */
  wake(): void {
    const w = this.waiter;
    if (w === undefined) return;
    this.waiter = undefined;
    this.settle(w);
  }

  private settle(w: { resolve: (r: IteratorResult<Buffer>) => void; reject: (e: unknown) => void }): void {
    const job = this.job;
    const next = job.queue.shift();
    if (next !== undefined) {
      this.current = next.slot;
      const start = next.slot * SLOT_SIZE;
      w.resolve({ value: this.inflater.ring.subarray(start, start + next.len), done: false });
      return;
    }
    if (job.ended) {
      this.finished = true;
      w.resolve({ value: undefined, done: true });
      return;
    }
    const err = this.inflater.errorOf(this.job);
    if (err !== undefined) {
      this.error ??= err;
      w.reject(this.error);
      return;
    }
    this.waiter = w;
  }

  next(): Promise<IteratorResult<Buffer>> {
    if (this.current >= 0) {
      this.inflater.ack(this.current);
      this.current = -1;
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.settle({ resolve, reject }));
  }

  return(): Promise<IteratorResult<Buffer>> {
    if (!this.finished && !this.job.ended) this.inflater.stop(new UnpackError('ERR_ABORTED', 'layer reading stopped'));
    this.finished = true;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The error that ended this layer, if any (the first one). */
  get failure(): unknown {
    return this.job.failure !== undefined ? this.inflater.errorOf(this.job) : this.error;
  }
}
