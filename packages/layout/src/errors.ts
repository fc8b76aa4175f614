const brand = Symbol.for('oci.error');

/** Stable error codes thrown by @oci/layout. Match on `code`, never on `message`. */
export type LayoutErrorCode =
  | 'ERR_INVALID_LAYOUT'
  | 'ERR_INVALID_INDEX'
  | 'ERR_INVALID_DOCUMENT'
  | 'ERR_BLOB_UNKNOWN'
  | 'ERR_BLOB_TOO_LARGE'
  | 'ERR_REF_UNKNOWN'
  | 'ERR_DIGEST_MISMATCH'
  | 'ERR_SIZE_MISMATCH'
  | 'ERR_INVALID_DIGEST'
  | 'ERR_UNSUPPORTED_DIGEST'
  | 'ERR_INVALID_REF_NAME'
  | 'ERR_INVALID_DESCRIPTOR'
  | 'ERR_PLATFORM_UNKNOWN'
  | 'ERR_LOCKED'
  | 'ERR_UNSAFE_PATH'
  | 'ERR_NO_SPACE'
  | 'ERR_READ_ONLY';

export interface LayoutErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  digest?: string | undefined;
  expected?: string | number | undefined;
  actual?: string | number | undefined;
  path?: string | undefined;
  ref?: string | undefined;
}

/** The one error class of @oci/layout. */
export class LayoutError extends Error {
  readonly code: LayoutErrorCode;
  readonly hint: string | undefined;
  readonly digest: string | undefined;
  readonly expected: string | number | undefined;
  readonly actual: string | number | undefined;
  readonly path: string | undefined;
  readonly ref: string | undefined;

  constructor(code: LayoutErrorCode, message: string, options: LayoutErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LayoutError';
    this.code = code;
    this.hint = options.hint;
    this.digest = options.digest;
    this.expected = options.expected;
    this.actual = options.actual;
    this.path = options.path;
    this.ref = options.ref;
    Object.defineProperty(this, brand, { value: true, enumerable: false });
  }

  /** True for any @oci error (branded with Symbol.for('oci.error')), optionally with the given code. */
  static is(err: unknown, code?: string): err is LayoutError {
    if (typeof err !== 'object' || err === null) return false;
    if ((err as Record<symbol, unknown>)[brand] !== true) return false;
    return code === undefined || (err as { code?: unknown }).code === code;
  }
}
