import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGroup, parsePasswd, readFileInRoot, readUserDatabase, resolveUser, RuntimeSpecError } from '../src/index.js';
import { cleanup, tmp } from './helpers/tmp.js';

afterAll(cleanup);

const passwd = [
  'root:x:0:0:root:/root:/bin/bash',
  '# a comment',
  '',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'redis:x:100:101::/var/lib/redis:/usr/sbin/nologin',
  'nohome:x:200:200::',
  'broken:x:notanumber:1::/:/bin/sh',
  'dup:x:300:300::/first:/bin/sh',
  'dup:x:301:301::/second:/bin/sh',
].join('\n');
const group = [
  'root:x:0:',
  'daemon:x:1:',
  'adm:x:4:redis,daemon',
  'redis:x:101:',
  'audio:x:29: redis ',
  'staff:x:50:root',
  'big:x:9999999999:redis',
].join('\n');
const db = { passwd, group };

describe('resolveUser (image-spec conversion, libcontainer semantics)', () => {
  it.each([
    ['', { uid: 0, gid: 0, additionalGids: [50], home: '/root' }],
    ['root', { uid: 0, gid: 0, additionalGids: [50], home: '/root' }],
    ['redis', { uid: 100, gid: 101, additionalGids: [4, 29], home: '/var/lib/redis' }],
    ['100', { uid: 100, gid: 101, additionalGids: [4, 29], home: '/var/lib/redis' }],
    ['redis:adm', { uid: 100, gid: 4, additionalGids: [], home: '/var/lib/redis' }],
    ['redis:0', { uid: 100, gid: 0, additionalGids: [], home: '/var/lib/redis' }],
    ['redis:7777', { uid: 100, gid: 7777, additionalGids: [], home: '/var/lib/redis' }],
    ['1000', { uid: 1000, gid: 0, additionalGids: [] }],
    ['1000:1000', { uid: 1000, gid: 1000, additionalGids: [] }],
    ['1000:adm', { uid: 1000, gid: 4, additionalGids: [] }],
    ['nohome', { uid: 200, gid: 200, additionalGids: [] }],
    ['dup', { uid: 300, gid: 300, additionalGids: [], home: '/first' }],
  ])('%j', (user, want) => {
    expect(resolveUser(user, db)).toEqual(want);
  });

  it('numeric ids need no /etc/passwd; names do', () => {
    expect(resolveUser('1000:1000', {})).toEqual({ uid: 1000, gid: 1000, additionalGids: [] });
    expect(resolveUser('', {})).toEqual({ uid: 0, gid: 0, additionalGids: [] });
    const err = (() => {
      try {
        resolveUser('redis', {});
      } catch (e) {
        return e;
      }
    })();
    expect(RuntimeSpecError.is(err, 'ERR_INVALID_USER')).toBe(true);
    expect((err as RuntimeSpecError).message).toMatch(/no \/etc\/passwd/);
    expect((err as RuntimeSpecError).actual).toBe('redis');
  });

  it.each([
    ['nobody', /no user "nobody"/],
    ['redis:wheel', /no group "wheel"/],
    ['1000:wheel', /no group "wheel"/],
    ['-1', /no user "-1"/],
    ['4294967296', /out of range/],
    ['0:2147483648', /out of range/],
    ['broken', /no user "broken"/],
    ['redis:big', /no group "big"/],
  ])('%j -> ERR_INVALID_USER', (user, message) => {
    expect(() => resolveUser(user, db)).toThrow(message);
    try {
      resolveUser(user, db);
    } catch (err) {
      expect(RuntimeSpecError.is(err, 'ERR_INVALID_USER')).toBe(true);
      expect((err as RuntimeSpecError).hint).toBeTruthy();
    }
  });

  it('parsePasswd / parseGroup skip malformed lines', () => {
    expect(parsePasswd(passwd).map((u) => u.name)).toEqual(['root', 'daemon', 'redis', 'nohome', 'dup', 'dup']);
    expect(parseGroup(group).find((g) => g.name === 'audio')?.members).toEqual(['redis']);
    expect(parseGroup('x:y\n:::\n')).toEqual([]);
  });
});

describe('readFileInRoot: never leaves the rootfs', () => {
  function rootfs(): { root: string; outside: string } {
    const base = tmp();
    const root = join(base, 'rootfs');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'usr/share/base'), { recursive: true });
    const outside = join(base, 'host-passwd');
    writeFileSync(outside, 'root:x:0:0:HOST:/host:/bin/sh\n');
    return { root, outside };
  }

  it('reads a plain file and returns undefined for a missing one', () => {
    const { root } = rootfs();
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
    expect(readFileInRoot(root, '/etc/passwd')?.toString()).toContain('root:x:0:0');
    expect(readFileInRoot(root, '/etc/group')).toBeUndefined();
    expect(readFileInRoot(root, '/nonexistent/dir/file')).toBeUndefined();
    expect(readUserDatabase(root)).toEqual({ passwd: 'root:x:0:0::/root:/bin/sh\n', group: undefined });
  });

  it('resolves an absolute symlink inside the rootfs, not on the host', () => {
    const { root } = rootfs();
    writeFileSync(join(root, 'usr/share/base/passwd'), 'inside:x:5:5::/in:/bin/sh\n');
    symlinkSync('/usr/share/base/passwd', join(root, 'etc/passwd'));
    expect(readFileInRoot(root, '/etc/passwd')?.toString()).toContain('inside');
  });

  it('resolves a relative symlink and a symlinked directory inside the rootfs', () => {
    const { root } = rootfs();
    writeFileSync(join(root, 'usr/share/base/group'), 'g:x:7:\n');
    symlinkSync('../usr/share/base/group', join(root, 'etc/group'));
    expect(readFileInRoot(root, '/etc/group')?.toString()).toBe('g:x:7:\n');
    symlinkSync('usr/share/base', join(root, 'base'));
    expect(readFileInRoot(root, '/base/group')?.toString()).toBe('g:x:7:\n');
  });

  it('refuses a relative symlink climbing out of the rootfs (ERR_UNSAFE_PATH)', () => {
    const { root, outside } = rootfs();
    symlinkSync('../../host-passwd', join(root, 'etc/passwd'));
    expect(() => readFileInRoot(root, '/etc/passwd')).toThrow(/climbs above/);
    try {
      readUserDatabase(root);
    } catch (err) {
      expect(RuntimeSpecError.is(err, 'ERR_UNSAFE_PATH')).toBe(true);
      expect((err as RuntimeSpecError).message).not.toContain('HOST');
    }
    expect(outside).toBeTruthy();
  });

  it('treats an absolute symlink to a host path as a path in the rootfs', () => {
    const { root, outside } = rootfs();
    symlinkSync(outside, join(root, 'etc/passwd'));
    // `outside` does not exist inside the rootfs: nothing is read, certainly not the host file.
    expect(readFileInRoot(root, '/etc/passwd')).toBeUndefined();
  });

  it('refuses symlink loops, non-regular files and oversized files', () => {
    const { root } = rootfs();
    symlinkSync('/etc/b', join(root, 'etc/a'));
    symlinkSync('/etc/a', join(root, 'etc/b'));
    expect(() => readFileInRoot(root, '/etc/a')).toThrow(/too many levels/);
    mkdirSync(join(root, 'etc/passwd'));
    expect(() => readFileInRoot(root, '/etc/passwd')).toThrow(/not a regular file/);
    writeFileSync(join(root, 'etc/group'), 'x'.repeat(100));
    expect(() => readFileInRoot(root, '/etc/group', { maxSize: 10 })).toThrow(expect.objectContaining({ code: 'ERR_TOO_LARGE' }));
  });

  it('a path through a regular file is missing, not an error', () => {
    const { root } = rootfs();
    writeFileSync(join(root, 'etc/passwd'), '');
    expect(readFileInRoot(root, '/etc/passwd/x')).toBeUndefined();
  });
});
