/** Errors of the `oci` command itself. Library errors keep their own codes and classes. */
export class OciCliError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(code: string, message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OciCliError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 125;
    Object.defineProperty(this, Symbol.for('oci.error'), { value: true });
  }
}

/**
 * Exit codes follow `docker run` / `podman run`: the container's own status when it ran,
 * 125 when the pipeline failed before the container started (pull, unpack, create), 2 for usage.
 */
export const EXIT = { ok: 0, usage: 2, pipeline: 125, bug: 70 } as const;

export function exitCodeFor(err: unknown): number {
  if ((err as { name?: string } | undefined)?.name === 'AbortError') return 130;
  if (err instanceof OciCliError) return err.exitCode;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_')) return EXIT.pipeline;
  return EXIT.bug;
}
