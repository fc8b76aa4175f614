import { CliError } from './errors.js';

export interface CommonArgs {
  json: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

let controller: AbortController | undefined;
/** An AbortSignal fired by SIGINT/SIGTERM, so that libraries clean up (no half-written rootfs). */
export function abortSignal(): AbortSignal {
  if (controller === undefined) {
    const c = new AbortController();
    controller = c;
    const onSignal = (sig: NodeJS.Signals) => {
      const err = new Error(`interrupted by ${sig}`);
      err.name = 'AbortError';
      c.abort(err);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return controller.signal;
}

export function humanSize(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

let exitCode = 0;
/** Commands report a non-zero status here (e.g. validate found problems); only main exits. */
export function setExitCode(code: number): void {
  exitCode = code;
}
export function getExitCode(): number {
  return exitCode;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * A byte count from the command line: "1048576", "512M", "10G", "1.5GiB", "2t" (binary units,
 * case-insensitive, optional "i"/"iB"/"B"). A usage error (exit 2) otherwise.
 */
export function parseSize(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const n = m === null ? Number.NaN : Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CliError('ERR_USAGE', `${flag}: "${text}" is not a size`, { hint: 'give bytes or a number with K, M, G or T (binary units), e.g. 10G' });
  }
  return n;
}

/** `--max-layer-size SIZE` of `unpack` and `create`. */
export const maxLayerSizeOption = {
  type: 'string',
  describe: 'Refuse a layer that uncompresses to more than SIZE (e.g. 10G; binary units). Default: no limit, like umoci',
} as const;

/** The value of `--max-layer-size` in bytes, or undefined when not given. */
export function maxLayerSizeOf(argv: { maxLayerSize?: string | undefined }): number | undefined {
  return argv.maxLayerSize === undefined ? undefined : parseSize(String(argv.maxLayerSize), '--max-layer-size');
}
