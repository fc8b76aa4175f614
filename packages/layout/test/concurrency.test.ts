import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Layout, LayoutError } from '../src/index.js';
import { cleanupTempDirs, distEntry, fixturesDir, tempDir } from './helpers.js';

const writer = join(fixturesDir, 'writer.mjs');
const holder = join(fixturesDir, 'holder.mjs');
const children = new Set<ChildProcess>();

beforeAll(() => {
  // The children run the built package (plain node cannot load the TypeScript sources).
  if (!existsSync(distEntry)) throw new Error(`build @oci/layout first (pnpm --filter @oci/layout build): ${distEntry} is missing`);
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await cleanupTempDirs();
});

interface Child {
  proc: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, [script, distEntry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => {
      children.delete(proc);
      if (code !== 0 && signal === null) process.stderr.write(err);
      resolve({ code, signal });
    }),
  );
  return { proc, out: () => out, exited };
}

function tagged(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [word, name, digest] = line.split(' ');
    if (word === 'tagged' && name && digest) m.set(name, digest);
  }
  return m;
}

async function waitFor(child: Child, text: string): Promise<void> {
  for (let i = 0; i < 400 && !child.out().includes(text); i++) await new Promise((r) => setTimeout(r, 25));
  expect(child.out()).toContain(text);
}

describe('several processes writing one layout', () => {
  it('four writers putting blobs and tagging at once never lose a tag or corrupt index.json', async () => {
    const dir = join(await tempDir(), 'l');
    await Layout.init(dir);
    const n = 4;
    const iterations = 12;
    const kids = Array.from({ length: n }, (_, i) => start(writer, [dir, String(i), String(iterations)]));
    const results = await Promise.all(kids.map((k) => k.exited));
    expect(results.every((r) => r.code === 0)).toBe(true);
    const layout = await Layout.open(dir);
    const refs = new Map((await layout.listRefs()).map((r) => [r.name, r.descriptor.digest]));
    expect(refs.size).toBe(n * iterations + 1);
    for (const k of kids) for (const [name, digest] of tagged(k.out())) expect(refs.get(name)).toBe(digest);
    const v = await layout.verify();
    expect(v.problems).toEqual([]);
    expect(await readdir(join(dir, '.oci-ts', 'ingest'))).toEqual([]);
  }, 120_000);

  it('several processes creating the same new layout at once all succeed (Layout.init races)', async () => {
    const dir = join(await tempDir(), 'fresh', 'l');
    const kids = [0, 1, 2].map((i) => start(writer, [dir, `i${i}`, '2', '1000']));
    const results = await Promise.all(kids.map((k) => k.exited));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const layout = await Layout.open(dir);
    expect((await layout.listRefs()).length).toBe(3 * 2 + 1);
    expect((await layout.verify()).problems).toEqual([]);
  }, 60_000);

  it('writers killed with SIGKILL at random points leave a valid layout, and the next writer proceeds', async () => {
    const dir = join(await tempDir(), 'l');
    await Layout.init(dir);
    const committed = new Map<string, string>();
    for (let round = 0; round < 4; round++) {
      // Two writers at once (larger blobs, so kills land mid-put as well as mid-tag).
      const kids = [0, 1].map((i) => start(writer, [dir, `${round}x${i}`, '1000', String(2 << 20)]));
      for (const k of kids) await waitFor(k, 'ready');
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
      for (const k of kids) k.proc.kill('SIGKILL');
      for (const k of kids) {
        await k.exited;
        for (const [name, digest] of tagged(k.out())) committed.set(name, digest);
      }
      const layout = await Layout.open(dir);
      const v = await layout.verify({ unreferenced: true });
      expect(v.problems, `round ${round}`).toEqual([]);
      const refs = new Map((await layout.listRefs()).map((r) => [r.name, r.descriptor.digest]));
      for (const [name, digest] of committed) expect(refs.get(name), name).toBe(digest);
    }
    // A fresh writer finishes (any stale lock of a killed writer is broken) ...
    const last = start(writer, [dir, 'final', '3']);
    expect((await last.exited).code).toBe(0);
    // ... and gc removes the dead writers' temp files and their unreferenced blobs.
    const layout = await Layout.open(dir);
    const gc = await layout.gc();
    expect(await readdir(join(dir, '.oci-ts', 'ingest'))).toEqual([]);
    expect(gc.removed.length).toBeGreaterThanOrEqual(0);
    expect((await layout.verify()).problems).toEqual([]);
    expect((await layout.verify()).warnings.filter((w) => w.code === 'WARN_UNREFERENCED')).toEqual([]);
  }, 150_000);

  it('the lock: ERR_LOCKED while a live process holds it; broken once that process is killed', async () => {
    const dir = join(await tempDir(), 'l');
    const layout = await Layout.init(dir);
    const h = start(holder, [dir]);
    await waitFor(h, 'locked');
    const err = await layout.withLock(() => 1, { timeout: 300 }).catch((e: unknown) => e);
    expect(LayoutError.is(err, 'ERR_LOCKED')).toBe(true);
    expect((err as Error).message).toContain(`process ${h.proc.pid}`);
    h.proc.kill('SIGKILL');
    await h.exited;
    expect(await layout.withLock(() => 42, { timeout: 5000 })).toBe(42);
    expect(existsSync(join(dir, '.oci-ts', 'index.lock'))).toBe(false);
  }, 30_000);

  it('withLock is re-entrant and serialises callers in one process', async () => {
    const layout = await Layout.init(join(await tempDir(), 'l'));
    expect(await layout.withLock(() => layout.withLock(() => 'inner'))).toBe('inner');
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        layout.withLock(async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
    // a caller queued behind a long holder in the same process times out with ERR_LOCKED
    let release!: () => void;
    const holding = layout.withLock(() => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 20));
    expect(await layout.withLock(() => 1, { timeout: 100 }).catch((e: unknown) => (e as LayoutError).code)).toBe('ERR_LOCKED');
    release();
    await holding;
    expect(await layout.withLock(() => 2, { timeout: 1000 })).toBe(2);
  });
});
