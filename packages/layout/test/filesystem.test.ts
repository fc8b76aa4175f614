// A full disk and a read-only layout, on real tmpfs mounts (root only; skipped otherwise).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Layout, LayoutError } from '../src/index.js';
import { buildTinyImage, cleanupTempDirs, tempDir } from './helpers.js';

const mounts: string[] = [];
let canMount = false;

async function tmpfs(size: string): Promise<string> {
  const dir = join(await tempDir('oci-layout-tmpfs-'), 'mnt');
  await mkdir(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) return;
  try {
    await tmpfs('64k');
    canMount = true;
  } catch {
    canMount = false;
  }
});

afterAll(async () => {
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  await cleanupTempDirs();
});

async function err(p: Promise<unknown>): Promise<LayoutError> {
  try {
    await p;
  } catch (e) {
    return e as LayoutError;
  }
  throw new Error('expected a rejection');
}

describe('disk full (ENOSPC on a 1 MiB tmpfs)', () => {
  it('putBlob: ERR_NO_SPACE with a hint, no temp file and no blob left, layout still valid', async ({ skip }) => {
    if (!canMount) skip();
    const l = await Layout.init(join(await tmpfs('1m'), 'l'));
    const big = Readable.from((function* () {
      for (let i = 0; i < 32; i++) yield Buffer.alloc(64 << 10, i);
    })());
    const e = await err(l.putBlob(big));
    expect(e.code).toBe('ERR_NO_SPACE');
    expect(e.hint).toMatch(/free some space/);
    expect(e.message).toMatch(/ENOSPC/);
    expect(await readdir(join(l.dir, '.oci-ts', 'ingest'))).toEqual([]);
    expect(await readdir(join(l.dir, 'blobs', 'sha256'))).toEqual([]);
    expect((await l.verify()).ok).toBe(true);
    // and once there is room, the same put works
    await l.putBlob(Buffer.alloc(100 << 10));
  });
});

describe('read-only layout (a tmpfs remounted ro)', () => {
  it('writes fail with ERR_READ_ONLY and a hint; reads, resolve and verify still work', async ({ skip }) => {
    if (!canMount) skip();
    const mnt = await tmpfs('8m');
    const l = await Layout.init(join(mnt, 'l'));
    const work = await tempDir();
    const img = await buildTinyImage(l, work);
    await l.tag('v1', img.manifest);
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    try {
      const ro = await Layout.open(l.dir);
      for (const op of [() => ro.putBlob(Buffer.from('new')), () => ro.tag('v2', img.manifest), () => ro.untag('v1'), () => ro.gc()]) {
        const e = await err(op());
        expect(e.code).toBe('ERR_READ_ONLY');
        expect(e.hint).toMatch(/read-only/);
      }
      expect((await ro.putBlob(Buffer.from('x'), { digest: img.layer.digest, size: img.layer.size }).catch((e: LayoutError) => e.code)) as unknown).toMatchObject({ existed: true });
      expect((await ro.resolve('v1', { platform: 'linux/amd64' })).descriptor.digest).toBe(img.manifest.digest);
      expect((await ro.verify()).ok).toBe(true);
      expect(await (await Layout.init(l.dir)).hasBlob(img.layer.digest)).toBe(true);
      expect((await err(Layout.init(join(mnt, 'other')))).code).toBe('ERR_READ_ONLY');
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mnt]);
    }
  });
});
