// Regression tests shaped like the runc CVEs they guard against.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HELPER, bundle, cleanupAll, detached, ours, runc, tmp, uid } from './helpers.js';

afterAll(() => cleanupAll());

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** a private, writable busybox rootfs (for tests that plant things in it) */
function privateRootfs(): string {
  const rootfs = join(tmp('oci-rt-priv-'), 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
  spawnSync('chroot', [rootfs, '/bin/busybox', '--install', '-s', '/bin']);
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  return rootfs;
}

describe('CVE-2019-5736: the container cannot overwrite or reopen the runtime binary', () => {
  it('pid 1 of a created container is the sealed, non-dumpable helper: unreachable from inside', async () => {
    const before = sha(HELPER);
    const b = await bundle((c) => {
      c['process'].args = ['sleep', '1000'];
    });
    const id = uid('cve5736');
    const c = await detached('ours', ['create', '--bundle', b, id]);
    // while created, pid 1 inside is still our helper (waiting for start)
    const ex = await ours(['exec', id, 'sh', '-c', 'readlink /proc/1/exe; echo "readlink=$?"; echo pwn >> /proc/1/exe; echo "write=$?"; cat /proc/1/exe > /dev/null; echo "read=$?"']);
    expect(ex.stdout).toMatch(/readlink=1/);
    expect(ex.stdout).toMatch(/write=1/);
    expect(ex.stdout).toMatch(/read=1/);
    // and from the host it is a sealed memfd, not the file on disk
    const link = spawnSync('readlink', [`/proc/${c.pid}/exe`], { encoding: 'utf8' }).stdout.trim();
    expect(link).toMatch(/^\/memfd:oci-runtime-init/);
    await ours(['delete', '-f', id]);
    await c.done;
    expect(sha(HELPER)).toBe(before);
  });

  it('a container racing to write every /proc/PID/exe during execs never reaches the helper', async () => {
    const before = sha(HELPER);
    const b = await bundle((c) => {
      c['mounts'].push({ destination: '/out', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
      c['process'].args = ['sh', '-c', 'while :; do for p in /proc/[0-9]*; do [ "$p" = /proc/1 ] && continue; ( echo x >> $p/exe ) 2>/dev/null && echo "WROTE $(readlink $p/exe)" >> /out/log; done; done'];
    });
    const id = uid('cve5736race');
    const c = await detached('ours', ['run', '-d', '--bundle', b, id]);
    for (let i = 0; i < 8; i++) await ours(['exec', id, 'true']);
    // the classic shape: an executable whose interpreter is /proc/self/exe
    await ours(['exec', id, 'sh', '-c', 'printf "#!/proc/self/exe\\n" > /out/evil; chmod +x /out/evil']);
    const evil = await ours(['exec', id, '/out/evil']);
    expect(evil.code).not.toBe(0);
    const log = await ours(['exec', id, 'sh', '-c', 'cat /out/log 2>/dev/null; true']);
    expect(log.stdout).not.toMatch(/oci-runtime-init|node/);
    await ours(['delete', '-f', id]);
    await c.done;
    expect(sha(HELPER)).toBe(before);
  });
});

describe('CVE-2024-21626: no runtime fd leaks into the container, no cwd outside it', () => {
  it('the container and exec processes have only stdio open', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sh', '-c', 'ls /proc/self/fd; readlink /proc/1/cwd'];
    });
    const r = await ours(['run', '--bundle', b, uid('fd')]);
    // 0 1 2 and the directory ls itself opened
    expect(r.stdout).toBe('0\n1\n2\n3\n/\n');
    const rr = await runc(['run', '--bundle', b, uid('rfd')]);
    expect(r.stdout).toBe(rr.stdout);
  });

  it('exec has only stdio (plus --preserve-fds) open', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sleep', '1000'];
    });
    const id = uid('fdexec');
    const c = await detached('ours', ['run', '-d', '--bundle', b, id]);
    const r = await ours(['exec', id, 'ls', '/proc/self/fd']);
    expect(r.stdout).toBe('0\n1\n2\n3\n');
    await ours(['delete', '-f', id]);
    await c.done;
  });

  for (const cwd of ['/proc/self/fd/3', '/proc/self/fd/4', '/proc/self/fd/5', '/proc/self/fd/7', '/proc/self/fd/8']) {
    it(`a cwd of ${cwd} cannot reach the host`, async () => {
      const b = await bundle((c) => {
        c['process'].args = ['sh', '-c', 'pwd -P; ls ../../../ | head -3; cat ../../../../etc/hostname 2>/dev/null'];
        c['process'].cwd = cwd;
      });
      const r = await ours(['run', '--bundle', b, uid('cwd')]);
      if (r.code === 0) {
        // whatever it reached, it is inside the container
        expect(r.stdout).not.toContain(readFileSync('/etc/hostname', 'utf8').trim());
        expect(r.stdout.split('\n')[0]).not.toMatch(/^\/sys\/fs\/cgroup|^\/run|^\/work|^\/tmp\/oci-rt/);
      } else {
        expect(r.stderr).toMatch(/cwd/);
      }
    });
  }
});

describe('CVE-2021-30465: mount destinations are resolved inside the rootfs', () => {
  it('symlinks in the rootfs pointing out (relative and absolute) cannot place a mount on the host', async () => {
    const rootfs = privateRootfs();
    const host = tmp('oci-rt-hostvictim-');
    symlinkSync('../../../../../../../../..' + host, join(rootfs, 'rel'));
    symlinkSync(host, join(rootfs, 'abs'));
    symlinkSync('/proc/self/root' + host, join(rootfs, 'magic'));
    const b = await bundle((c) => {
      c['root'] = { path: rootfs, readonly: false };
      c['process'].args = ['sh', '-c', 'grep -E "(rel|abs|magic)" /proc/self/mountinfo | cut -d" " -f5; ls -d /tmp/oci-rt-hostvictim-*/* 2>/dev/null'];
      c['mounts'].push({ destination: '/rel/x', type: 'tmpfs', source: 'tmpfs', options: [] });
      c['mounts'].push({ destination: '/abs/y', type: 'tmpfs', source: 'tmpfs', options: [] });
    });
    const r = await ours(['run', '--bundle', b, uid('30465')]);
    expect(r.code, r.stderr).toBe(0);
    // nothing was created or mounted in the host directory
    expect(readdirSync(host)).toEqual([]);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    expect(mounts).not.toContain(host);
    // they landed inside the rootfs, where the symlinks resolve when / is the rootfs
    expect(existsSync(join(rootfs, host, 'x'))).toBe(true);
    expect(existsSync(join(rootfs, host, 'y'))).toBe(true);
  });

  it('a magic-link destination (/proc/self/root/...) is refused', async () => {
    const rootfs = privateRootfs();
    const host = tmp('oci-rt-hostvictim-');
    mkdirSync(join(rootfs, 'p'), { recursive: true });
    symlinkSync('/proc/self/root' + host, join(rootfs, 'p', 'magic'));
    const b = await bundle((c) => {
      c['root'] = { path: rootfs, readonly: false };
      c['process'].args = ['true'];
      c['mounts'].push({ destination: '/p/magic/z', type: 'tmpfs', source: 'tmpfs', options: [] });
    });
    await ours(['run', '--bundle', b, uid('magic')]);
    expect(readdirSync(host)).toEqual([]);
  });
});

describe('passwd/group escape: a rootfs whose /etc is a symlink out never makes us read the host\'s files', () => {
  // a host user with a HOME and, if the host has one, a supplementary group: the marker that must not leak
  function hostMarker(): { uid: number; gid: number; home: string; groups: number[] } {
    const users = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).filter((f) => f.length >= 6 && Number(f[2]) > 0 && f[5] && f[5] !== '/');
    const groups = readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':')).filter((f) => f.length >= 4);
    const memberOf = (name: string) => groups.filter((g) => g[3]!.split(',').includes(name)).map((g) => Number(g[2]));
    const u = users.find((f) => memberOf(f[0]!).length > 0) ?? users[0]!;
    return { uid: Number(u[2]), gid: Number(u[3]), home: u[5]!, groups: memberOf(u[0]!) };
  }

  const probe = 'echo "HOME=$HOME"; id -G';

  for (const target of ['/etc', '../../../../../../../../etc']) {
    it(`etc -> ${target}: run and exec get HOME=/ and no host groups, as with runc`, async () => {
      const m = hostMarker();
      const rootfs = privateRootfs();
      spawnSync('rm', ['-rf', join(rootfs, 'etc')]);
      symlinkSync(target, join(rootfs, 'etc'));
      const b = await bundle((c) => {
        c['root'].path = rootfs;
        c['process'].user = { uid: m.uid, gid: m.gid };
        c['process'].args = ['sh', '-c', probe];
      });
      const o = await ours(['run', '--bundle', b, uid('pw')]);
      const r = await runc(['run', '--bundle', b, uid('rpw')]);
      expect(r.code).toBe(0);
      expect(o.code).toBe(0);
      expect(o.stdout).toBe(r.stdout);
      expect(o.stdout).toBe(`HOME=/\n${m.gid}\n`);
      expect(o.stdout).not.toContain(m.home);

      // exec into a running container takes the same path
      const sb = await bundle((c) => {
        c['root'].path = rootfs;
        c['process'].args = ['sleep', '1000'];
      });
      const id = uid('pwexec');
      const d = await detached('ours', ['run', '-d', '--bundle', sb, id]);
      try {
        const e = await ours(['exec', '-u', `${m.uid}:${m.gid}`, id, 'sh', '-c', probe]);
        expect(e.code).toBe(0);
        expect(e.stdout).toBe(`HOME=/\n${m.gid}\n`);
      } finally {
        await ours(['delete', '-f', id]);
        await d.done;
      }
    });
  }

  it('etc -> usr/etc (a link that stays inside) is still followed, inside the rootfs', async () => {
    const rootfs = privateRootfs();
    spawnSync('rm', ['-rf', join(rootfs, 'etc')]);
    mkdirSync(join(rootfs, 'usr', 'etc'), { recursive: true });
    symlinkSync('/usr/etc', join(rootfs, 'etc'));
    writeFileSync(join(rootfs, 'usr', 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:4242:4242:app:/home/app:/bin/sh\n');
    writeFileSync(join(rootfs, 'usr', 'etc', 'group'), 'root:x:0:\napp:x:4242:\nextra:x:4343:app\n');
    const b = await bundle((c) => {
      c['root'].path = rootfs;
      c['process'].user = { uid: 4242, gid: 4242 };
      c['process'].args = ['sh', '-c', probe];
    });
    const o = await ours(['run', '--bundle', b, uid('pwin')]);
    const r = await runc(['run', '--bundle', b, uid('rpwin')]);
    expect(o.stdout).toBe(r.stdout);
    expect(o.stdout).toBe('HOME=/home/app\n4242\n');
  });
});
