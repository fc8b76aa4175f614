import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyLayer, UnpackError } from '../src/index.js';
import { makeTar, type TarSpec } from './helpers/tar.js';

let base: string;
let root: string;
beforeEach(() => {
  base = fs.mkdtempSync(join(os.tmpdir(), 'oci-apply-test-'));
  root = join(base, 'rootfs');
  fs.mkdirSync(root);
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

async function layer(entries: TarSpec[], opts: Parameters<typeof applyLayer>[2] = { rootless: false }) {
  return applyLayer(root, Readable.from([await makeTar(entries)]), opts);
}
const ls = (p = '') => fs.readdirSync(join(root, p)).sort();

describe('applyLayer', () => {
  it('writes files, dirs, symlinks, hardlinks with modes, owners, mtimes', async () => {
    const mtime = new Date(1_500_000_000_000);
    const r = await layer([
      { name: 'bin/', type: 'directory', mode: 0o755, mtime },
      { name: 'bin/su', content: 'su', mode: 0o4755, uid: 0, gid: 0 },
      { name: 'bin/sg', content: 'sg', mode: 0o2711, uid: 12, gid: 34 },
      { name: 'tmp/', type: 'directory', mode: 0o1777, mtime },
      { name: 'bin/sh', type: 'symlink', linkname: 'busybox', uid: 5, gid: 6 },
      { name: 'bin/su2', type: 'link', linkname: 'bin/su' },
      { name: 'p', type: 'fifo', mode: 0o600 },
      { name: 'null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660, gid: 6 },
    ]);
    expect(r.entries).toBe(9);
    const su = fs.statSync(join(root, 'bin/su'));
    expect(su.mode & 0o7777).toBe(0o4755);
    expect(su.nlink).toBe(2);
    const sg = fs.statSync(join(root, 'bin/sg'));
    expect([sg.mode & 0o7777, sg.uid, sg.gid]).toEqual([0o2711, 12, 34]);
    expect(fs.statSync(join(root, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(fs.statSync(join(root, 'tmp')).mtimeMs).toBe(mtime.getTime());
    expect(fs.statSync(join(root, 'bin')).mtimeMs).toBe(mtime.getTime());
    const sh = fs.lstatSync(join(root, 'bin/sh'));
    expect([fs.readlinkSync(join(root, 'bin/sh')), sh.uid, sh.gid]).toEqual(['busybox', 5, 6]);
    expect(fs.lstatSync(join(root, 'p')).isFIFO()).toBe(true);
    const nul = fs.lstatSync(join(root, 'null'));
    expect(nul.isCharacterDevice()).toBe(true);
    expect(nul.rdev).toBe(0x103);
    expect(fs.lstatSync(join(root, 'loop0')).isBlockDevice()).toBe(true);
  });

  it('applies whiteouts to lower layers and opaque dirs keep same-layer entries in any order', async () => {
    await layer([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/a', content: 'a' },
      { name: 'etc/b', content: 'b' },
      { name: 'etc/sub/', type: 'directory' },
      { name: 'etc/sub/lower', content: 'l' },
      { name: 'var/', type: 'directory' },
      { name: 'var/x', content: 'x' },
      { name: 'opt/', type: 'directory' },
      { name: 'opt/old', content: 'o' },
    ]);
    await layer([
      { name: 'etc/.wh.a', content: '' },
      { name: 'var/new', content: 'n' }, // before the opaque marker
      { name: 'var/.wh..wh..opq', content: '' },
      { name: 'var/after', content: 'a' },
      { name: 'etc/sub/upper', content: 'u' },
      { name: 'etc/.wh..wh..opq', content: '' }, // sub/ holds a same-layer entry: sub stays, sub/lower goes
      { name: 'etc/c', content: 'c' },
      { name: '.wh.opt', content: '' },
      { name: '.wh.missing', content: '' },
    ]);
    expect(ls('etc')).toEqual(['c', 'sub']);
    expect(ls('etc/sub')).toEqual(['upper']);
    expect(ls('var')).toEqual(['after', 'new']);
    expect(ls()).toEqual(['etc', 'var']);
  });

  it('a whiteout does not hide an entry of its own layer', async () => {
    await layer([{ name: 'f', content: 'same' }, { name: '.wh.f', content: '' }]);
    expect(fs.readFileSync(join(root, 'f'), 'utf8')).toBe('same');
  });

  it('replaces across types: file -> dir, dir -> file, dir -> symlink', async () => {
    await layer([
      { name: 'a', content: 'file' },
      { name: 'b/', type: 'directory' },
      { name: 'b/inner', content: 'x' },
      { name: 'c/', type: 'directory' },
    ]);
    await layer([
      { name: 'a/', type: 'directory' },
      { name: 'a/x', content: 'x' },
      { name: 'b', content: 'now a file' },
      { name: 'c', type: 'symlink', linkname: 'a' },
    ]);
    expect(fs.statSync(join(root, 'a')).isDirectory()).toBe(true);
    expect(fs.readFileSync(join(root, 'b'), 'utf8')).toBe('now a file');
    expect(fs.readlinkSync(join(root, 'c'))).toBe('a');
  });

  it('hardlinks to files of lower layers', async () => {
    await layer([{ name: 'usr/bin/perl', content: 'perl', mode: 0o755 }]);
    await layer([{ name: 'usr/bin/perl5', type: 'link', linkname: '/usr/bin/perl' }]);
    expect(fs.statSync(join(root, 'usr/bin/perl5')).nlink).toBe(2);
  });

  it('reads PAX xattrs (binary values too), uid/gid/mtime records and long link targets', async () => {
    const longTarget = 'x/'.repeat(80) + 'target';
    await layer([
      {
        name: 'f',
        content: 'x',
        pax: { 'SCHILY.xattr.user.test': 'hello', uid: '3000000', gid: '3000001', mtime: '1234567890.5' },
      },
      { name: 'l', type: 'symlink', linkname: longTarget },
    ]);
    expect(execFileSync('getfattr', ['--only-values', '-n', 'user.test', join(root, 'f')]).toString()).toBe('hello');
    const st = fs.statSync(join(root, 'f'));
    expect([st.uid, st.gid, st.mtimeMs]).toEqual([3000000, 3000001, 1234567890500]);
    expect(fs.readlinkSync(join(root, 'l'))).toBe(longTarget);
  });

  it('keeps binary xattr bytes intact (security.capability) and applies them after chown', async () => {
    const src = join(base, 'src');
    fs.mkdirSync(src);
    fs.writeFileSync(join(src, 'ping'), 'ping', { mode: 0o755 });
    // VFS cap v2: CAP_NET_RAW effective+permitted, with bytes >= 0x80
    const cap = '0x0100000200200000000000000000000000000000';
    execFileSync('setfattr', ['-n', 'security.capability', '-v', cap, join(src, 'ping')]);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--format=pax', '-C', src, '-cf', join(base, 'l.tar'), 'ping']);
    await applyLayer(root, fs.createReadStream(join(base, 'l.tar')), { rootless: false });
    const got = execFileSync('getfattr', ['-e', 'hex', '--only-values', '-n', 'security.capability', join(root, 'ping')]);
    expect(execFileSync('getfattr', ['-e', 'hex', '-n', 'security.capability', join(root, 'ping')]).toString()).toContain(cap);
    expect(got.length).toBeGreaterThan(0);
  });

  it('reads GNU long names and long link targets written by GNU tar', async () => {
    const src = join(base, 'src');
    const deep = join(src, 'd'.repeat(60), 'e'.repeat(60));
    fs.mkdirSync(deep, { recursive: true });
    fs.writeFileSync(join(deep, 'f'.repeat(90)), 'long');
    fs.symlinkSync(join('d'.repeat(60), 'e'.repeat(60), 'f'.repeat(90)), join(src, 'lnk'));
    fs.linkSync(join(deep, 'f'.repeat(90)), join(src, 'hard'));
    execFileSync('tar', ['--format=gnu', '-C', src, '-cf', join(base, 'l.tar'), '.']);
    await applyLayer(root, fs.createReadStream(join(base, 'l.tar')), { rootless: false });
    expect(fs.readFileSync(join(root, 'lnk'), 'utf8')).toBe('long');
    expect(fs.statSync(join(root, 'hard')).nlink).toBe(2);
  });

  it('rootless: records owners instead of chown, skips devices with a coded warning', async () => {
    const warnings: string[] = [];
    const r = await layer(
      [
        { name: 'etc/shadow', content: 's', mode: 0o640, uid: 0, gid: 42 },
        { name: 'home/u/', type: 'directory', uid: 1000, gid: 1000, mode: 0o500 },
        { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 },
      ],
      { rootless: true, onWarning: (w) => warnings.push(w.code) },
    );
    expect(r.owners).toEqual([
      { path: '/etc/shadow', uid: 0, gid: 42 },
      { path: '/home/u', uid: 1000, gid: 1000 },
    ]);
    expect(warnings).toEqual(['WARN_DEVICE_SKIPPED']);
    expect(fs.existsSync(join(root, 'dev/null'))).toBe(false);
    expect(fs.statSync(join(root, 'home/u')).mode & 0o777).toBe(0o700);
  });

  it('strict mode turns warnings into errors', async () => {
    const err = await layer([{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 }], {
      rootless: true,
      strict: true,
    }).catch((e: unknown) => e);
    expect(UnpackError.is(err, 'WARN_DEVICE_SKIPPED')).toBe(true);
  });

  it('reports a truncated tar as ERR_BAD_LAYER', async () => {
    const tar = await makeTar([{ name: 'big', content: Buffer.alloc(10000, 1) }]);
    const err = await applyLayer(root, Readable.from([tar.subarray(0, 3000)]), { rootless: false }).catch((e: unknown) => e);
    expect(UnpackError.is(err, 'ERR_BAD_LAYER')).toBe(true);
  });

  it('refuses GNU sparse and other unknown entry types (ERR_UNSUPPORTED_ENTRY)', async () => {
    const tar = await makeTar([{ name: 'sparse', content: 'data' }]);
    tar[156] = 'S'.charCodeAt(0);
    // fix the header checksum (sum of the header bytes with the checksum field as spaces)
    tar.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += tar[i]!;
    tar.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    const err = await applyLayer(root, Readable.from([tar]), { rootless: false }).catch((e: unknown) => e);
    expect(UnpackError.is(err, 'ERR_UNSUPPORTED_ENTRY'), String(err)).toBe(true);
  });

  it('honours an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(layer([{ name: 'a', content: 'a' }], { signal: ac.signal })).rejects.toThrow('stop');
  });
});
