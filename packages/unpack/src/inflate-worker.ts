// Hashing and gzip decompression of one layer on a worker thread, so that the
// main thread only parses tar and writes files: on 2 cores the two halves run
// in parallel instead of taking turns. The worker reads the blob file, hashes
// the compressed bytes (digest, size), gunzips, hashes the uncompressed bytes
// (diff_id) and sends the tar bytes back in transferred chunks, with a credit
// window so that memory stays bounded (~8 MiB in flight) whatever the layer size.
// The last chunk is sent only after both digests were verified.
import { Readable } from 'node:stream';
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
const { path, digest, size, diffId, chunkSize, window } = workerData;
const algo = (d) => d.slice(0, d.indexOf(':'));
const hc = createHash(algo(digest));
const hu = createHash(algo(diffId));
let seen = 0;
let inflight = 0;
let held = null;
let waiting = null;
let failed = false;
const fail = (stage, err) => {
  if (failed) return;
  failed = true;
  parentPort.postMessage({ type: 'error', stage, message: err.message, code: err.code, expected: err.expected, actual: err.actual });
  try { src.destroy(); gunzip.destroy(); } catch {}
};
parentPort.on('message', (m) => {
  if (m.type === 'ack') {
    inflight -= m.n;
    if (waiting && inflight < window) { const w = waiting; waiting = null; w(); }
  }
});
const src = fs.createReadStream(path, { highWaterMark: 256 << 10 });
const gunzip = zlib.createGunzip({ chunkSize });
src.on('data', (c) => {
  seen += c.length;
  if (seen > size) { fail('compressed', Object.assign(new Error('blob is larger than its descriptor size ' + size), { code: 'ERR_SIZE_MISMATCH', expected: String(size), actual: String(seen) })); return; }
  hc.update(c);
  if (gzError) return; // keep hashing: a corrupt blob is reported as such, not as bad gzip
  if (!gunzip.write(c)) { src.pause(); gunzip.once('drain', () => src.resume()); }
});
src.on('error', (e) => fail('source', e));
src.on('end', () => {
  srcDone = true;
  if (seen !== size) { fail('compressed', Object.assign(new Error('blob has ' + seen + ' bytes, its descriptor says ' + size), { code: 'ERR_SIZE_MISMATCH', expected: String(size), actual: String(seen) })); return; }
  const got = algo(digest) + ':' + hc.digest('hex');
  if (got !== digest) { fail('compressed', Object.assign(new Error('blob digest is ' + got), { code: 'ERR_DIGEST_MISMATCH', expected: digest, actual: got })); return; }
  if (gzError) { fail('decompress', gzError); return; }
  gunzip.end();
});
let gzError = null;
let srcDone = false;
const onGzError = (e) => { gzError = gzError || e; if (srcDone) fail('decompress', gzError); else src.resume(); };
gunzip.on('error', onGzError);
const send = (buf) => {
  const ab = buf.buffer.byteLength === buf.length && buf.byteOffset === 0 ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  inflight++;
  parentPort.postMessage({ type: 'data', buf: ab, c: seen }, [ab]);
};
(async () => {
  try {
    for await (const chunk of gunzip) {
      if (failed) return;
      hu.update(chunk);
      if (held) send(held);
      held = chunk;
      if (inflight >= window) await new Promise((r) => { waiting = r; });
    }
    if (failed) return;
    const got = algo(diffId) + ':' + hu.digest('hex');
    if (got !== diffId) { fail('uncompressed', Object.assign(new Error('layer uncompresses to ' + got), { code: 'ERR_DIGEST_MISMATCH', expected: diffId, actual: got })); return; }
    if (held) send(held);
    parentPort.postMessage({ type: 'end' });
  } catch (e) { onGzError(e); }
})();
`;

const WINDOW = 16;
const ACK_BATCH = 8;

export interface WorkerLayerOptions {
  path: string;
  digest: string;
  size: number;
  diffId: string;
  signal?: AbortSignal | undefined;
  onBytes?: (compressedBytesApprox: number) => void;
  /** Map a failure (stage, code, message...) to the error to throw. */
  mapError: (stage: string, err: Error & { code?: string; expected?: string; actual?: string }) => unknown;
}

/** The uncompressed tar of a gzip layer, verified, produced on a worker thread. */
export function workerGunzipStream(opts: WorkerLayerOptions): Readable {
  const window = WINDOW;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 },
    workerData: { path: opts.path, digest: opts.digest, size: opts.size, diffId: opts.diffId, chunkSize: 256 << 10, window },
  });
  let pendingAcks = 0;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    opts.signal?.removeEventListener('abort', onAbort);
    void worker.terminate();
  };
  const out = new Readable({
    highWaterMark: 1 << 20,
    read() {
      // acks in batches (a postMessage costs ~0.1 ms); the worker waits only when
      // WINDOW chunks are unacked, and then pendingAcks >= ACK_BATCH here
      if (pendingAcks >= ACK_BATCH && !done) {
        worker.postMessage({ type: 'ack', n: pendingAcks });
        pendingAcks = 0;
      }
    },
    destroy(err, cb) {
      finish();
      cb(err);
    },
  });
  const onAbort = () => out.destroy(opts.signal?.reason ?? new UnpackError('ERR_ABORTED', 'aborted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  worker.on('message', (m: { type: string; buf?: ArrayBuffer; c?: number; stage?: string; message?: string; code?: string; expected?: string; actual?: string }) => {
    if (out.destroyed) return;
    if (m.type === 'data') {
      pendingAcks++;
      if (m.c !== undefined) opts.onBytes?.(m.c);
      out.push(Buffer.from(m.buf!));
      if (pendingAcks >= ACK_BATCH && out.readableLength < out.readableHighWaterMark) {
        worker.postMessage({ type: 'ack', n: pendingAcks });
        pendingAcks = 0;
      }
    } else if (m.type === 'end') {
      finish();
      out.push(null);
    } else if (m.type === 'error') {
      finish();
      const e = Object.assign(new Error(m.message), { code: m.code, expected: m.expected, actual: m.actual });
      out.destroy(opts.mapError(m.stage ?? 'decompress', e) as Error);
    }
  });
  worker.on('error', (err) => {
    finish();
    out.destroy(opts.mapError('decompress', err) as Error);
  });
  worker.on('exit', () => {
    if (!done) {
      done = true;
      out.destroy(new UnpackError('ERR_BAD_LAYER', 'the decompression worker stopped unexpectedly'));
    }
  });
  return out;
}
