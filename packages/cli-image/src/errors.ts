/** Errors of the CLI itself (usage problems found after parsing). */
export class CliError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(code: string, message: string, options: { hint?: string; exitCode?: number } = {}) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 2;
    Object.defineProperty(this, Symbol.for('oci.error'), { value: true });
  }
}

/** Exit codes: 0 ok, 1 failed (invalid input, a coded error), 2 usage, 70 internal error (a bug). */
export const EXIT = { ok: 0, failed: 1, usage: 2, bug: 70 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_')) return EXIT.failed;
  if ((err as { name?: string } | undefined)?.name === 'AbortError') return 130;
  return EXIT.bug;
}
