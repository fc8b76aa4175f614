/** Brand shared by every @oci/* error: `err[Symbol.for('oci.error')] === true`. */
export const OCI_ERROR_BRAND: unique symbol = Symbol.for('oci.error') as never;

/** Stable error codes thrown by @oci/image-spec. Match on these, never on messages. */
export type ImageSpecErrorCode =
  | 'ERR_INVALID_DIGEST'
  | 'ERR_UNSUPPORTED_DIGEST'
  | 'ERR_DIGEST_MISMATCH'
  | 'ERR_SIZE_MISMATCH'
  | 'ERR_INVALID_JSON'
  | 'ERR_TOO_LARGE'
  | 'ERR_INVALID_MANIFEST'
  | 'ERR_INVALID_INDEX'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_INVALID_DESCRIPTOR'
  | 'ERR_INVALID_LAYOUT'
  | 'ERR_INVALID_PLATFORM'
  | 'ERR_MEDIA_TYPE_MISMATCH';

/** One problem found by schema validation. `path` is a JSON pointer ('' is the document root). */
export interface ValidationIssue {
  path: string;
  message: string;
}

export interface ImageSpecErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  /** What was expected (a digest, a size, a media type). */
  expected?: string | number | undefined;
  /** What was found instead. */
  actual?: string | number | undefined;
  /** The digest concerned, when there is one. */
  digest?: string | undefined;
  /** Validation problems, for ERR_INVALID_MANIFEST / _INDEX / _CONFIG / _DESCRIPTOR / _LAYOUT. */
  errors?: readonly ValidationIssue[] | undefined;
}

/** The one error class of @oci/image-spec. */
export class ImageSpecError extends Error {
  readonly code: ImageSpecErrorCode;
  readonly hint: string | undefined;
  readonly expected: string | number | undefined;
  readonly actual: string | number | undefined;
  readonly digest: string | undefined;
  readonly errors: readonly ValidationIssue[] | undefined;

  constructor(code: ImageSpecErrorCode, message: string, options: ImageSpecErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ImageSpecError';
    this.code = code;
    this.hint = options.hint;
    this.expected = options.expected;
    this.actual = options.actual;
    this.digest = options.digest;
    this.errors = options.errors;
    Object.defineProperty(this, OCI_ERROR_BRAND, { value: true, enumerable: false });
  }

  /** True if `err` is an ImageSpecError (from any copy of this package), optionally with `code`. */
  static is(err: unknown, code?: ImageSpecErrorCode): err is ImageSpecError {
    return (
      isOciError(err) &&
      (err as { name?: unknown }).name === 'ImageSpecError' &&
      (code === undefined || err.code === code)
    );
  }
}

/** True if `err` carries the `Symbol.for('oci.error')` brand (any @oci/* package), optionally with `code`. */
export function isOciError(err: unknown, code?: string): err is Error & { code: string; hint?: string | undefined } {
  if (typeof err !== 'object' || err === null) return false;
  if ((err as Record<symbol, unknown>)[OCI_ERROR_BRAND] !== true) return false;
  return code === undefined || (err as { code?: unknown }).code === code;
}
