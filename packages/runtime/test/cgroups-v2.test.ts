// cgroups v2 for real: this machine is hybrid (v1 controllers, plus a cgroup2 hierarchy at /sys/fs/cgroup/unified
// that holds the controllers v1 left free, hugetlb here), so OCI_RUNTIME_CGROUP_ROOT points the runtime at that
// hierarchy alone. On a v2-only host the same tests run on /sys/fs/cgroup itself. Plus the v1 -> v2 conversions of
// the resources (runc 1.1's formulas) on a fake cgroup directory.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyResources, cgroupPaths } from '../src/cgroups.js';
import { CLI, bundle, cleanupAll, runc, tmp, uid, type Result } from './helpers.js';

afterAll(() => cleanupAll());

const V2_ROOT = existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup'
  : existsSync('/sys/fs/cgroup/unified/cgroup.controllers') ? '/sys/fs/cgroup/unified' : undefined;
const offered = V2_ROOT ? readFileSync(join(V2_ROOT, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean) : [];
const ROOT = tmp('oci-rt-v2-state-');

function v2(args: string[], input = '', cgroupRoot = V2_ROOT!): Promise<Result> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, '--root', ROOT, ...args], { env: { ...process.env, OCI_RUNTIME_CGROUP_ROOT: cgroupRoot }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    // a created container keeps our pipes open (its stdio): settle at the exit, once what was written has arrived
    c.on('close', (code) => resolve({ code, stdout, stderr }));
    c.on('exit', (code) => setTimeout(() => resolve({ code, stdout, stderr }), 100));
    c.stdin.on('error', () => {});
    c.stdin.end(input);
  });
}

describe.runIf(V2_ROOT)('cgroups v2 (OCI_RUNTIME_CGROUP_ROOT)', () => {
  it.runIf(offered.includes('hugetlb'))('a limit reaches the container: controllers enabled in the parents, the cgroup removed after', async () => {
    const id = uid('v2');
    const b = await bundle((c) => {
      c['linux'].resources = { ...c['linux'].resources, hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }] };
      c['process'].args = ['sh', '-c', 'cat /sys/fs/cgroup/hugetlb.2MB.max; grep "^0::" /proc/self/cgroup'];
    });
    const r = await v2(['run', '--bundle', b, id]);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, stdout: `${4 << 20}\n0::/oci-runtime/${id}\n` });
    expect(readFileSync(join(V2_ROOT!, 'oci-runtime', 'cgroup.subtree_control'), 'utf8')).toContain('hugetlb');
    expect(existsSync(join(V2_ROOT!, 'oci-runtime', id))).toBe(false);
  });

  const missing = ['memory', 'pids', 'cpu'].find((c) => !offered.includes(c));
  it.runIf(missing)(`a limit of a controller the hierarchy lacks (${missing}) is refused, not dropped; nothing is left`, async () => {
    const id = uid('v2x');
    const b = await bundle((c) => {
      c['linux'].resources = { ...c['linux'].resources, memory: { limit: 64 << 20 }, pids: { limit: 10 }, cpu: { quota: 50000, period: 100000 } };
      c['process'].args = ['echo', 'ran'];
    });
    const r = await v2(['run', '--bundle', b, id]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/cannot apply (memory|pids|cpu)\.max: the (memory|pids|cpu) controller is not available/);
    expect(existsSync(join(V2_ROOT!, 'oci-runtime', id))).toBe(false);
    expect(existsSync(join(ROOT, id))).toBe(false);
  });

  it('pause/resume through cgroup.freeze, events --stats, update, delete', async () => {
    const id = uid('v2p');
    const b = await bundle((c) => { c['process'].args = ['sleep', '60']; });
    const dir = join(V2_ROOT!, 'oci-runtime', id);
    expect((await v2(['create', '--bundle', b, id])).code).toBe(0);
    try {
      expect((await v2(['start', id])).code).toBe(0);
      expect((await v2(['pause', id])).code).toBe(0);
      expect(readFileSync(join(dir, 'cgroup.events'), 'utf8')).toContain('frozen 1');
      expect(JSON.parse((await v2(['state', id])).stdout).status).toBe('paused');
      expect((await v2(['resume', id])).code).toBe(0);
      expect(readFileSync(join(dir, 'cgroup.events'), 'utf8')).toContain('frozen 0');
      expect(JSON.parse((await v2(['state', id])).stdout).status).toBe('running');
      const ev = JSON.parse((await v2(['events', '--stats', id])).stdout);
      expect(ev).toMatchObject({ type: 'stats', id });
      expect(ev.data.cpu.usage.total).toBeGreaterThanOrEqual(0);
      if (offered.includes('hugetlb')) {
        const u = await v2(['update', '-r', '-', id], JSON.stringify({ hugepageLimits: [{ pageSize: '2MB', limit: 2 << 20 }] }));
        expect(u.code, u.stderr).toBe(0);
        expect(readFileSync(join(dir, 'hugetlb.2MB.max'), 'utf8').trim()).toBe(String(2 << 20));
      }
    } finally {
      expect((await v2(['delete', '-f', id])).code).toBe(0);
    }
    expect(existsSync(dir)).toBe(false);
  });
});

// a character device outside runc's default allow list that this host lets root open: the device filter decides
const probe = ['/dev/vcs', '/dev/hwrng', '/dev/loop-control'].find((d) => {
  try {
    closeSync(openSync(d, 'r'));
    return true;
  } catch {
    return false;
  }
});

describe.runIf(V2_ROOT && probe)('cgroup v2 device rules (an eBPF filter), runc on v1 as the oracle', () => {
  const st = probe ? statSync(probe) : undefined;
  const [maj, min] = st ? [Math.floor(st.rdev / 256) & 0xfff, (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)] : [0, 0];
  const cases: [string, unknown[], string][] = [
    ['deny all (runc spec)', [{ allow: false, access: 'rwm' }], 'r-denied w-denied'],
    ['allow one device read-only', [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: maj, minor: min, access: 'r' }], 'r-ok w-denied'],
    ['allow all', [{ allow: true, access: 'rwm' }], 'r-ok w-ok'],
    ['no rules at all', [], 'r-denied w-denied'],
  ];
  for (const [name, devices, want] of cases) {
    it(`${name}: ${want}, as runc on v1`, async () => {
      const b = await bundle((c) => {
        for (const k of ['bounding', 'effective', 'permitted']) c['process'].capabilities[k].push('CAP_MKNOD');
        c['linux'].resources = { devices };
        c['process'].args = ['sh', '-c', `mknod /tmp/probe c ${maj} ${min} || exit 9; (exec 3</tmp/probe) 2>/dev/null && echo r-ok || echo r-denied; (exec 4>/tmp/probe) 2>/dev/null && echo w-ok || echo w-denied; rm /tmp/probe; head -c 3 /dev/zero | wc -c`];
        c['mounts'] = [...c['mounts'].filter((m: { destination: string }) => m.destination !== '/tmp'), { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] }];
      });
      const o = await v2(['run', '--bundle', b, uid('dev')]);
      const r = await runc(['run', '--bundle', b, uid('rdev')]);
      expect(r.code).toBe(0);
      expect(o).toMatchObject({ code: 0, stdout: r.stdout });
      expect(o.stdout.replace(/\n/g, ' ').trim()).toBe(`${want} 3`);
    });
  }

  it('a deny inside a wildcard allow holds on v2 (runc refuses it on v1: it cannot express it)', async () => {
    const b = await bundle((c) => {
      for (const k of ['bounding', 'effective', 'permitted']) c['process'].capabilities[k].push('CAP_MKNOD');
      c['linux'].resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: maj, access: 'rw' }, { allow: false, type: 'c', major: maj, minor: min, access: 'w' }] };
      c['process'].args = ['sh', '-c', `mknod /tmp/probe c ${maj} ${min}; (exec 3</tmp/probe) 2>/dev/null && echo r-ok || echo r-denied; (exec 4>/tmp/probe) 2>/dev/null && echo w-ok || echo w-denied; rm /tmp/probe`];
      c['mounts'] = [...c['mounts'].filter((m: { destination: string }) => m.destination !== '/tmp'), { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] }];
    });
    expect(await v2(['run', '--bundle', b, uid('devw')])).toMatchObject({ code: 0, stdout: 'r-ok\nw-denied\n' });
  });
});

describe('systemd-style cgroupsPath (slice:prefix:name), as runc\'s systemd driver names the cgroups', () => {
  const v2layout = { version: 'v2' as const, mounts: { unified: '/sys/fs/cgroup' } };
  it.each([
    ['system.slice:docker:abc', '/sys/fs/cgroup/system.slice/docker-abc.scope'],
    ['machine.slice:libpod:0123', '/sys/fs/cgroup/machine.slice/libpod-0123.scope'],
    ['user-1000.slice:oci:x', '/sys/fs/cgroup/user.slice/user-1000.slice/oci-x.scope'],
    ['a-b-c.slice:p:n', '/sys/fs/cgroup/a.slice/a-b.slice/a-b-c.slice/p-n.scope'],
    ['-.slice:p:n', '/sys/fs/cgroup/p-n.scope'],
    [':p:n', '/sys/fs/cgroup/system.slice/p-n.scope'],
    ['system.slice::n', '/sys/fs/cgroup/system.slice/-n.scope'],
    ['system.slice:p:sub.slice', '/sys/fs/cgroup/system.slice/sub.slice'],
  ])('%s -> %s', (path, want) => {
    expect(cgroupPaths('id', path, v2layout)).toEqual({ unified: want });
  });
  it.each(['a:b', 'nope:p:n', 'a--b.slice:p:n', 'system.slice:p:', 'system.slice:p:a/b', 'x/y.slice:p:n'])('%s is refused', (path) => {
    expect(() => cgroupPaths('id', path, v2layout)).toThrow(/invalid config.json: cgroupsPath/);
  });
});

describe('OCI_RUNTIME_CGROUP_ROOT', () => {
  it('a directory that holds no cgroups is refused, not run without limits', async () => {
    const id = uid('nocg');
    const b = await bundle((c) => { c['process'].args = ['echo', 'ran']; });
    const r = await v2(['run', '--bundle', b, id], '', tmp('oci-not-cgroup-'));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('is not a cgroup file system');
    expect(existsSync(join(ROOT, id))).toBe(false);
  });
});

describe('cgroup v2 files from runtime-spec resources (runc 1.1 conversions)', () => {
  const files = ['memory.max', 'memory.low', 'memory.swap.max', 'cpu.max', 'cpu.weight', 'cpu.idle', 'cpuset.cpus', 'cpuset.mems', 'pids.max', 'io.weight', 'io.max', 'hugetlb.2MB.max', 'memory.oom.group'];
  const fake = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'oci-fake-cg2-'));
    for (const f of files) writeFileSync(join(d, f), '');
    return d;
  };
  const read = (d: string, f: string): string => readFileSync(join(d, f), 'utf8');

  it('writes each limit with its conversion', () => {
    const d = fake();
    try {
      applyResources({ unified: d }, {
        memory: { limit: 256 << 20, reservation: 128 << 20, swap: 384 << 20 },
        cpu: { shares: 1024, quota: 20000, period: 50000, cpus: '0-1', mems: '0', idle: 0 },
        pids: { limit: 0 },
        blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
        hugepageLimits: [{ pageSize: '2MB', limit: 2 << 20 }],
        unified: { 'memory.oom.group': '1' },
      }, { version: 'v2', mounts: { unified: '/' } });
      expect(read(d, 'memory.max')).toBe(String(256 << 20));
      expect(read(d, 'memory.low')).toBe(String(128 << 20));
      expect(read(d, 'memory.swap.max')).toBe(String(128 << 20)); // memory+swap 384 MiB - memory 256 MiB
      expect(read(d, 'cpu.max')).toBe('20000 50000');
      expect(read(d, 'cpu.weight')).toBe('39'); // 1 + (1024 - 2) * 9999 / 262142, floored
      expect(read(d, 'cpuset.cpus')).toBe('0-1');
      expect(read(d, 'pids.max')).toBe('max');
      expect(read(d, 'io.weight')).toBe('default 4950'); // 1 + (500 - 10) * 9999 / 990, floored
      expect(read(d, 'io.max')).toBe('8:0 rbps=1048576');
      expect(read(d, 'hugetlb.2MB.max')).toBe(String(2 << 20));
      expect(read(d, 'memory.oom.group')).toBe('1');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('refuses swap below the memory limit, swap without a limit, and unified keys that are paths', () => {
    const d = fake();
    try {
      const v2layout = { version: 'v2' as const, mounts: { unified: '/' } };
      expect(() => applyResources({ unified: d }, { memory: { limit: 256 << 20, swap: 128 << 20 } }, v2layout)).toThrow(/below the memory limit/);
      expect(() => applyResources({ unified: d }, { memory: { swap: 128 << 20 } }, v2layout)).toThrow(/needs a memory limit/);
      expect(() => applyResources({ unified: d }, { unified: { '../escape': '1' } }, v2layout)).toThrow(/not a cgroup file name/);
      applyResources({ unified: d }, { memory: { limit: -1, swap: -1 } }, v2layout);
      expect(read(d, 'memory.max')).toBe('max');
      expect(read(d, 'memory.swap.max')).toBe('max');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
