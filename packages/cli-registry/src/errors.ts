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

/** Exit statuses of oci-registry, as the other oci CLIs use them. */
export const EXIT = { ok: 0, error: 1, usage: 2, internal: 70, interrupted: 130 } as const;

/**
 * The exit status for an error that reached the top: 130 when interrupted (SIGINT/SIGTERM abort the copy with
 * ERR_INTERRUPTED; an AbortError too), 2 for usage errors, 1 for every other error with a code, 70 (EX_SOFTWARE)
 * for anything else (a bug: an internal error).
 */
export function exitCodeFor(err: unknown): number {
  const e = err as { code?: unknown; message?: unknown; name?: unknown } | null | undefined;
  if (e?.code === 'ERR_INTERRUPTED' || e?.name === 'AbortError') return EXIT.interrupted;
  if (typeof e?.code === 'string' && e.code.startsWith('ERR_') && typeof e.message === 'string') {
    return USAGE_CODES.has(e.code) ? EXIT.usage : EXIT.error;
  }
  return EXIT.internal;
}
