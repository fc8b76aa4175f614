// The synchronous tar reader behind applyLayer: same result whatever the chunking,
// bounded PAX/GNU records, truncation.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyLayer, UnpackError } from '../src/index.js';
import { makeTar } from './helpers/tar.js';

let base: string;
beforeEach(() => {
  base = fs.mkdtempSync(join(os.tmpdir(), 'oci-unpack-tarreader-test-'));
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < buf.length; off += size) yield new Uint8Array(buf.subarray(off, off + size));
}

/** path -> type, mode, owner, mtime, content or link target */
function tree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = fs.lstatSync(join(dir, r));
    let what = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} n${st.nlink}`;
    if (st.isSymbolicLink()) what += ` -> ${fs.readlinkSync(join(dir, r))}`;
    else if (st.isFile()) what += ` ${fs.readFileSync(join(dir, r)).toString('base64')}`;
    out[r] = what;
    if (st.isDirectory()) Object.assign(out, tree(dir, r));
  }
  return out;
}

async function richTar(): Promise<Buffer> {
  const long = 'd/' + 'x'.repeat(150) + '/' + 'y'.repeat(120);
  return await makeTar([
    { name: 'd/', type: 'directory', mode: 0o750, uid: 3, gid: 4 },
    { name: 'd/empty', content: '' },
    { name: 'd/odd', content: Buffer.alloc(511, 1) },
    { name: 'd/even', content: Buffer.alloc(1024, 2) },
    { name: 'd/big', content: Buffer.alloc(70_001, 3), mode: 0o4755 },
    { name: long.slice(0, long.lastIndexOf('/') + 1), type: 'directory' },
    { name: long, content: 'long name through a PAX record' },
    { name: 'd/link', type: 'symlink', linkname: 'z'.repeat(300) },
    { name: 'd/hard', type: 'link', linkname: 'd/big' },
    { name: 'd/px', content: 'pax', pax: { uid: '123456789', gid: '7', mtime: '1234567890.25', 'SCHILY.xattr.user.k': 'v' } },
    { name: 'd/.wh..wh..opq', content: '' },
  ]);
}

describe('applyLayer: synchronous tar reader', () => {
  it('gives the same tree whatever the chunk boundaries (1 byte to 1 MiB)', async () => {
    const tar = await richTar();
    const want = join(base, 'want');
    fs.mkdirSync(want);
    const r0 = await applyLayer(want, chunked(tar, 1 << 20), { rootless: false });
    const expected = tree(want);
    expect(Object.keys(expected).length).toBeGreaterThan(8);
    for (const size of [1, 7, 511, 512, 513, 4096]) {
      const dir = join(base, `c${size}`);
      fs.mkdirSync(dir);
      const r = await applyLayer(dir, chunked(tar, size), { rootless: false });
      expect(r.entries, `chunks of ${size}`).toBe(r0.entries);
      expect(r.bytes, `chunks of ${size}`).toBe(r0.bytes);
      expect(tree(dir), `chunks of ${size}`).toEqual(expected);
    }
    expect(execFileSync('getfattr', ['--only-values', '-n', 'user.k', join(want, 'd/px')]).toString()).toBe('v');
  });

  it('reads what GNU tar writes (GNU long names and links), in odd chunks', async () => {
    const src = join(base, 'src');
    fs.mkdirSync(join(src, 'a'.repeat(120)), { recursive: true });
    fs.writeFileSync(join(src, 'a'.repeat(120), 'b'.repeat(120)), 'deep');
    fs.symlinkSync('t'.repeat(200), join(src, 'sym'));
    const tar = execFileSync('tar', ['--format=gnu', '-C', src, '-cf', '-', '.']);
    const dir = join(base, 'out');
    fs.mkdirSync(dir);
    await applyLayer(dir, chunked(tar, 333), { rootless: false });
    expect(fs.readFileSync(join(dir, 'a'.repeat(120), 'b'.repeat(120)), 'utf8')).toBe('deep');
    expect(fs.readlinkSync(join(dir, 'sym'))).toBe('t'.repeat(200));
  });

  it('refuses a PAX record larger than 1 MiB (ERR_BAD_LAYER) without buffering the archive', async () => {
    const tar = await makeTar([{ name: 'f', content: 'x', pax: { comment: 'c'.repeat((1 << 20) + 10) } }]);
    const dir = join(base, 'out');
    fs.mkdirSync(dir);
    const err = await applyLayer(dir, chunked(tar, 65536), { rootless: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(UnpackError.is(err, 'ERR_BAD_LAYER'), String(err)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses an archive cut inside a header or inside data (ERR_BAD_LAYER)', async () => {
    const tar = await makeTar([{ name: 'f', content: Buffer.alloc(3000, 1) }, { name: 'g', content: 'g' }]);
    for (const cut of [100, 512 + 1000, 512 + 3072 + 200]) {
      const dir = join(base, `cut${cut}`);
      fs.mkdirSync(dir);
      const err = await applyLayer(dir, chunked(tar.subarray(0, cut), 256), { rootless: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(UnpackError.is(err, 'ERR_BAD_LAYER'), `cut at ${cut}: ${String(err)}`).toBe(true);
    }
  });

  it('gives files their exact mode whether open(2) can (0644, 0755, 0444) or the umask is in the way (0666, 0777, 04755)', async () => {
    const modes = [0o644, 0o755, 0o444, 0o666, 0o777, 0o4755, 0o2775, 0o1777];
    const tar = await makeTar(modes.map((mode) => ({ name: `m${mode.toString(8)}`, content: 'x', mode })));
    const dir = join(base, 'out');
    fs.mkdirSync(dir);
    const old = process.umask(0o077);
    try {
      await applyLayer(dir, chunked(tar, 4096), { rootless: false });
    } finally {
      process.umask(old);
    }
    for (const mode of modes) expect(fs.statSync(join(dir, `m${mode.toString(8)}`)).mode & 0o7777, mode.toString(8)).toBe(mode);
  });

  it('refuses a header with a bad checksum (ERR_BAD_LAYER)', async () => {
    const tar = Buffer.from(await makeTar([{ name: 'f', content: 'f' }]));
    tar[0] = 0x41; // the name changes, the checksum does not
    const dir = join(base, 'out');
    fs.mkdirSync(dir);
    const err = await applyLayer(dir, chunked(tar, 4096), { rootless: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(UnpackError.is(err, 'ERR_BAD_LAYER'), String(err)).toBe(true);
  });
});

describe('applyLayer: paths too long for the file system', () => {
  it('a name under PATH_MAX that is too long below the rootfs path is ERR_BAD_LAYER, not a raw ENAMETOOLONG', async () => {
    const tar = await makeTar([{ name: Array.from({ length: 20 }, () => 'd'.repeat(200)).join('/'), content: 'x' }]);
    const dir = join(base, 'z'.repeat(150));
    fs.mkdirSync(dir);
    const err = await applyLayer(dir, chunked(tar, 4096), { rootless: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(UnpackError.is(err, 'ERR_BAD_LAYER'), String(err).slice(0, 200)).toBe(true);
  });
});
