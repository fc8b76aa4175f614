const brand = Symbol.for('oci.error');

/** The one error class of @oci/testkit: test infrastructure that could not be set up. */
export class TestkitError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly [brand] = true;

  constructor(code: string, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TestkitError';
    this.code = code;
    this.hint = options?.hint;
  }

  static is(err: unknown, code?: string): err is TestkitError {
    return (
      typeof err === 'object' &&
      err !== null &&
      (err as Record<symbol, unknown>)[brand] === true &&
      err instanceof Error &&
      err.name === 'TestkitError' &&
      (code === undefined || (err as TestkitError).code === code)
    );
  }
}
