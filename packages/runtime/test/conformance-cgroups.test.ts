// runtime-tools validation: linux_cgroups_{memory,pids,cpus,devices,blkio,hugetlb,network} and their
// _relative_ variants, delete_resources, delete_only_create_resources — runc as the oracle.
// Like util.RuntimeOutsideValidate: create (not start), read the cgroup v1 files of the container's
// process from the host, delete. runc and ours run one after the other with the same cgroupsPath.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIMES, Runtimes, generatorDefault, makeBundle, printTally, removeTemps, tally } from './conformance-helpers.js';
import type { Config, Which } from './conformance-helpers.js';

const CG = '/sys/fs/cgroup';
let rt: Runtimes;
beforeAll(() => {
  rt = new Runtimes('cg');
});
afterAll(async () => {
  await rt.close();
  // the runtimes remove the leaf cgroups; the parents of the relative paths are ours to remove
  for (const ctrl of readdirSync(CG)) {
    const d = join(CG, ctrl, 'testdir', `cgrouptest-${process.pid}`);
    for (const x of [d, join(d, '..')]) if (existsSync(x)) try { rmdirSync(x); } catch { /* busy or not empty */ }
  }
  for (const f of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, ctrls, path] = f.split(':');
    for (const ctrl of ctrls!.split(',')) {
      const dir = ctrl.startsWith('name=') ? ctrl.slice(5) : ctrl;
      const d = join(CG, dir || 'unified', path!, 'testdir', `cgrouptest-${process.pid}`);
      for (const x of [d, join(d, '..')]) if (existsSync(x)) try { rmdirSync(x); } catch { /* busy or not empty */ }
    }
  }
  removeTemps();
  printTally('cgroups');
});

/** controller -> path of PID's cgroup in that hierarchy (from /proc/PID/cgroup) */
function cgroupsOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, ctrls, path] = l.split(':');
    for (const c of ctrls!.split(',')) if (c) out[c] = path!;
  }
  return out;
}

const read = (ctrl: string, path: string, file: string) => {
  const p = join(CG, ctrl, path, file);
  return existsSync(p) ? readFileSync(p, 'utf8').trim() : '(absent)';
};

interface Seen { code: number; stderr: string; paths?: Record<string, string>; files?: Record<string, string> }

/** create with CONFIG, read FILES ([controller, file]) of the container's cgroups, delete; for both runtimes */
async function outside(config: Config, files: Array<[string, string]>): Promise<Record<Which, Seen>> {
  const res = {} as Record<Which, Seen>;
  for (const which of RUNTIMES) {
    const b = await makeBundle(config);
    const id = rt.id(which);
    const cr = await rt.cmd(which, ['create', '--bundle', b.dir, id]);
    if (cr.code !== 0) {
      await rt.cmd(which, ['delete', '-f', id]);
      res[which] = { code: cr.code, stderr: cr.stderr };
      continue;
    }
    const pid = (await rt.state(which, id))!['pid'] as number;
    const cgs = cgroupsOf(pid);
    const paths = Object.fromEntries(files.map(([c]) => [c, cgs[c] ?? '(none)']));
    res[which] = { code: 0, stderr: cr.stderr, paths, files: Object.fromEntries(files.map(([c, f]) => [`${c}/${f}`, read(c, cgs[c] ?? '/', f)])) };
    const del = await rt.cmd(which, ['delete', '-f', id]);
    expect(del.code, del.stderr).toBe(0);
  }
  tally.runs++;
  tally.sections += files.length;
  tally.sectionsEqual += files.filter(([c, f]) => res.ours.files?.[`${c}/${f}`] === res.runc.files?.[`${c}/${f}`]).length;
  return res;
}

const abs = () => `/ocitest-cg-${process.pid}`;
const withPath = (path: string): Config => {
  const c = generatorDefault(['true']);
  c['linux'].cgroupsPath = path;
  return c;
};

describe('runtime-tools validation, cgroups area (runc oracle)', () => {
  for (const [limit, swappiness] of [[151781376, 10]] as const) {
    it(`linux_cgroups_memory: limit = reservation = swap = ${limit}, swappiness ${swappiness}, OOM killer disabled`, async () => {
      const c = withPath(abs());
      // kernel and kernelTCP (deprecated, runtime-tools sets them too) are left to their own test below
      c['linux'].resources.memory = { limit, reservation: limit, swap: limit, swappiness, disableOOMKiller: true };
      const files: Array<[string, string]> = [['memory', 'memory.limit_in_bytes'], ['memory', 'memory.soft_limit_in_bytes'], ['memory', 'memory.memsw.limit_in_bytes'], ['memory', 'memory.swappiness'], ['memory', 'memory.oom_control']];
      const r = await outside(c, files);
      expect(r.runc.code, r.runc.stderr).toBe(0);
      expect(r.ours.code, r.ours.stderr).toBe(0);
      expect(r.ours.paths).toEqual(r.runc.paths);
      expect(r.ours.paths!['memory']).toBe(abs());
      expect(r.ours.files).toEqual(r.runc.files);
      expect(r.ours.files!['memory/memory.limit_in_bytes']).toBe(String(limit));
      expect(r.ours.files!['memory/memory.swappiness']).toBe(String(swappiness));
      expect(r.ours.files!['memory/memory.oom_control']).toMatch(/^oom_kill_disable 1$/m);
    });
  }

  it('linux_cgroups_memory: kernel and kernelTCP limits — same outcome as runc', async () => {
    const c = withPath(abs());
    c['linux'].resources.memory = { limit: 50593792, kernel: 50593792, kernelTCP: 50593792 };
    const r = await outside(c, [['memory', 'memory.kmem.limit_in_bytes'], ['memory', 'memory.kmem.tcp.limit_in_bytes']]);
    expect(r.ours.code, r.ours.stderr).toBe(r.runc.code);
    expect(r.ours.files).toEqual(r.runc.files);
  });

  it('linux_cgroups_pids and linux_cgroups_relative_pids: pids.max = 1000 at an absolute and a relative path', async () => {
    for (const path of [abs(), `testdir/cgrouptest-${process.pid}/container`]) {
      const c = withPath(path);
      c['linux'].resources.pids = { limit: 1000 };
      const r = await outside(c, [['pids', 'pids.max']]);
      expect(r.ours.code, r.ours.stderr).toBe(0);
      expect(r.ours.paths).toEqual(r.runc.paths);
      expect(r.ours.files).toEqual({ 'pids/pids.max': '1000' });
      expect(r.runc.files).toEqual(r.ours.files);
    }
  });

  it('linux_cgroups_relative_memory: a relative cgroupsPath (runc: under the caller\'s cgroup; ours: under the root)', async () => {
    // runtime-spec: a relative path MAY be taken relative to a runtime-determined location. runc 1.1.5
    // appends it to the caller's own cgroup in each hierarchy (here memory: /process_api/<hash>/...);
    // ours to the hierarchy root. Where the caller sits at the root (pids above) they coincide.
    const rel = `testdir/cgrouptest-${process.pid}/container`;
    const c = withPath(rel);
    c['linux'].resources.memory = { limit: 50593792 };
    const r = await outside(c, [['memory', 'memory.limit_in_bytes']]);
    expect(r.ours.code, r.ours.stderr).toBe(0);
    expect(r.runc.paths!['memory']!.endsWith('/' + rel)).toBe(true);
    expect(r.ours.paths!['memory']).toBe('/' + rel);
    expect(r.ours.files).toEqual(r.runc.files);
  });

  it('linux_cgroups_cpus: shares, CFS period and quota, cpuset cpus and mems', async () => {
    const cpus = `0-${Math.max(0, (await import('node:os')).cpus().length - 1)}`;
    const files: Array<[string, string]> = [['cpu', 'cpu.shares'], ['cpu', 'cpu.cfs_period_us'], ['cpu', 'cpu.cfs_quota_us'], ['cpuset', 'cpuset.cpus'], ['cpuset', 'cpuset.mems']];
    for (const [shares, period, quota, set] of [[1024, 100000, 50000, '0'], [2048, 500000, 200000, cpus]] as const) {
      const c = withPath(abs());
      // realtimePeriod/realtimeRuntime left out: the rt budget of the parent is shared with whatever
      // else runs on the machine, so a 950000 us runtime fails now and then for runc as well
      c['linux'].resources.cpu = { shares, period, quota, cpus: set, mems: '0' };
      const r = await outside(c, files);
      expect(r.ours.code, r.ours.stderr).toBe(r.runc.code);
      expect(r.ours.files).toEqual(r.runc.files);
      if (r.ours.code === 0) {
        expect(r.ours.files!['cpu/cpu.shares']).toBe(String(shares));
        expect(r.ours.files!['cpu/cpu.cfs_quota_us']).toBe(String(quota));
        expect(r.ours.files!['cpuset/cpuset.cpus']).toBe(set);
      }
    }
  });

  it('linux_cgroups_cpus: an empty cpu section', async () => {
    const c = withPath(abs());
    c['linux'].resources.cpu = {};
    const r = await outside(c, [['cpu', 'cpu.shares'], ['cpu', 'cpu.cfs_quota_us']]);
    expect(r.ours.code, r.ours.stderr).toBe(0);
    expect(r.ours.files).toEqual(r.runc.files);
  });

  it('linux_cgroups_devices and _relative_devices: deny all, then allow c 10:229 rwm, b 8:20 rw, b 10:200 r, in order', async () => {
    for (const path of [abs(), `testdir/cgrouptest-${process.pid}/devices`]) {
      const c = withPath(path);
      c['linux'].resources.devices.push(
        { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
        { allow: true, type: 'b', major: 8, minor: 20, access: 'rw' },
        { allow: true, type: 'b', major: 10, minor: 200, access: 'r' },
      );
      const r = await outside(c, [['devices', 'devices.list']]);
      expect(r.ours.code, r.ours.stderr).toBe(0);
      // the same rules; runtime-tools wants the config's allow entries first, in order
      // (lnd[i-1] == devices[i]): ours lists them first, runc 1.1.5 after its default device rules
      const sorted = (x: string | undefined) => (x ?? '').split('\n').sort();
      expect(sorted(r.ours.files!['devices/devices.list'])).toEqual(sorted(r.runc.files!['devices/devices.list']));
      expect(r.ours.files!['devices/devices.list']).toMatch(/^c 10:229 rwm\nb 8:20 rw\nb 10:200 r\n/);
      expect(r.runc.files!['devices/devices.list']).not.toMatch(/^c 10:229 rwm\nb 8:20 rw\nb 10:200 r\n/);
    }
  });

  it('linux_cgroups_blkio: weights and throttles (this VM: bfq, no blkio.weight; disk 254:0) — same outcome as runc', async () => {
    const [maj, min] = [254, 0];
    for (const withWeight of [true, false]) {
      const c = withPath(abs());
      c['linux'].resources.blockIO = {
        ...(withWeight ? { weight: 500, leafWeight: 300 } : {}),
        weightDevice: [{ major: maj, minor: min, weight: 500, leafWeight: 300 }],
        throttleReadBpsDevice: [{ major: maj, minor: min, rate: 102400 }],
        throttleWriteBpsDevice: [{ major: maj, minor: min, rate: 102400 }],
        throttleReadIOPSDevice: [{ major: maj, minor: min, rate: 102400 }],
        throttleWriteIOPSDevice: [{ major: maj, minor: min, rate: 102400 }],
      };
      const r = await outside(c, [['blkio', 'blkio.throttle.read_bps_device'], ['blkio', 'blkio.throttle.write_bps_device'], ['blkio', 'blkio.throttle.read_iops_device'], ['blkio', 'blkio.throttle.write_iops_device']]);
      // runc 1.1.5 fails create: "openat2 .../blkio.leaf_weight: no such file or directory" (the bfq
      // scheduler has no blkio.weight/leaf_weight files); ours skips what the kernel lacks and sets
      // the throttles. Possible gap for ours: runtime-tools counts the unset weights as failures.
      expect(r.runc.code).toBe(1);
      expect(r.runc.stderr).toMatch(/weight/);
      expect(r.ours.code, r.ours.stderr).toBe(0);
      for (const f of Object.values(r.ours.files!)) expect(f).toBe(`${maj}:${min} 102400`);
    }
  });

  it('linux_cgroups_blkio: throttles only — same as runc', async () => {
    const c = withPath(abs());
    const dev = { major: 254, minor: 0, rate: 204800 };
    c['linux'].resources.blockIO = { throttleReadBpsDevice: [dev], throttleWriteBpsDevice: [dev], throttleReadIOPSDevice: [dev], throttleWriteIOPSDevice: [dev] };
    const r = await outside(c, [['blkio', 'blkio.throttle.read_bps_device'], ['blkio', 'blkio.throttle.write_bps_device'], ['blkio', 'blkio.throttle.read_iops_device'], ['blkio', 'blkio.throttle.write_iops_device']]);
    expect(r.runc.code, r.runc.stderr).toBe(0);
    expect(r.ours.code, r.ours.stderr).toBe(0);
    expect(r.ours.files).toEqual(r.runc.files);
    for (const f of Object.values(r.ours.files!)) expect(f).toBe('254:0 204800');
  });

  it('linux_cgroups_hugetlb and linux_cgroups_network: controllers not mounted on this VM — same outcome as runc', async () => {
    const hp = withPath(abs());
    hp['linux'].resources.hugepageLimits = [{ pageSize: '2MB', limit: 4194304 }];
    const net = withPath(abs());
    net['linux'].resources.network = { classID: 1048577, priorities: [{ name: 'lo', priority: 5 }] };
    const codes: Record<string, number[]> = { runc: [], ours: [] };
    for (const c of [hp, net]) {
      const r = await outside(c, []);
      codes['runc']!.push(r.runc.code);
      codes['ours']!.push(r.ours.code);
    }
    // runc 1.1.5: hugetlb "cannot set hugetlb limit: container could not join or create cgroup" (exit 1),
    // network (net_cls/net_prio) likewise exit 1. Ours ignores both absent controllers (exit 0).
    // Possible gap: runtime-tools counts the unset limits as failures either way.
    expect(codes).toEqual({ runc: [1, 1], ours: [0, 0] });
  });

  it('delete_resources: delete removes the cgroups create made', async () => {
    const c = withPath(abs());
    c['linux'].resources.pids = { limit: 1000 };
    const gone: Record<string, boolean> = {};
    for (const which of RUNTIMES) {
      const b = await makeBundle(c);
      const id = rt.id(which);
      expect((await rt.cmd(which, ['create', '--bundle', b.dir, id])).code).toBe(0);
      expect(existsSync(join(CG, 'pids', abs()))).toBe(true);
      await rt.cmd(which, ['start', id]);
      await rt.waitStatus(which, id, ['stopped']);
      expect((await rt.cmd(which, ['delete', id])).code).toBe(0);
      gone[which] = !existsSync(join(CG, 'pids', abs()));
    }
    expect(gone).toEqual({ runc: true, ours: true });
  });

  it('delete_only_create_resources: a cgroup the container was moved into by someone else survives delete', async () => {
    const kept: Record<string, boolean> = {};
    for (const which of RUNTIMES) {
      const other = join(CG, 'pids', `ocitest-other-${process.pid}-${which}`);
      mkdirSync(other);
      try {
        const b = await makeBundle(generatorDefault(['true']));
        const id = rt.id(which);
        expect((await rt.cmd(which, ['create', '--bundle', b.dir, id])).code).toBe(0);
        writeFileSync(join(other, 'tasks'), String((await rt.state(which, id))!['pid']));
        await rt.cmd(which, ['start', id]);
        await rt.waitStatus(which, id, ['stopped']);
        expect((await rt.cmd(which, ['delete', id])).code).toBe(0);
        kept[which] = existsSync(other);
      } finally {
        try { rmdirSync(other); } catch { /* gone already */ }
      }
    }
    expect(kept).toEqual({ runc: true, ours: true });
  });
});
