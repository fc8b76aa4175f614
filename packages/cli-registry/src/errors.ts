const BRAND = Symbol.for('oci.error');

/** Errors of the oci-registry command line itself (usage mistakes). */
export class CliError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.hint = options.hint;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static is(err: unknown, code?: string): err is CliError {
    if (typeof err !== 'object' || err === null || (err as Record<symbol, unknown>)[BRAND] !== true) return false;
    return code === undefined || (err as { code?: unknown }).code === code;
  }
}

/** Codes that mean "the command line was wrong": exit status 2. */
export const USAGE_CODES = new Set(['ERR_USAGE', 'ERR_INVALID_REFERENCE', 'ERR_INVALID_TRANSPORT']);

export function usage(message: string, hint?: string): CliError {
  return new CliError('ERR_USAGE', message, hint === undefined ? {} : { hint });
}
