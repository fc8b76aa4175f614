import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export interface RunOptions {
  /** Written to the child's stdin, which is then closed. Without it stdin is empty. */
  input?: string | Uint8Array;
  /** Extra environment, merged over process.env (set a key to undefined to remove it). */
  env?: Record<string, string | undefined>;
  /** Replace the environment instead of merging (default false). */
  replaceEnv?: boolean;
  cwd?: string;
  /** Kill the child (SIGKILL) after this many ms; the result then has timedOut: true. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RunResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout as raw bytes (for binary output). */
  stdoutBuffer: Buffer;
  timedOut: boolean;
}

/**
 * Run a command to completion and collect its output. Never throws on a
 * non-zero exit or a signal: look at `code`. Rejects only when the command
 * cannot be started at all (e.g. ENOENT).
 */
export function run(cmd: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunResult> {
  const { input, cwd, timeoutMs, signal } = options;
  let env: NodeJS.ProcessEnv = options.replaceEnv ? {} : { ...process.env };
  if (options.env) {
    for (const [k, v] of Object.entries(options.env)) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
  }
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const child = spawn(cmd, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {
      // the child may exit without reading its stdin (EPIPE)
    });
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.on('close', (code, sig) => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const stdoutBuffer = Buffer.concat(out);
      resolve({
        code,
        signal: sig,
        stdout: stdoutBuffer.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBuffer,
        timedOut,
      });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** Like run(), but rejects (with stderr in the message) unless the exit code is 0. */
export async function runOk(cmd: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, options);
  if (r.code !== 0) {
    const what = r.timedOut ? 'timed out' : r.code === null ? `was killed by ${r.signal}` : `exited with code ${r.code}`;
    throw new Error(`${cmd} ${args.join(' ')} ${what}\n${r.stderr.trim()}`);
  }
  return r;
}

/** Absolute path of an executable found on PATH, or undefined. */
export async function which(cmd: string): Promise<string | undefined> {
  const candidates = cmd.includes('/') ? [cmd] : (process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).filter(Boolean).map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
