// runtime-spec's recursive mount options (rro, rnosuid, rnodev, rnoexec, rrw...) applied with mount_setattr(AT_RECURSIVE)
// to a bind mount and the mounts below it, runc 1.1.5 as the oracle; idmapped mounts refused before anything runs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIMES, Runtimes, generatorDefault, makeBundle, removeTemps, tmp } from './conformance-helpers.js';
import type { Config } from './conformance-helpers.js';

let rt: Runtimes;
let host: string;
beforeAll(() => {
  rt = new Runtimes('recursive-mounts');
  // a host directory with a tmpfs mounted inside it: the submount a plain "ro" remount leaves writable
  host = tmp('oci-rmount-');
  mkdirSync(join(host, 'sub'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', join(host, 'sub')], { encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`mount tmpfs: ${m.stderr}`);
  writeFileSync(join(host, 'sub', 'tool'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
  writeFileSync(join(host, 'top'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
});
afterAll(async () => {
  await rt.close();
  spawnSync('umount', ['-l', join(host, 'sub')]);
  removeTemps();
});

/** Runs `script` in a container with HOST bind-mounted at /mnt/h with `options`, under runc and ours. */
async function both(options: string[], script: string): Promise<Record<'runc' | 'ours', { code: number; stdout: string; stderr: string }>> {
  const c: Config = generatorDefault(['sh', '-c', script]);
  c['mounts'].push({ destination: '/mnt/h', source: host, type: 'bind', options });
  const out: Record<string, { code: number; stdout: string; stderr: string }> = {};
  for (const which of RUNTIMES) {
    const b = await makeBundle(c);
    out[which] = await rt.cmd(which, ['run', '--bundle', b.dir, rt.id(which)]);
  }
  return out as Record<'runc' | 'ours', { code: number; stdout: string; stderr: string }>;
}

const probe = 'for f in /mnt/h/w /mnt/h/sub/w; do touch $f 2>/dev/null && echo "$f writable" || echo "$f read-only"; done; ' +
  '/mnt/h/top >/dev/null 2>&1 && echo top-exec || echo top-noexec; /mnt/h/sub/tool >/dev/null 2>&1 && echo sub-exec || echo sub-noexec';

describe('recursive mount options (runc oracle)', () => {
  it.each([
    [['rbind', 'ro']],
    [['rbind', 'rro']],
    [['rbind', 'rnoexec']],
    [['rbind', 'ro', 'rrw']],
    [['rbind', 'rro', 'rnoexec', 'rnosuid', 'rnodev']],
  ])('%j', async (options) => {
    const r = await both(options, probe);
    expect(r.runc.code, r.runc.stderr).toBe(0);
    expect({ code: r.ours.code, stdout: r.ours.stdout }).toEqual({ code: 0, stdout: r.runc.stdout });
  });

  it('rro really covers the submount (the check can fail: plain ro does not)', async () => {
    const ro = await both(['rbind', 'ro'], probe);
    const rro = await both(['rbind', 'rro'], probe);
    expect(ro.ours.stdout).toContain('/mnt/h/sub/w writable');
    expect(rro.ours.stdout).toContain('/mnt/h/sub/w read-only');
  });

  it('tmpcopyup: the image files under a tmpfs mount point are copied into it (modes, owners, symlinks), as runc does', async () => {
    // names, types, modes, owners, sizes, link targets (runc 1.1.5 does not keep mtimes; we do, like cp -a)
    const script = 'find /etc | sort | while read f; do stat -c "%n %A %u %g %s %N" "$f"; done; echo ---; head -2 /etc/passwd; touch /etc/new && echo writable';
    const out: Record<string, { code: number; stdout: string; stderr: string }> = {};
    for (const which of RUNTIMES) {
      const c: Config = generatorDefault(['sh', '-c', script]);
      c['mounts'].push({ destination: '/etc', source: 'tmpfs', type: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755', 'tmpcopyup'] });
      const b = await makeBundle(c, {
        copy: true,
        prep: (rootfs) => {
          mkdirSync(join(rootfs, 'etc', 'deep', 'er'), { recursive: true });
          writeFileSync(join(rootfs, 'etc', 'deep', 'er', 'f'), 'x', { mode: 0o4750 });
          spawnSync('chown', ['1234:5678', join(rootfs, 'etc', 'deep', 'er', 'f')]);
          spawnSync('chmod', ['4750', join(rootfs, 'etc', 'deep', 'er', 'f')]);
          spawnSync('ln', ['-s', '../passwd', join(rootfs, 'etc', 'deep', 'link')]);
        },
      });
      out[which] = await rt.cmd(which, ['run', '--bundle', b.dir, rt.id(which)]);
    }
    expect(out.runc!.code, out.runc!.stderr).toBe(0);
    expect({ code: out.ours!.code, stdout: out.ours!.stdout }).toEqual({ code: 0, stdout: out.runc!.stdout });
    expect(out.ours!.stdout).toContain('root:x:0:0');
    expect(out.ours!.stdout).toContain('/etc/deep/er/f -rwsr-x--- 1234 5678 1');
    expect(out.ours!.stdout).toContain("'/etc/deep/link' -> '../passwd'");
    expect(out.ours!.stdout).toContain('writable');
    // a fifo in the copied tree: runc 1.1.5 fails on it (lchown of a node it did not create), ours copies it
    const c: Config = generatorDefault(['sh', '-c', 'ls -l /etc/fifo']);
    c['mounts'].push({ destination: '/etc', source: 'tmpfs', type: 'tmpfs', options: ['tmpcopyup'] });
    const b = await makeBundle(c, { copy: true, prep: (rootfs) => { spawnSync('mkfifo', [join(rootfs, 'etc', 'fifo')]); } });
    const f = await rt.cmd('ours', ['run', '--bundle', b.dir, rt.id('ours')]);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/^p/);
  });

  it('idmapped mounts: the container user namespace mappings by default (idmap, ridmap), or the mount\'s own', async () => {
    // runc 1.1.5 has no idmapped mounts and crun 1.8.1 refuses this hybrid-cgroup machine: the kernel is the oracle.
    // The mappings are written as given ("containerID hostID size", as runc 1.2 and crun do): an on-disk id equal to a
    // containerID is seen as that hostID's kuid, i.e. as the container id inside the container's user namespace.
    const userns = (c: Config): Config => {
      c['linux']['namespaces'].push({ type: 'user' });
      c['linux']['uidMappings'] = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c['linux']['gidMappings'] = [{ containerID: 0, hostID: 100000, size: 65536 }];
      return c;
    };
    const runOurs = async (c: Config) => {
      const b = await makeBundle(c);
      return await rt.cmd('ours', ['run', '--bundle', b.dir, rt.id('ours')]);
    };
    const script = 'stat -c "%u:%g" /mnt/h/top /mnt/h/sub/tool; touch /mnt/h/made 2>/dev/null && stat -c "made %u:%g" /mnt/h/made || echo "made refused"';
    const cases: [string[], string][] = [
      [['rbind'], '65534:65534\n65534:65534\nmade refused\n'], // control: without idmap host root is unmapped in the container
      [['rbind', 'idmap'], '0:0\n65534:65534\nmade 0:0\n'], // the top only: the tmpfs below keeps its plain view
      [['rbind', 'ridmap'], '0:0\n0:0\nmade 0:0\n'],
    ];
    const onDisk: string[] = [];
    for (const [options, want] of cases) {
      const c = userns(generatorDefault(['sh', '-c', script]));
      c['mounts'].push({ destination: '/mnt/h', source: host, type: 'bind', options });
      const r = await runOurs(c);
      expect({ options, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ options, code: 0, stdout: want, stderr: '' });
      onDisk.push(spawnSync('stat', ['-c', '%u:%g', join(host, 'made')], { encoding: 'utf8' }).stdout.trim() || 'none');
      spawnSync('rm', ['-f', join(host, 'made')]);
    }
    // what the container's root creates through the idmapped mount lands on disk as root (0), not as 100000
    expect(onDisk).toEqual(['none', '0:0', '0:0']);
    // the mount's own mappings, without a user namespace: on-disk 0 is seen as 1000
    const c = generatorDefault(['stat', '-c', '%u:%g', '/mnt/h/top']);
    c['mounts'].push({ destination: '/mnt/h', source: host, type: 'bind', options: ['bind'],
      uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 2000, size: 1 }] });
    const r = await runOurs(c);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: '1000:2000\n' });
  });

  it('idmapped mounts that cannot be made are refused with ERR_INVALID_CONFIG before anything is created', async () => {
    for (const mount of [
      { destination: '/mnt/t', source: 'tmpfs', type: 'tmpfs', options: ['idmap'] }, // not a bind mount
      { destination: '/mnt/h', source: host, type: 'bind', options: ['rbind', 'idmap'] }, // no mappings anywhere
    ]) {
      const c: Config = generatorDefault(['true']);
      c['mounts'].push(mount);
      const b = await makeBundle(c);
      const id = rt.id('ours');
      const r = await rt.cmd('ours', ['run', '--bundle', b.dir, id]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/idmapped mount/);
      expect((await rt.cmd('ours', ['state', id])).code).not.toBe(0);
    }
  });
});
