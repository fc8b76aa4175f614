const BRAND = Symbol.for('oci.error');

/** Stable error codes of @oci/runtime. Match on `code`, never on the message. */
export type RuntimeErrorCode =
  | 'ERR_INVALID_CONFIG'
  | 'ERR_INVALID_ID'
  | 'ERR_CONTAINER_EXISTS'
  | 'ERR_CONTAINER_NOT_FOUND'
  | 'ERR_CONTAINER_NOT_RUNNING'
  | 'ERR_CONTAINER_NOT_CREATED'
  | 'ERR_CONTAINER_NOT_STOPPED'
  | 'ERR_CONTAINER_PAUSED'
  | 'ERR_CONTAINER_NOT_PAUSED'
  | 'ERR_INVALID_SIGNAL'
  | 'ERR_HELPER_MISSING'
  | 'ERR_CREATE_FAILED'
  | 'ERR_EXEC_FAILED'
  | 'ERR_HOOK_FAILED'
  | 'ERR_CGROUP'
  | 'ERR_LSM_UNAVAILABLE'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_ABORTED';

export interface RuntimeErrorOptions {
  hint?: string;
  cause?: unknown;
  id?: string;
  path?: string;
}

/** The one error class of @oci/runtime. */
export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  readonly hint: string | undefined;
  readonly id: string | undefined;
  readonly path: string | undefined;

  constructor(code: RuntimeErrorCode, message: string, options: RuntimeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RuntimeError';
    this.code = code;
    this.hint = options.hint;
    this.id = options.id;
    this.path = options.path;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static is(err: unknown, code?: RuntimeErrorCode): err is RuntimeError {
    return (
      typeof err === 'object' &&
      err !== null &&
      (err as Record<symbol, unknown>)[BRAND] === true &&
      (err as { name?: unknown }).name === 'RuntimeError' &&
      (code === undefined || (err as { code?: unknown }).code === code)
    );
  }
}
