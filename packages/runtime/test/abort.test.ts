// AbortSignal on create, run and exec (the library API): fail fast, kill what was started, leave nothing behind.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { create, exec, remove, run, state } from '../src/container.js';
import { ROOT, bundle, cleanupAll, uid } from './helpers.js';

afterAll(() => cleanupAll());

const quiet = { root: ROOT, stdio: ['ignore', 'ignore', 'ignore'] as ['ignore', 'ignore', 'ignore'] };
const sleeper = (c: Record<string, any>) => {
  c['process'].args = ['sleep', '1000'];
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const gone = (id: string) => !existsSync(join(ROOT, id)) && !existsSync(`/sys/fs/cgroup/pids/oci-runtime/${id}`);

describe('AbortSignal', () => {
  it('an aborted signal fails fast: nothing is created', async () => {
    const b = await bundle(sleeper);
    const id = uid('ab0');
    const reason = new Error('stop');
    await expect(run(id, { ...quiet, bundle: b, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(create(id, { ...quiet, bundle: b, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(gone(id)).toBe(true);
  });

  it('create aborted while the helper sets the container up: helper and init killed, state and cgroups removed', async () => {
    const b = await bundle(sleeper);
    const id = uid('ab1');
    const ac = new AbortController();
    // fires on the first turn of the event loop, i.e. while create waits for the helper's first message
    setTimeout(() => ac.abort(new Error('cancelled')), 0);
    await expect(create(id, { ...quiet, bundle: b, signal: ac.signal })).rejects.toThrow('cancelled');
    expect(gone(id)).toBe(true);
  });

  it('run in the foreground aborted: the container is killed and cleaned up, the promise rejects with the reason', async () => {
    const b = await bundle(sleeper);
    const id = uid('ab2');
    const ac = new AbortController();
    let pid = 0;
    const p = run(id, { ...quiet, bundle: b, signal: ac.signal, onStart: (x) => { pid = x; } });
    for (let i = 0; i < 200 && !pid; i++) await new Promise((r) => setTimeout(r, 25));
    expect(pid).toBeGreaterThan(0);
    expect(state(id, { root: ROOT }).status).toBe('running');
    ac.abort(new Error('enough'));
    await expect(p).rejects.toThrow('enough');
    expect(alive(pid)).toBe(false);
    expect(gone(id)).toBe(true);
  });

  it('exec in the foreground aborted: the exec\'d process is killed, the container keeps running', async () => {
    const b = await bundle(sleeper);
    const id = uid('ab3');
    expect((await run(id, { ...quiet, bundle: b, detach: true }))).toBe(0);
    try {
      const ac = new AbortController();
      let pid = 0;
      const p = exec(id, { root: ROOT, args: ['sleep', '999'], stdio: ['ignore', 'ignore', 'ignore'], signal: ac.signal, onStart: (x) => { pid = x; } });
      for (let i = 0; i < 200 && !pid; i++) await new Promise((r) => setTimeout(r, 25));
      expect(pid).toBeGreaterThan(0);
      ac.abort(new Error('exec cancelled'));
      await expect(p).rejects.toThrow('exec cancelled');
      expect(alive(pid)).toBe(false);
      expect(state(id, { root: ROOT }).status).toBe('running');
      await expect(exec(id, { root: ROOT, args: ['true'], signal: AbortSignal.abort(new Error('early')) })).rejects.toThrow('early');
    } finally {
      await remove(id, { root: ROOT, force: true });
    }
  });
});
