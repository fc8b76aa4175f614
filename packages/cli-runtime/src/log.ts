// runc's log lines: `time="..." level=LEVEL msg="..."`, or JSON with --log-format json; to the --log file when one
// is given (as runc's logrus output), else to stderr. Errors are also always printed on stderr (cli.ts).
import { appendFileSync } from 'node:fs';

export type Level = 'debug' | 'warning' | 'error';

export function formatLog(global: Record<string, unknown>, level: Level, msg: string): string {
  const time = new Date().toISOString();
  return global['log-format'] === 'json' ? JSON.stringify({ level, msg, time }) : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
}

/** Writes one line to the --log file; false when there is none (or it cannot be written). */
export function toLogFile(global: Record<string, unknown>, line: string): boolean {
  if (typeof global['log'] !== 'string') return false;
  try {
    appendFileSync(global['log'], line + '\n');
    return true;
  } catch {
    return false; // the log is best effort
  }
}

/** A debug or warning line: the --log file, else stderr. */
export function log(global: Record<string, unknown>, level: Level, msg: string): void {
  const line = formatLog(global, level, msg);
  if (!toLogFile(global, line)) process.stderr.write(line + '\n');
}

/** The library's onDebug when --debug is given. */
export function debugLogger(global: Record<string, unknown>): ((m: string) => void) | undefined {
  return global['debug'] === true ? (m) => log(global, 'debug', m) : undefined;
}
