// runc as the oracle: the same bundle run by runc and by us must look the same from inside.
import { afterAll, describe, expect, it } from 'vitest';
import { both, bundle, cleanupAll, normMountinfo } from './helpers.js';

afterAll(() => cleanupAll());

const shc = (script: string) => (c: Record<string, any>) => {
  c['process'].args = ['sh', '-c', script];
};

describe('runc oracle: same bundle, same view from inside', () => {
  it('prints the same output and exit code for a sh -c pipeline', async () => {
    const b = await bundle(shc('echo hello; seq 1 100 | grep 7 | wc -l; printf "%s\\n" a b c | sort -r | head -1; exit 3'));
    const r = await both(b);
    expect(r.ours.stderr).toBe(r.runc.stderr);
    expect(r.ours.stdout).toBe(r.runc.stdout);
    expect(r.ours.stdout).toBe('hello\n19\nc\n');
    expect(r.ours.code).toBe(3);
    expect(r.runc.code).toBe(3);
  });

  it('exits with the same code when pid 1 signals itself (ignored: it has no handler)', async () => {
    const b = await bundle(shc('kill -9 $$; echo survived'));
    const r = await both(b);
    expect(r.ours.code).toBe(r.runc.code);
    expect(r.ours.stdout).toBe(r.runc.stdout);
  });

  it('has the same capability sets, uid/gid, hostname, rlimits and cwd', async () => {
    const b = await bundle(shc('grep ^Cap /proc/self/status; id; hostname; ulimit -a; pwd; umask; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; echo $HOME'));
    const r = await both(b);
    expect(r.ours.code).toBe(0);
    expect(r.ours.stdout).toBe(r.runc.stdout);
    expect(r.ours.stdout).toContain('CapBnd:\t0000000020000420');
  });

  it('sees the same mounts (/proc/self/mountinfo normalised), devices and /dev links', async () => {
    const b = await bundle(shc('cat /proc/self/mountinfo; ls -l /dev | sed "s/  */ /g" | cut -d" " -f1,3-6,9-; ls -ld /dev/pts /dev/shm /dev/mqueue | cut -c1-10'));
    const r = await both(b);
    expect(r.ours.code).toBe(0);
    const split = (s: string) => {
      const lines = s.trim().split('\n');
      const mi = lines.filter((l) => / - /.test(l));
      const rest = lines.filter((l) => !/ - /.test(l));
      return { mi: normMountinfo(mi.join('\n')), rest };
    };
    const o = split(r.ours.stdout);
    const k = split(r.runc.stdout);
    expect(o.mi).toEqual(k.mi);
    expect(o.rest).toEqual(k.rest);
  });

  it('applies user, additional gids, umask, env and cwd like runc', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sh', '-c', 'id; umask; pwd; echo $FOO; grep -E "^(Cap|Groups)" /proc/self/status'];
      c['process'].user = { uid: 1000, gid: 1001, additionalGids: [5, 7], umask: 0o027 };
      c['process'].cwd = '/tmp';
      c['process'].env.push('FOO=bar baz');
    });
    const r = await both(b);
    expect(r.ours.stderr).toBe(r.runc.stderr);
    expect(r.ours.stdout).toBe(r.runc.stdout);
    expect(r.ours.stdout).toContain('uid=1000 gid=1001');
  });

  it('keeps capability sets incl. ambient and inheritable when asked', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sh', '-c', 'grep ^Cap /proc/self/status'];
      c['process'].user = { uid: 1000, gid: 1000 };
      const caps = ['CAP_NET_BIND_SERVICE', 'CAP_KILL', 'CAP_CHOWN'];
      c['process'].capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps };
      c['process'].noNewPrivileges = false;
    });
    const r = await both(b);
    expect(r.ours.stdout).toBe(r.runc.stdout);
    expect(r.ours.stdout).toMatch(/CapAmb:\t0000000000000421/);
  });

  it('sets rlimits, hostname, domainname and sysctls', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -c; hostname; cat /proc/sys/net/ipv4/ip_forward; cat /proc/sys/kernel/msgmax'];
      c['process'].rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1000 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 }];
      c['hostname'] = 'box';
      c['domainname'] = 'example.org';
      c['linux'].sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '9000' };
    });
    const r = await both(b);
    expect(r.ours.stderr).toBe(r.runc.stderr);
    expect(r.ours.stdout).toBe(r.runc.stdout);
    expect(r.ours.stdout).toBe('512\n1000\n0\nbox\n1\n9000\n');
  });

  it('sets the NIS domain name (runc 1.1.5 ignores it, so no oracle here)', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['cat', '/proc/sys/kernel/domainname'];
      c['domainname'] = 'example.org';
    });
    expect((await both(b)).ours.stdout).toBe('example.org\n');
  });

  it('makes the root read-only, masks and read-only-binds paths', async () => {
    const b = await bundle(shc('touch /x 2>&1; echo $?; cat /proc/kcore | wc -c; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/ns_last_pid 2>&1; echo $?; touch /tmp/ok 2>&1 | head -1; grep -c . /proc/timer_list'));
    const r = await both(b);
    expect(r.ours.stdout).toBe(r.runc.stdout);
  });

  it('mounts spec bind mounts (ro, file and directory) and tmpfs options', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sh', '-c', 'cat /data/hello; ls /dir; touch /data/x 2>&1; echo $?; grep -E " /(data|dir|scratch|etc/myhosts) " /proc/self/mountinfo | cut -d" " -f5,6; cat /etc/myhosts'];
      c['mounts'].push({ destination: '/data', type: 'bind', source: '/etc/ssl', options: ['rbind', 'ro'] });
      c['mounts'].push({ destination: '/dir', type: 'none', source: '/usr/share/doc/runc', options: ['bind', 'nosuid', 'nodev'] });
      c['mounts'].push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m', 'mode=700'] });
      c['mounts'].push({ destination: '/etc/myhosts', type: 'bind', source: '/etc/hosts', options: ['bind', 'ro'] });
    });
    const r = await both(b);
    expect(r.ours.stdout).toBe(r.runc.stdout);
  });

  it('applies a seccomp profile (errno, arguments, default action)', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sh', '-c', 'mkdir /tmp/d 2>&1; echo $?; grep Seccomp: /proc/self/status; echo ok'];
      c['linux'].seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
        syscalls: [
          { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
          { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        ],
      };
    });
    const r = await both(b);
    expect(r.ours.stdout).toBe(r.runc.stdout);
    expect(r.ours.stdout).toContain('Permission denied');
  });

  it('creates spec devices with mode, uid and gid', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sh', '-c', 'ls -ln /dev/mynull /dev/fuse2 | cut -d" " -f1,4-9'];
      c['linux'].devices = [
        { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o620, uid: 7, gid: 8 },
        { path: '/dev/fuse2', type: 'c', major: 10, minor: 229, fileMode: 0o600 },
      ];
    });
    const r = await both(b);
    expect(r.ours.stdout).toBe(r.runc.stdout);
  });

  it('runs in a user namespace with uid/gid mappings', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sh', '-c', 'id; cat /proc/self/uid_map /proc/self/gid_map; grep ^CapEff /proc/self/status'];
      c['linux'].namespaces.push({ type: 'user' });
      c['linux'].uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c['linux'].gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c['mounts'] = c['mounts'].filter((m: any) => !m.destination.startsWith('/sys'));
    });
    const r = await both(b);
    expect(r.ours.stderr).toBe(r.runc.stderr);
    expect(r.ours.stdout).toBe(r.runc.stdout);
  });

  it('accepts every ociVersion from 1.0.0 to 1.3.x', async () => {
    for (const v of ['1.0.0', '1.0.2-dev', '1.1.0', '1.2.1', '1.3.0']) {
      const b = await bundle((c) => {
        c['ociVersion'] = v;
        c['process'].args = ['true'];
      });
      const r = await both(b);
      expect(r.ours.code, v + r.ours.stderr).toBe(0);
    }
  });
});
