// cgroups v1 (this machine: hybrid) resources, pause/resume, update and stats, checked with runc as oracle.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { bundle, cleanupAll, detached, ours, runc, uid } from './helpers.js';
import { cgroupLayout } from '../src/cgroups.js';

afterAll(() => cleanupAll());

const v1 = cgroupLayout().version === 'v1';

describe.runIf(v1)('cgroups v1', () => {
  it('applies memory, cpu, pids and devices resources like runc', async () => {
    const files = [
      'memory/memory.limit_in_bytes', 'memory/memory.soft_limit_in_bytes', 'cpu/cpu.shares', 'cpu/cpu.cfs_quota_us',
      'cpu/cpu.cfs_period_us', 'pids/pids.max', 'cpuset/cpuset.cpus',
    ];
    const b = await bundle((c) => {
      c['linux'].resources = {
        ...c['linux'].resources,
        memory: { limit: 64 * 1024 * 1024, reservation: 32 * 1024 * 1024 },
        cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' },
        pids: { limit: 42 },
      };
      c['process'].args = ['sh', '-c', files.map((f) => `cat /sys/fs/cgroup/${f}`).join('; ') + '; cat /sys/fs/cgroup/devices/devices.list | sort'];
    });
    const o = await ours(['run', '--bundle', b, uid('cg')]);
    const r = await runc(['run', '--bundle', b, uid('rcg')]);
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).toBe(r.stdout);
    expect(o.stdout).toMatch(/^67108864\n33554432\n512\n50000\n100000\n42\n0\n/);
  });

  it('a device deny inside an earlier wildcard allow is refused, as runc refuses it (v1 would drop it silently)', async () => {
    const b = await bundle((c) => {
      c['linux'].resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 7, access: 'rw' }, { allow: false, type: 'c', major: 7, minor: 0, access: 'w' }] };
      c['process'].args = ['echo', 'ran'];
    });
    const id = uid('hole');
    const o = await ours(['run', '--bundle', b, id]);
    const r = await runc(['run', '--bundle', b, uid('rhole')]);
    expect(r.code).toBe(1);
    expect(o.code).toBe(1);
    expect(o.stdout).toBe('');
    expect(o.stderr).toMatch(/the device rule \\"deny c 7:0\\" falls inside the earlier \\"allow c 7:\*\\", which cgroup v1 cannot express/);
    expect(existsSync(`/sys/fs/cgroup/devices/oci-runtime/${id}`)).toBe(false);
  });

  it('a systemd-style cgroupsPath lands where systemd would put the scope (and is removed after)', async () => {
    const name = uid('sd');
    const b = await bundle((c) => {
      c['linux'].cgroupsPath = `system.slice:oci-test:${name}`;
      c['process'].args = ['sh', '-c', 'grep -E ":(memory|pids):" /proc/self/cgroup'];
    });
    const o = await ours(['--systemd-cgroup', 'run', '--bundle', b, name]);
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).toContain(`memory:/system.slice/oci-test-${name}.scope`);
    expect(o.stdout).toContain(`pids:/system.slice/oci-test-${name}.scope`);
    expect(existsSync(`/sys/fs/cgroup/memory/system.slice/oci-test-${name}.scope`)).toBe(false);
  });

  it('uses cgroupsPath and removes the cgroups on delete', async () => {
    const path = `/oci-runtime-test/${uid('cgp')}`;
    const b = await bundle((c) => {
      c['linux'].cgroupsPath = path;
      c['process'].args = ['sleep', '1000'];
    });
    const id = uid('cgp');
    const c = await detached('ours', ['run', '-d', '--bundle', b, id]);
    expect(readFileSync(`/sys/fs/cgroup/pids${path}/cgroup.procs`, 'utf8').trim()).toBe(String(c.pid));
    expect(readFileSync(`/proc/${c.pid}/cgroup`, 'utf8')).toContain(`memory:${path}`);
    await ours(['delete', '-f', id]);
    await c.done;
    expect(existsSync(`/sys/fs/cgroup/pids${path}`)).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/memory${path}`)).toBe(false);
  });

  it('pause and resume through the freezer; update; events --stats', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sleep', '1000'];
    });
    const id = uid('pz');
    const c = await detached('ours', ['run', '-d', '--bundle', b, id]);
    expect((await ours(['pause', id])).code).toBe(0);
    expect(JSON.parse((await ours(['state', id])).stdout).status).toBe('paused');
    expect(readFileSync(`/proc/${c.pid}/stat`, 'utf8')).toMatch(/\) [DS] /);
    const again = await ours(['exec', id, 'true']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/paused/);
    expect((await ours(['resume', id])).code).toBe(0);
    expect(JSON.parse((await ours(['state', id])).stdout).status).toBe('running');
    expect((await ours(['resume', id])).code).toBe(1);

    expect((await ours(['update', '--memory', '128m', '--pids-limit', '99', '--cpu-share', '256', id])).code).toBe(0);
    const cat = await ours(['exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.shares']);
    expect(cat.stdout).toBe('134217728\n99\n256\n');

    const ev = await ours(['events', '--stats', id]);
    expect(ev.code).toBe(0);
    const e = JSON.parse(ev.stdout);
    expect(e).toMatchObject({ type: 'stats', id });
    expect(e.data.pids.current).toBeGreaterThanOrEqual(1);
    expect(e.data.pids.limit).toBe(99);
    expect(e.data.memory.usage.limit).toBe(134217728);
    expect(e.data.cpu.usage.total).toBeGreaterThan(0);
    // runc's document has the same top-level keys
    const rid = uid('rpz');
    const rc = await detached('runc', ['run', '-d', '--bundle', b, rid]);
    const re = JSON.parse((await runc(['events', '--stats', rid])).stdout);
    expect(Object.keys(e.data).sort()).toEqual(Object.keys(re.data).sort());
    expect(Object.keys(e.data.memory).sort()).toEqual(expect.arrayContaining(['usage', 'swap', 'kernel', 'raw']));
    await runc(['delete', '-f', rid]);
    await ours(['delete', '-f', id]);
    await Promise.all([c.done, rc.done]);
  });

  it('events streams stats every --interval until the container stops', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sleep', '2'];
    });
    const id = uid('ev');
    const c = await detached('ours', ['run', '-d', '--bundle', b, id]);
    const ev = await ours(['events', '--interval', '200ms', id], { timeoutMs: 20000 });
    expect(ev.code).toBe(0);
    const lines = ev.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatchObject({ type: 'stats', id });
    await ours(['delete', id]);
    await c.done;
  });

  it('kill --all signals every process in the container', async () => {
    const b = await bundle((c) => {
      c['process'].args = ['sh', '-c', 'trap "" TERM; sleep 1000 & sleep 1000 & wait'];
    });
    const id = uid('kall');
    const c = await detached('ours', ['run', '-d', '--bundle', b, id]);
    let pids: number[] = [];
    for (let i = 0; i < 100 && pids.length < 3; i++) {
      pids = JSON.parse((await ours(['ps', '--format', 'json', id])).stdout);
      if (pids.length < 3) await new Promise((r) => setTimeout(r, 20));
    }
    expect(pids.length).toBe(3);
    expect((await ours(['kill', '--all', id, '9'])).code).toBe(0);
    for (let i = 0; i < 100; i++) {
      if (JSON.parse((await ours(['state', id])).stdout).status === 'stopped') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(JSON.parse((await ours(['state', id])).stdout).status).toBe('stopped');
    await ours(['delete', id]);
    await c.done;
  });
});
