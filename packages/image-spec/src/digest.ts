import { createHash, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ImageSpecError } from './errors.js';

/** Digest algorithms registered by the image-spec and supported here. */
export type DigestAlgorithm = 'sha256' | 'sha512';

/** A parsed digest: `algorithm:encoded`. */
export interface ParsedDigest {
  algorithm: string;
  encoded: string;
}

/** Registered algorithms and the grammar of their encoded part (descriptor.md). */
const REGISTERED: ReadonlyMap<string, RegExp> = new Map([
  ['sha256', /^[a-f0-9]{64}$/],
  ['sha512', /^[a-f0-9]{128}$/],
]);

/** Supported algorithms, in preference order. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = Object.freeze(['sha256', 'sha512'] as const);

// algorithm ::= algorithm-component (algorithm-separator algorithm-component)*
// algorithm-component ::= [a-z0-9]+ ; algorithm-separator ::= [+._-] ; encoded ::= [a-zA-Z0-9=_-]+
const ALGORITHM_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
const ENCODED_RE = /^[a-zA-Z0-9=_-]+$/;
/** Longer strings are refused outright (no real digest comes close). */
const MAX_DIGEST_LENGTH = 1024;

function describe(s: unknown): string {
  if (typeof s !== 'string') return typeof s;
  const shown = s.length > 80 ? `${s.slice(0, 80)}…` : s;
  return JSON.stringify(shown);
}

function invalid(s: unknown, why: string): ImageSpecError {
  return new ImageSpecError('ERR_INVALID_DIGEST', `Invalid digest ${describe(s)}: ${why}`, {
    hint: 'A digest looks like sha256:<64 lowercase hex> or sha512:<128 lowercase hex>.',
    actual: typeof s === 'string' ? s.slice(0, MAX_DIGEST_LENGTH) : undefined,
  });
}

function check(s: unknown): ParsedDigest | ImageSpecError {
  if (typeof s !== 'string') return invalid(s, 'not a string');
  if (s.length > MAX_DIGEST_LENGTH) return invalid(s, `longer than ${MAX_DIGEST_LENGTH} characters`);
  const colon = s.indexOf(':');
  if (colon === -1) return invalid(s, "missing ':' between algorithm and encoded part");
  const algorithm = s.slice(0, colon);
  const encoded = s.slice(colon + 1);
  if (!ALGORITHM_RE.test(algorithm)) return invalid(s, `algorithm ${describe(algorithm)} does not match [a-z0-9]+([+._-][a-z0-9]+)*`);
  if (!ENCODED_RE.test(encoded)) return invalid(s, 'encoded part does not match [a-zA-Z0-9=_-]+');
  const re = REGISTERED.get(algorithm);
  if (re !== undefined && !re.test(encoded)) {
    const len = algorithm === 'sha256' ? 64 : 128;
    return invalid(s, `${algorithm} needs exactly ${len} lowercase hex characters, got ${encoded.length} characters`);
  }
  return { algorithm, encoded };
}

/**
 * Parses a digest per the image-spec grammar. Registered algorithms (sha256, sha512) must have
 * the right encoded form; unknown but well-formed algorithms parse (they cannot be verified).
 * @throws ImageSpecError ERR_INVALID_DIGEST
 */
export function parseDigest(s: string): ParsedDigest {
  const r = check(s);
  if (r instanceof ImageSpecError) throw r;
  return r;
}

/** True if `s` is a well-formed digest (see parseDigest). */
export function isValidDigest(s: unknown): s is string {
  return !(check(s) instanceof ImageSpecError);
}

/** True if `algorithm` can be computed and verified by this package. */
export function isSupportedAlgorithm(algorithm: string): algorithm is DigestAlgorithm {
  return REGISTERED.has(algorithm);
}

function requireSupported(algorithm: string, digest?: string): asserts algorithm is DigestAlgorithm {
  if (!isSupportedAlgorithm(algorithm)) {
    throw new ImageSpecError(
      'ERR_UNSUPPORTED_DIGEST',
      `Digest algorithm ${describe(algorithm)} is not supported${digest === undefined ? '' : ` (digest ${describe(digest)})`}`,
      { hint: `Use one of: ${DIGEST_ALGORITHMS.join(', ')}.`, actual: algorithm.slice(0, 64), digest },
    );
  }
}

/** Parses a digest and checks that its algorithm is supported (sha256 or sha512). */
export function parseSupportedDigest(s: string): ParsedDigest & { algorithm: DigestAlgorithm } {
  const d = parseDigest(s);
  requireSupported(d.algorithm, s);
  return d as ParsedDigest & { algorithm: DigestAlgorithm };
}

/** An incremental hasher. */
export interface Hasher {
  readonly algorithm: DigestAlgorithm;
  /** Bytes hashed so far. */
  readonly size: number;
  update(chunk: Uint8Array | string): Hasher;
  /** The digest (`algorithm:hex`) of everything passed to update. Can be called once. */
  digest(): string;
}

class NodeHasher implements Hasher {
  readonly algorithm: DigestAlgorithm;
  #hash: Hash;
  #size = 0;
  constructor(algorithm: DigestAlgorithm) {
    this.algorithm = algorithm;
    this.#hash = createHash(algorithm);
  }
  get size(): number {
    return this.#size;
  }
  update(chunk: Uint8Array | string): Hasher {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.#size += buf.byteLength;
    this.#hash.update(buf);
    return this;
  }
  digest(): string {
    return `${this.algorithm}:${this.#hash.digest('hex')}`;
  }
}

/**
 * A streaming hasher on node:crypto.
 * @throws ImageSpecError ERR_UNSUPPORTED_DIGEST for anything but sha256 / sha512
 */
export function createHasher(algorithm: string = 'sha256'): Hasher {
  requireSupported(algorithm);
  return new NodeHasher(algorithm);
}

/** The digest of bytes (a string is hashed as UTF-8). */
export function digestOf(data: Uint8Array | string, algorithm: string = 'sha256'): string {
  return createHasher(algorithm).update(data).digest();
}

function sameDigest(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function digestMismatch(expected: string, actual: string): ImageSpecError {
  return new ImageSpecError('ERR_DIGEST_MISMATCH', `Content digest mismatch: expected ${expected}, got ${actual}`, {
    hint: 'The content is corrupt or was tampered with; fetch it again from a trusted source.',
    expected,
    actual,
    digest: expected,
  });
}

function sizeMismatch(expected: number, actual: number, digest: string, more: boolean): ImageSpecError {
  return new ImageSpecError(
    'ERR_SIZE_MISMATCH',
    more
      ? `Content of ${digest} is larger than the expected ${expected} bytes (read ${actual} so far)`
      : `Content of ${digest} has ${actual} bytes, expected ${expected}`,
    { hint: 'The descriptor size does not match the content; fetch it again or fix the descriptor.', expected, actual, digest },
  );
}

function checkSize(size: number | undefined): void {
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw new ImageSpecError('ERR_SIZE_MISMATCH', `Invalid expected size ${String(size)}: must be a non-negative safe integer`, {
      hint: 'Pass the size from the descriptor.',
      expected: String(size),
    });
  }
}

/**
 * Checks bytes against a digest (and size).
 * @throws ImageSpecError ERR_INVALID_DIGEST, ERR_UNSUPPORTED_DIGEST, ERR_SIZE_MISMATCH, ERR_DIGEST_MISMATCH
 */
export function verifyBytes(data: Uint8Array | string, digest: string, size?: number): void {
  const { algorithm } = parseSupportedDigest(digest);
  checkSize(size);
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (size !== undefined && buf.byteLength !== size) throw sizeMismatch(size, buf.byteLength, digest, false);
  const actual = digestOf(buf, algorithm);
  if (!sameDigest(actual, digest)) throw digestMismatch(digest, actual);
}

export interface VerifyingStreamOptions {
  /** The expected digest. */
  digest: string;
  /** The expected size in bytes; the stream errors as soon as more bytes arrive. */
  size?: number | undefined;
  /** Aborting destroys the stream with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /** Called with the number of bytes seen so far, after each chunk. */
  onProgress?: ((bytes: number) => void) | undefined;
}

/** A Transform that passes bytes through and verifies them; see verifyingStream. */
export interface VerifyingStream extends Transform {
  /** Bytes seen so far. */
  readonly bytesSeen: number;
  /** The digest computed, once the stream has ended (undefined before). */
  readonly actualDigest: string | undefined;
}

/**
 * A Transform that passes bytes through unchanged while hashing them. It errors with
 * ERR_SIZE_MISMATCH as soon as more than `size` bytes pass, and at the end with ERR_SIZE_MISMATCH
 * (too few bytes) or ERR_DIGEST_MISMATCH. Errors carry `expected` and `actual`.
 * The last chunk is only released after verification succeeded, so a consumer that sees 'end'
 * has seen verified content.
 * @throws ImageSpecError ERR_INVALID_DIGEST / ERR_UNSUPPORTED_DIGEST synchronously for a bad digest
 */
export function verifyingStream(options: VerifyingStreamOptions): VerifyingStream {
  const { digest, size, signal, onProgress } = options;
  const { algorithm } = parseSupportedDigest(digest);
  checkSize(size);
  const hasher = createHasher(algorithm);
  let seen = 0;
  let actual: string | undefined;
  let held: Buffer | undefined;
  const stream = new Transform({
    transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      seen += buf.byteLength;
      if (size !== undefined && seen > size) {
        cb(sizeMismatch(size, seen, digest, true));
        return;
      }
      hasher.update(buf);
      onProgress?.(seen);
      // Hold back the latest chunk until the next one (or the end) so the final bytes are only
      // released once the digest has been checked.
      const prev = held;
      held = buf;
      cb(null, prev);
    },
    flush(cb: TransformCallback) {
      if (size !== undefined && seen !== size) {
        cb(sizeMismatch(size, seen, digest, false));
        return;
      }
      actual = hasher.digest();
      if (!sameDigest(actual, digest)) {
        cb(digestMismatch(digest, actual));
        return;
      }
      const last = held;
      held = undefined;
      cb(null, last);
    },
  });
  Object.defineProperty(stream, 'bytesSeen', { get: () => seen, enumerable: true });
  Object.defineProperty(stream, 'actualDigest', { get: () => actual, enumerable: true });
  if (signal !== undefined) {
    if (signal.aborted) {
      stream.destroy(signal.reason as Error);
    } else {
      const onAbort = (): void => {
        stream.destroy(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }
  return stream as VerifyingStream;
}
