const BRAND = Symbol.for('oci.error');

/** Fields a RegistryError may carry besides its code and message. */
export interface RegistryErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  /** HTTP status of the response that caused the error, if any. */
  status?: number | undefined;
  /** distribution-spec error codes from the response body (e.g. MANIFEST_UNKNOWN). */
  registryCodes?: string[] | undefined;
  /** Seconds the registry asked us to wait (ERR_RATE_LIMITED). */
  retryAfter?: number | undefined;
  digest?: string | undefined;
  expected?: string | number | undefined;
  actual?: string | number | undefined;
  reference?: string | undefined;
  url?: string | undefined;
}

/**
 * The one error class of @oci/registry-client. Match on `code` (stable strings such as
 * ERR_MANIFEST_UNKNOWN, ERR_UNAUTHORIZED), never on the message.
 */
export class RegistryError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly status: number | undefined;
  readonly registryCodes: string[] | undefined;
  readonly retryAfter: number | undefined;
  readonly digest: string | undefined;
  readonly expected: string | number | undefined;
  readonly actual: string | number | undefined;
  readonly reference: string | undefined;
  readonly url: string | undefined;

  constructor(code: string, message: string, options: RegistryErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.hint = options.hint === undefined ? undefined : redact(options.hint);
    this.status = options.status;
    this.registryCodes = options.registryCodes;
    this.retryAfter = options.retryAfter;
    this.digest = options.digest;
    this.expected = options.expected;
    this.actual = options.actual;
    this.reference = options.reference;
    this.url = options.url === undefined ? undefined : redactUrl(options.url);
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** True if `err` is an OCI error (from any package copy) and, if given, has this code. */
  static is(err: unknown, code?: string): err is RegistryError {
    if (typeof err !== 'object' || err === null) return false;
    if ((err as Record<symbol, unknown>)[BRAND] !== true) return false;
    return code === undefined || (err as { code?: unknown }).code === code;
  }
}

/** Removes credentials from URLs (user:pass@) and from Authorization-like header values. */
export function redact(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@')
    .replace(/\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]+/g, '$1 ***')
    .replace(/([?&](?:access_token|token|password|refresh_token)=)[^&\s]+/gi, '$1***');
}

export function redactUrl(url: string): string {
  return redact(url);
}
