import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { link, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LayoutError } from './errors.js';
import { openRegular } from './safe.js';
import { ownerAlive, selfOwner, tempName, type Owner } from './fsutil.js';

export interface LockOptions {
  /** Give up with ERR_LOCKED after this many milliseconds of waiting (default 30 000). */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** What a lock file holds (JSON). */
export interface LockInfo extends Owner {
  token: string;
  acquired: string;
}

/** A lock file that cannot be parsed (another tool, a torn write) is presumed live until it is this old. */
const unreadableStaleMs = 10 * 60_000;

const held = new AsyncLocalStorage<ReadonlySet<string>>();
/**
 * How many `held.run` calls are in progress. On Node 20 an AsyncLocalStorage in use keeps an async hook on
 * for every promise and callback of the process (5-10 % of a copy's CPU): it is turned off again when no
 * lock is held, and `run` turns it back on.
 */
let running = 0;
const inProcess = new Map<string, Promise<void>>();

async function readLock(path: string): Promise<{ info: LockInfo | undefined; mtimeMs: number } | undefined> {
  try {
    // Never follow a symlink, block on a fifo or read gigabytes: a hostile layout may ship the lock file.
    const fh = await openRegular(path);
    let text: string;
    let st;
    try {
      st = await fh.stat();
      text = st.size > 64 << 10 ? '' : await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
    let info: LockInfo | undefined;
    try {
      const doc = JSON.parse(text) as LockInfo;
      if (typeof doc.pid === 'number' && typeof doc.host === 'string' && typeof doc.token === 'string') info = doc;
    } catch {
      info = undefined;
    }
    return { info, mtimeMs: st.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Create `path` holding our identity, atomically and only if it does not exist: the content is
 * written to a temp file first and then hard-linked into place (link(2) fails with EEXIST), so a
 * lock file is never seen half-written even if its writer is killed.
 */
async function tryCreate(path: string, tmpDir: string, info: LockInfo): Promise<boolean> {
  const tmp = `${tmpDir}/${await tempName('l-')}`;
  await writeFile(tmp, JSON.stringify(info), { flag: 'wx', mode: 0o644 });
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function isStale(current: { info: LockInfo | undefined; mtimeMs: number }): Promise<boolean> {
  if (current.info === undefined) return Date.now() - current.mtimeMs > unreadableStaleMs;
  return !(await ownerAlive(current.info));
}

/**
 * Remove a stale lock without racing other breakers: take `<path>.break` first (itself broken
 * only when its owner is dead), re-read the lock and remove it only if it is still the same stale one.
 */
async function breakStale(path: string, tmpDir: string, staleToken: string | undefined, self: LockInfo): Promise<void> {
  const breakPath = `${path}.break`;
  const me: LockInfo = { ...self, token: randomBytes(12).toString('hex') };
  if (!(await tryCreate(breakPath, tmpDir, me))) {
    const other = await readLock(breakPath);
    if (other !== undefined && (await isStale(other))) await unlink(breakPath).catch(() => {});
    return; // let the caller retry
  }
  try {
    const again = await readLock(path);
    if (again !== undefined && again.info?.token === staleToken && (await isStale(again))) {
      await unlink(path).catch(() => {});
    }
  } finally {
    await unlink(breakPath).catch(() => {});
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/**
 * Take the inter-process lock at `lockPath` (a file created with link(2), holding pid, host,
 * process start time and a token). Waits while a live process holds it, breaks it when its
 * holder is dead, and gives up with ERR_LOCKED after `timeout`. Returns the release function.
 * The lock's directory and `tmpDir` exist already (Layout#withLock makes them, checked not to be
 * symlinks; making them again here cost two file operations per lock).
 * @internal
 */
export async function acquireFileLock(lockPath: string, tmpDir: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const { signal } = options;
  const timeout = options.timeout ?? 30_000;
  if (signal?.aborted) throw abortReason(signal);
  const info: LockInfo = { ...(await selfOwner()), token: randomBytes(12).toString('hex'), acquired: new Date().toISOString() };
  const deadline = Date.now() + timeout;
  let delay = 2;
  for (;;) {
    if (await tryCreate(lockPath, tmpDir, info)) break;
    const current = await readLock(lockPath);
    if (current === undefined) continue; // released between our attempts
    if (await isStale(current)) {
      await breakStale(lockPath, tmpDir, current.info?.token, info);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = current.info ? `process ${current.info.pid} on ${current.info.host}` : 'an unknown process';
      throw new LayoutError('ERR_LOCKED', `the layout is locked by ${who} (${lockPath})`, {
        hint: `wait for that process to finish; if it is gone for good, remove ${lockPath}`,
        path: lockPath,
      });
    }
    if (signal?.aborted) throw abortReason(signal);
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const current = await readLock(lockPath);
    if (current?.info?.token === info.token) await unlink(lockPath).catch(() => {});
  };
}

/**
 * Run `fn` while holding the lock at `lockPath`. Re-entrant within one async call chain (a
 * withLock inside withLock on the same path runs directly), serialised within this process, and
 * exclusive across processes. @internal
 */
export async function withFileLock<T>(lockPath: string, tmpDir: string, fn: () => Promise<T> | T, options: LockOptions = {}): Promise<T> {
  const current = held.getStore();
  if (current?.has(lockPath)) return await fn();
  // In-process queue first, so processes do not poll the file against themselves.
  const previous = inProcess.get(lockPath) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  const chained = previous.then(() => mine);
  inProcess.set(lockPath, chained);
  try {
    const started = Date.now();
    await waitTurn(previous, lockPath, options);
    const timeout = options.timeout === undefined ? undefined : Math.max(0, options.timeout - (Date.now() - started));
    const release = await acquireFileLock(lockPath, tmpDir, { ...options, timeout });
    try {
      const next = new Set(current ?? []);
      next.add(lockPath);
      running++;
      try {
        return await held.run(next, fn);
      } finally {
        if (--running === 0) held.disable();
      }
    } finally {
      await release();
    }
  } finally {
    done();
    if (inProcess.get(lockPath) === chained) inProcess.delete(lockPath);
  }
}

/** Wait for the in-process predecessor, bounded by the same timeout and signal as the file lock. */
async function waitTurn(previous: Promise<void>, lockPath: string, options: LockOptions): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const timeout = options.timeout ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      previous,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new LayoutError('ERR_LOCKED', `the layout is locked by another operation of this process (${lockPath})`, {
                hint: 'wait for the other operation to finish, or raise the timeout',
                path: lockPath,
              }),
            ),
          timeout,
        );
        if (signal !== undefined) {
          onAbort = () => reject(abortReason(signal));
          signal.addEventListener('abort', onAbort, { once: true });
        }
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}
