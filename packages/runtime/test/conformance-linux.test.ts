// runtime-tools validation: linux_devices, linux_sysctl, linux_uid_mappings, linux_seccomp,
// linux_ns_itype, linux_ns_nopath, linux_ns_path, linux_ns_path_type — runc as the oracle.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RUNTIMES, Runtimes, comparable, count, failed, generatorDefault, makeBundle, printTally, probeBoth, removeTemps,
  conformBoth,
} from './conformance-helpers.js';
import type { Both, BundleOptions, Config, ProbeOptions, Which } from './conformance-helpers.js';

let rt: Runtimes;
const sleepers: ChildProcess[] = [];
beforeAll(() => {
  rt = new Runtimes('linux');
});
afterAll(async () => {
  // unshare --fork leaves its sleep child behind when only unshare dies: kill the process group
  for (const s of sleepers) try { process.kill(-s.pid!, 'SIGKILL'); } catch { /* gone */ }
  await rt.close();
  removeTemps();
  printTally('linux');
});

const conform = (config: Config, opts: BundleOptions & ProbeOptions = {}): Promise<Both> => conformBoth(rt, config, opts);

const PROC_NS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts'] as const;
const SPEC_NS: Record<string, string> = { cgroup: 'cgroup', ipc: 'ipc', mnt: 'mount', net: 'network', pid: 'pid', user: 'user', uts: 'uts' };
const nsOf = (pid: number | 'self', ns: string) => readlinkSync(`/proc/${pid}/ns/${ns}`);

/** util.RuntimeOutsideValidate: create (not start), hand the state to CHECK, then delete -f. */
async function outside<T>(which: Which, config: Config, check: (state: Record<string, any>) => T): Promise<{ code: number; stderr: string; value?: T }> {
  const b = await makeBundle(config);
  const id = rt.id(which);
  const cr = await rt.cmd(which, ['create', '--bundle', b.dir, id]);
  if (cr.code !== 0) {
    await rt.cmd(which, ['delete', '-f', id]);
    return { code: cr.code, stderr: cr.stderr };
  }
  const st = await rt.state(which, id);
  const value = check(st!);
  const del = await rt.cmd(which, ['delete', '-f', id]);
  expect(del.code, del.stderr).toBe(0);
  return { code: 0, stderr: cr.stderr, value };
}

/** `unshare --X --fork sleep 10000`; resolves with unshare's pid once its namespace differs from ours */
async function unshared(opt: string, ns: string): Promise<{ pid: number; path: string }> {
  const c = spawn('unshare', [opt, '--fork', 'sleep', '10000'], { stdio: 'ignore', detached: true });
  sleepers.push(c);
  const path = `/proc/${c.pid}/ns/${ns === 'pid' ? 'pid_for_children' : ns}`;
  for (let i = 0; i < 300; i++) {
    try {
      // unshare has finished (propagation set, sleep forked) once it has a child
      const children = readFileSync(`/proc/${c.pid}/task/${c.pid}/children`, 'utf8').trim();
      if (children && readlinkSync(path) !== nsOf('self', ns)) return { pid: c.pid!, path };
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`unshare ${opt} did not switch namespaces`);
}

describe('runtime-tools validation, linux area (runc oracle)', () => {
  it('linux_devices: char 10:666, block 8:666 and a fifo with mode 0660, uid 0, gid 0', async () => {
    const c = generatorDefault();
    c['linux'].devices = [
      { path: '/dev/test1', type: 'c', major: 10, minor: 666, fileMode: 432, uid: 0, gid: 0 },
      { path: '/dev/test2', type: 'b', major: 8, minor: 666, fileMode: 432, uid: 0, gid: 0 },
      { path: '/dev/test3', type: 'p', major: 8, minor: 666, fileMode: 432 },
    ];
    const b = await conform(c);
    expect(failed(b.ours.checks)).toEqual([]);
  });

  it('linux_sysctl: net.ipv4.ip_forward = 1 (plus an ipc sysctl)', async () => {
    const c = generatorDefault();
    c['linux'].sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '9000' };
    const b = await conform(c);
    expect(failed(b.ours.checks)).toEqual([]);
  });

  it('linux_uid_mappings: user namespace, uid 0 -> 1000 (2000), gid 0 -> 1000 (3000)', async () => {
    const c = generatorDefault();
    c['linux'].namespaces.push({ type: 'user' });
    c['linux'].uidMappings = [{ containerID: 0, hostID: 1000, size: 2000 }];
    c['linux'].gidMappings = [{ containerID: 0, hostID: 1000, size: 3000 }];
    const b = await conform(c);
    expect(failed(b.ours.checks)).toEqual([]);
  });

  it('linux_seccomp: default allow, getcwd returns an errno (runc 1.1.5 cannot start it; ours runs it)', async () => {
    const c = generatorDefault();
    c['linux'].seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO' }],
    };
    const b = await probeBoth(rt, c, { seccompGetcwd: true });
    count(b);
    // runc 1.1.5 checks its cwd with getcwd() after loading the filter and gives up:
    // "failed to verify if current working directory is safe: operation not permitted"
    expect(b.runc.result.code).toBe(1);
    expect(b.runc.result.stderr).toMatch(/current working directory/);
    expect(b.ours.result.code, b.ours.result.stderr).toBe(0);
    expect(b.ours.report.get('getcwd')).toEqual(['getcwd-fails']);
    // runtimetest cannot check its cwd either when getcwd fails
    expect(failed(b.ours.checks)).toEqual(['has expected working directory']);
  });

  it('linux_ns_itype: namespaces not listed are inherited from the runtime (mount namespace kept)', async () => {
    // runtime-tools removes every namespace, the mount namespace too; the case without a mount
    // namespace is the next test (run inside a throwaway mount namespace).
    const c = generatorDefault(['true']);
    c['linux'].namespaces = [{ type: 'mount' }];
    delete c['hostname'];
    const host = Object.fromEntries(PROC_NS.map((n) => [n, nsOf('self', n)]));
    const res: Record<string, unknown> = {};
    for (const which of RUNTIMES) {
      const r = await outside(which, c, (st) => Object.fromEntries(PROC_NS.map((n) => [n, nsOf(st['pid'], n) === host[n]])));
      expect(r.code, `${which}: ${r.stderr}`).toBe(0);
      res[which] = r.value;
    }
    expect(res['ours']).toEqual(res['runc']);
    expect(res['ours']).toEqual({ cgroup: true, ipc: true, mnt: false, net: true, pid: true, user: true, uts: true });
  });

  it('linux_ns_itype without a mount namespace: only chroot, like runc (run inside a throwaway mount namespace)', async () => {
    // With no "mount" entry the container shares the runtime's mount namespace. Until 6bab59e ours
    // moved the rootfs over "/" of the caller's namespace; runc (and now ours) only chroot()s. Both
    // still mount proc/dev/sys under the rootfs in that namespace, so the runtimes run inside
    // `unshare -m --propagation private` here and the host namespace is never touched.
    const c = generatorDefault(['true']);
    c['linux'].namespaces = [];
    delete c['hostname'];
    const res: Record<string, number> = {};
    for (const which of RUNTIMES) {
      const b = await makeBundle(c);
      const id = rt.id(which);
      const argv = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', '"$@" create --bundle "$B" "$I" && "$@" start "$I"; r=$?; sleep 0.3; "$@" delete -f "$I"; exit $r', 'sh', ...rt.argv(which, [])];
      const r = await rt.reaper.exec(argv, { env: { B: b.dir, I: id } });
      res[which] = r.code;
      expect(r.code, `${which}: ${r.stderr}`).toBe(0);
    }
    expect(res['ours']).toBe(res['runc']);
  });

  it('linux_ns_nopath: every namespace type without a path is new (user with mappings)', async () => {
    const c = generatorDefault(['true']);
    c['linux'].namespaces = PROC_NS.map((n) => ({ type: SPEC_NS[n] }));
    c['linux'].uidMappings = [{ containerID: 0, hostID: 1000, size: 1000 }];
    c['linux'].gidMappings = [{ containerID: 0, hostID: 1000, size: 1000 }];
    const host = Object.fromEntries(PROC_NS.map((n) => [n, nsOf('self', n)]));
    const res: Record<string, unknown> = {};
    for (const which of RUNTIMES) {
      const r = await outside(which, c, (st) => Object.fromEntries(PROC_NS.map((n) => [n, nsOf(st['pid'], n) !== host[n]])));
      expect(r.code, `${which}: ${r.stderr}`).toBe(0);
      res[which] = r.value;
    }
    expect(res['ours']).toEqual(res['runc']);
    expect(Object.values(res['ours'] as object).every(Boolean)).toBe(true);
  });

  for (const [ns, opt] of [['ipc', '--ipc'], ['mnt', '--mount'], ['net', '--net'], ['pid', '--pid'], ['uts', '--uts']] as const) {
    it(`linux_ns_path: joins a ${ns} namespace by path`, async () => {
      // a fresh namespace per runtime: a container that joins a mount namespace pivots its root
      const res: Record<string, unknown> = {};
      for (const which of RUNTIMES) {
        const u = await unshared(opt, ns);
        const want = readlinkSync(u.path);
        const c = generatorDefault(['true']);
        c['linux'].namespaces = c['linux'].namespaces.filter((n: { type: string }) => n.type !== SPEC_NS[ns]);
        c['linux'].namespaces.push({ type: SPEC_NS[ns], path: u.path });
        const r = await outside(which, c, (st) => nsOf(st['pid'], ns) === want);
        res[which] = r.code === 0 ? r.value : `exit ${r.code}: ${r.stderr}`;
      }
      expect(res['ours']).toEqual(res['runc']);
      expect(res['ours']).toBe(true);
    });
  }

  it('linux_ns_path_type: a namespace path of the wrong type is an error', async () => {
    const cases: Array<[string, string]> = [['cgroup', 'ipc'], ['ipc', 'mnt'], ['mnt', 'net'], ['net', 'pid'], ['pid', 'user'], ['user', 'uts'], ['uts', 'cgroup']];
    const res: Record<string, Record<string, number>> = {};
    for (const [ns, wrong] of cases) {
      const c = generatorDefault(['true']);
      c['linux'].namespaces = c['linux'].namespaces.filter((n: { type: string }) => n.type !== SPEC_NS[ns]);
      c['linux'].namespaces.push({ type: SPEC_NS[ns], path: `/proc/self/ns/${wrong}` });
      if (ns === 'user') {
        c['linux'].uidMappings = [{ containerID: 0, hostID: 1000, size: 1000 }];
        c['linux'].gidMappings = [{ containerID: 0, hostID: 1000, size: 1000 }];
      }
      res[ns] = {};
      for (const which of RUNTIMES) res[ns]![which] = (await outside(which, c, () => 0)).code;
    }
    for (const [ns] of cases) {
      expect(res[ns]!['ours'], `${ns}: ours must refuse a path of the wrong type`).not.toBe(0);
    }
    // runc 1.1.5 refuses all but one of these; ours refuses every one (see docs/runtime-conformance.md)
    expect(Object.keys(res).filter((ns) => res[ns]!['runc'] !== 0).length).toBeGreaterThanOrEqual(5);
  });
});
