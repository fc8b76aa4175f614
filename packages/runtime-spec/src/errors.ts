const BRAND = Symbol.for('oci.error');

/** Stable error codes thrown by @oci/runtime-spec. Match on `code`, never on the message. */
export type RuntimeSpecErrorCode =
  | 'ERR_INVALID_JSON'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_INVALID_STATE'
  | 'ERR_INVALID_FEATURES'
  | 'ERR_INVALID_IMAGE_CONFIG'
  | 'ERR_INVALID_USER'
  | 'ERR_UNSAFE_PATH'
  | 'ERR_TOO_LARGE';

export interface RuntimeSpecErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  /** JSON-pointer-like paths and messages of the first validation errors. */
  errors?: readonly ValidationIssue[] | undefined;
  /** A filesystem path involved in the failure. */
  path?: string | undefined;
  /** The offending value (e.g. the image's `User` string). */
  actual?: string | undefined;
}

export interface ValidationIssue {
  /** JSON pointer into the document, e.g. `/linux/namespaces/0/type` (`/` is the document itself). */
  path: string;
  message: string;
}

/** The one error class of @oci/runtime-spec. */
export class RuntimeSpecError extends Error {
  readonly code: RuntimeSpecErrorCode;
  readonly hint: string | undefined;
  readonly errors: readonly ValidationIssue[] | undefined;
  readonly path: string | undefined;
  readonly actual: string | undefined;

  constructor(code: RuntimeSpecErrorCode, message: string, options: RuntimeSpecErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RuntimeSpecError';
    this.code = code;
    this.hint = options.hint;
    this.errors = options.errors;
    this.path = options.path;
    this.actual = options.actual;
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }

  /** True for any @oci error (brand check, works across package copies), optionally with the given code. */
  static is(err: unknown, code?: string): err is RuntimeSpecError {
    if (typeof err !== 'object' || err === null) return false;
    if ((err as Record<symbol, unknown>)[BRAND] !== true) return false;
    return code === undefined || (err as { code?: unknown }).code === code;
  }
}
