const brand = Symbol.for('oci.error');

export interface UnpackErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  path?: string | undefined;
  digest?: string | undefined;
  expected?: string | undefined;
  actual?: string | undefined;
  mediaType?: string | undefined;
}

/**
 * The one error class of @oci/unpack. Match on `code`, never on the message:
 *
 *   ERR_UNSAFE_PATH, ERR_DIGEST_MISMATCH, ERR_DIFF_ID_MISMATCH, ERR_SIZE_MISMATCH,
 *   ERR_UNSUPPORTED_MEDIA_TYPE, ERR_BLOB_UNKNOWN, ERR_BAD_LAYER, ERR_UNSUPPORTED_ENTRY,
 *   ERR_NOT_A_DIRECTORY, ERR_TARGET_EXISTS, ERR_INVALID_CONFIG, ERR_INVALID_USER,
 *   ERR_ABORTED, ERR_STRICT_WARNING
 */
export class UnpackError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly path: string | undefined;
  readonly digest: string | undefined;
  readonly expected: string | undefined;
  readonly actual: string | undefined;
  readonly mediaType: string | undefined;

  constructor(code: string, message: string, options: UnpackErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UnpackError';
    this.code = code;
    this.hint = options.hint;
    this.path = options.path;
    this.digest = options.digest;
    this.expected = options.expected;
    this.actual = options.actual;
    this.mediaType = options.mediaType;
    Object.defineProperty(this, brand, { value: true });
  }

  /**
   * True for an error of any @oci package (the shared `Symbol.for('oci.error')` brand), optionally with
   * `code`: unpackImage() also rejects with @oci/layout's errors (e.g. ERR_REF_UNKNOWN, ERR_UNSAFE_PATH)
   * and @oci/image-spec's, and they all carry `code` and `hint`.
   */
  static is(err: unknown, code?: string): err is UnpackError {
    if (typeof err !== 'object' || err === null) return false;
    if ((err as Record<symbol, unknown>)[brand] !== true) return false;
    return code === undefined || (err as { code?: unknown }).code === code;
  }
}

/** True for an UnpackError proper (from any copy of this package), not another @oci package's error. @internal */
export function isUnpackError(err: unknown): err is UnpackError {
  return UnpackError.is(err) && (err as { name?: unknown }).name === 'UnpackError';
}

/** A recoverable anomaly met while unpacking; `strict: true` turns it into an UnpackError. */
export interface UnpackWarning {
  code: string;
  message: string;
  path?: string;
}

export function unsafePath(path: string, why: string): UnpackError {
  return new UnpackError('ERR_UNSAFE_PATH', `refusing tar entry "${path}": ${why}`, {
    path,
    hint: 'the layer tries to write outside the rootfs; do not trust this image',
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new UnpackError('ERR_ABORTED', 'aborted');
}
