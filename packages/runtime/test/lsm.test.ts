// AppArmor profiles, SELinux labels and mount labels (src/lsm.ts, native/init.c write_lsm_attr), runc as the oracle:
// a config that asks for confinement the host cannot give is refused before anything is created (runc fails too),
// and never runs unconfined; where the host has AppArmor, the profile is applied as runc applies it.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apparmorEnabled, labelMountData, selinuxEnabled } from '../src/lsm.js';
import { planCreate, planProcess } from '../src/plan.js';
import { launchHelper } from '../src/helper-process.js';
import { planExec, serializePlan } from '../src/plan.js';
import { HELPER, ROOT, bundle, cleanupAll, detached, ours, runc, uid } from './helpers.js';

afterAll(() => cleanupAll());

const PROBE = ['sh', '-c', 'echo started; cat /proc/self/attr/current 2>/dev/null; true'];

describe('LSM fields on a host without the module', () => {
  const cases = [
    { field: 'process.apparmorProfile', skip: apparmorEnabled(), edit: (c: Record<string, any>) => { c['process'].apparmorProfile = 'oci-test-profile'; } },
    { field: 'process.selinuxLabel', skip: selinuxEnabled(), edit: (c: Record<string, any>) => { c['process'].selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2'; } },
    { field: 'linux.mountLabel', skip: selinuxEnabled(), edit: (c: Record<string, any>) => { c['linux'].mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2'; } },
  ];
  for (const { field, skip, edit } of cases) {
    it.skipIf(skip)(`${field}: refused before anything is created, like runc; the process never runs`, async () => {
      const b = await bundle((c) => { c['process'].args = PROBE; edit(c); });
      const id = uid('lsm');
      const o = await ours(['run', '--bundle', b, id]);
      const rid = uid('lsm');
      const r = await runc(['run', '--bundle', b, rid]);
      expect(r.code).toBe(1);
      expect(o.code).toBe(1);
      expect(o.stdout).toBe('');
      expect(r.stdout).toBe('');
      expect(o.stderr).toContain(`config.json sets ${field}`);
      expect(o.stderr).toContain('is not enabled on this host');
      expect(existsSync(join(ROOT, id))).toBe(false);
      await runc(['delete', '-f', rid]);
    });
  }

  it.skipIf(apparmorEnabled())('exec --apparmor is refused and the container runs on', async () => {
    const b = await bundle((c) => { c['process'].args = ['sleep', '30']; });
    const id = uid('lsm-x');
    const d = await detached('ours', ['run', '-d', '--bundle', b, id]);
    try {
      const e = await ours(['exec', '--apparmor', 'oci-test-profile', id, 'echo', 'ran']);
      expect(e.code).toBe(1);
      expect(e.stdout).toBe('');
      expect(e.stderr).toContain('the exec\'d process sets process.apparmorProfile, but AppArmor is not enabled on this host');
      const ok = await ours(['exec', id, 'echo', 'ran']);
      expect(ok).toMatchObject({ code: 0, stdout: 'ran\n' });
    } finally {
      await ours(['delete', '-f', id]);
      await d.done;
    }
  });

  it.skipIf(apparmorEnabled())('the helper itself refuses to exec when the kernel does not take the profile', async () => {
    // past the runtime's own check (a host whose AppArmor went away, a kernel that rejects the profile): the
    // helper must fail the exec, not run the process unconfined
    const b = await bundle((c) => { c['process'].args = ['sleep', '30']; });
    const id = uid('lsm-h');
    const d = await detached('ours', ['run', '-d', '--bundle', b, id]);
    try {
      const state = JSON.parse((await ours(['state', id])).stdout) as { pid: number };
      const plan = planExec({ cwd: '/', args: ['echo', 'ran'], apparmorProfile: 'oci-test-profile' }, undefined, {
        pid: state.pid, namespaces: ['mount', 'pid', 'ipc', 'uts', 'network'], cgroupProcs: [], foreground: true,
      });
      const h = launchHelper(HELPER, ['ignore', 'ignore', 'ignore'], 0);
      h.plan(serializePlan(plan));
      const msgs: string[] = [];
      for (;;) {
        const [k, v] = await h.next();
        msgs.push(`${k} ${v}`);
        if (k === 'error' || k === 'eof' || k === 'ready') break;
      }
      await h.exited;
      expect(msgs.at(-1)).toMatch(/^error apply AppArmor profile "oci-test-profile"/);
    } finally {
      await ours(['delete', '-f', id]);
      await d.done;
    }
  });
});

describe.runIf(apparmorEnabled())('AppArmor on this host', () => {
  it('process.apparmorProfile "unconfined" gives the same /proc/self/attr/current as runc', async () => {
    const b = await bundle((c) => { c['process'].args = PROBE; c['process'].apparmorProfile = 'unconfined'; });
    const o = await ours(['run', '--bundle', b, uid('aa')]);
    const r = await runc(['run', '--bundle', b, uid('aa')]);
    expect(o).toMatchObject({ code: r.code, stdout: r.stdout });
  });
});

describe('plans', () => {
  it('the process lines carry the profile and the label; mounts get context= as runc gives it', () => {
    const lines = planProcess({ cwd: '/', args: ['true'], apparmorProfile: 'p1', selinuxLabel: 'u:r:t:s0' }, undefined);
    expect(lines).toContainEqual(['apparmor', 'p1']);
    expect(lines).toContainEqual(['selinux', 'u:r:t:s0']);
    expect(planProcess({ cwd: '/', args: ['true'] }, undefined).some((l) => l[0] === 'apparmor' || l[0] === 'selinux')).toBe(false);
    expect(labelMountData('tmpfs', 'mode=755,size=65536k', 'l:a:b')).toBe('mode=755,size=65536k,context="l:a:b"');
    expect(labelMountData('devpts', '', 'l:a:b')).toBe('context="l:a:b"');
    for (const t of ['proc', 'sysfs', 'mqueue', 'cgroup']) expect(labelMountData(t, 'x=1', 'l:a:b')).toBe('x=1');
    expect(labelMountData('tmpfs', 'context="own"', 'l:a:b')).toBe('context="own"');
    expect(labelMountData('tmpfs', 'mode=755', undefined)).toBe('mode=755');
    const plan = planCreate({
      ociVersion: '1.0.2', root: { path: '/r' }, process: { cwd: '/', args: ['true'] },
      mounts: [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] }, { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/b', type: 'bind', source: '/x', options: ['rbind'] }],
      linux: { mountLabel: 'l:a:b' },
    }, { rootfs: '/r', bundle: '/b' });
    const mounts = plan.filter((l) => l[0] === 'mount');
    expect(mounts.find((l) => l[2] === '/dev')?.at(-1)).toBe('mode=755,context="l:a:b"');
    expect(mounts.find((l) => l[2] === '/proc')?.at(-1)).toBe('');
    expect(mounts.find((l) => l[2] === '/b')?.at(-1)).toBe('');
  });

  it('a profile or label with a newline is invalid config', async () => {
    const b = await bundle((c) => { c['process'].apparmorProfile = 'a\nb'; });
    const o = await ours(['run', '--bundle', b, uid('lsm-nl')]);
    expect(o.code).toBe(1);
    expect(o.stderr).toContain('process.apparmorProfile must be a non-empty string without NUL or newline');
    expect(readdirSync(ROOT).some((n) => n.startsWith('lsm-nl'))).toBe(false);
  });
});
