import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSpec, defaultSpec, formatSpec, parseSpec, RuntimeSpecError, type Spec } from '../src/index.js';
import { cleanup, tmp } from './helpers/tmp.js';

afterAll(cleanup);

const FIXTURES = new URL('./fixtures/valid/', import.meta.url);
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function spec(mutate: (d: Doc) => unknown): Spec {
  const d = defaultSpec() as Doc;
  mutate(d);
  return d as Spec;
}

describe('checkSpec: semantic rules beyond the schema', () => {
  it('passes the default specs and the valid corpus without errors', () => {
    expect(checkSpec(defaultSpec())).toEqual({ valid: true, errors: [], warnings: [] });
    expect(checkSpec(defaultSpec({ rootless: true, uid: 1000, gid: 1000 }))).toEqual({ valid: true, errors: [], warnings: [] });
    for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith('.json'))) {
      const doc = JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as Spec;
      if (!doc.root) continue; // only-version fixture: not runnable, that is the point of the next test
      expect(checkSpec(doc).errors, f).toEqual([]);
    }
  });

  it('a spec without root cannot run on Linux', () => {
    expect(checkSpec({ ociVersion: '1.0.0' }).errors).toEqual([{ path: '/root', message: 'is required on Linux' }]);
  });

  it.each([
    ['relative cwd', (d: Doc) => (d.process.cwd = 'srv'), '/process/cwd'],
    ['no args', (d: Doc) => (d.process.args = []), '/process/args'],
    ['unknown rlimit', (d: Doc) => d.process.rlimits.push({ type: 'RLIMIT_FOO', soft: 1, hard: 1 }), '/process/rlimits/1/type'],
    ['duplicate rlimit', (d: Doc) => d.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }), '/process/rlimits/1/type'],
    ['soft above hard', (d: Doc) => (d.process.rlimits[0].soft = 4096), '/process/rlimits/0/soft'],
    ['duplicate namespace', (d: Doc) => d.linux.namespaces.push({ type: 'pid' }), '/linux/namespaces/5/type'],
    ['relative namespace path', (d: Doc) => (d.linux.namespaces[1].path = 'proc/1/ns/net'), '/linux/namespaces/1/path'],
    ['mappings without user ns', (d: Doc) => (d.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), '/linux/uidMappings'],
    ['user ns without mappings', (d: Doc) => d.linux.namespaces.push({ type: 'user' }), '/linux/uidMappings'],
    ['zero-size mapping', (d: Doc) => { d.linux.namespaces.push({ type: 'user' }); d.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 0 }]; d.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }]; }, '/linux/uidMappings/0/size'],
    ['joined user ns with mappings', (d: Doc) => { d.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' }); d.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }]; }, '/linux/uidMappings'],
    ['hostname without uts ns', (d: Doc) => (d.linux.namespaces = d.linux.namespaces.filter((n: Doc) => n.type !== 'uts')), '/hostname'],
    ['hostname in a joined uts ns', (d: Doc) => (d.linux.namespaces[3].path = '/proc/1/ns/uts'), '/hostname'],
    ['domainname without uts ns', (d: Doc) => { delete d.hostname; d.domainname = 'x'; d.linux.namespaces.splice(3, 1); }, '/domainname'],
    ['timeOffsets without time ns', (d: Doc) => (d.linux.timeOffsets = { monotonic: { secs: 1 } }), '/linux/timeOffsets'],
    ['net sysctl on the host network', (d: Doc) => { d.linux.namespaces.splice(1, 1); d.linux.sysctl = { 'net.ipv4.ip_forward': '1' }; }, '/linux/sysctl/net.ipv4.ip_forward'],
    ['ipc sysctl on the host ipc', (d: Doc) => { d.linux.namespaces.splice(2, 1); d.linux.sysctl = { 'kernel.shmmax': '1' }; }, '/linux/sysctl/kernel.shmmax'],
    ['mqueue sysctl on the host ipc', (d: Doc) => { d.linux.namespaces.splice(2, 1); d.linux.sysctl = { 'fs.mqueue.msg_max': '1' }; }, '/linux/sysctl/fs.mqueue.msg_max'],
    ['relative masked path', (d: Doc) => d.linux.maskedPaths.push('proc/kcore'), '/linux/maskedPaths/10'],
    ['relative readonly path', (d: Doc) => d.linux.readonlyPaths.push('proc/sys'), '/linux/readonlyPaths/5'],
    ['relative device path', (d: Doc) => (d.linux.devices = [{ type: 'c', path: 'dev/null', major: 1, minor: 3 }]), '/linux/devices/0/path'],
    ['duplicate device', (d: Doc) => (d.linux.devices = [{ type: 'c', path: '/dev/x', major: 1, minor: 3 }, { type: 'c', path: '/dev/x', major: 1, minor: 5 }]), '/linux/devices/1/path'],
    ['char device without numbers', (d: Doc) => (d.linux.devices = [{ type: 'c', path: '/dev/x' }]), '/linux/devices/0'],
    ['relative hook path', (d: Doc) => (d.hooks = { poststop: [{ path: 'cleanup.sh' }] }), '/hooks/poststop/0/path'],
    ['errnoRet with ALLOW', (d: Doc) => (d.linux.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] }), '/linux/seccomp/syscalls/0/errnoRet'],
    ['defaultErrnoRet with KILL', (d: Doc) => (d.linux.seccomp = { defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 }), '/linux/seccomp/defaultErrnoRet'],
    ['NOTIFY without listenerPath', (d: Doc) => (d.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_NOTIFY' }] }), '/linux/seccomp/listenerPath'],
    ['NOTIFY as default', (d: Doc) => (d.linux.seccomp = { defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/run/x.sock' }), '/linux/seccomp/defaultAction'],
    ['seccomp arg index 6', (d: Doc) => (d.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] }), '/linux/seccomp/syscalls/0/args/0/index'],
  ])('error: %s', (_name, mutate, path) => {
    const r = checkSpec(spec(mutate));
    expect(r.valid).toBe(false);
    expect(r.errors.map((e) => e.path)).toContain(path);
  });

  it.each([
    ['unknown capability', (d: Doc) => d.process.capabilities.bounding.push('CAP_FUTURE'), '/process/capabilities/bounding/3'],
    ['ambient not inheritable', (d: Doc) => d.process.capabilities, '/process/capabilities/ambient/0'],
    ['env without =', (d: Doc) => d.process.env.push('JUSTANAME'), '/process/env/2'],
    ['relative mount destination', (d: Doc) => d.mounts.push({ destination: 'data', type: 'tmpfs', source: 'tmpfs' }), '/mounts/7/destination'],
    ['consoleSize without terminal', (d: Doc) => { d.process.terminal = false; d.process.consoleSize = { height: 1, width: 1 }; }, '/process/consoleSize'],
    ['unmapped uid', (d: Doc) => { d.linux.namespaces.push({ type: 'user' }); d.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]; d.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]; d.process.user.uid = 5; }, '/process/user/uid'],
    ['idmapped non-bind mount', (d: Doc) => (d.mounts[0].uidMappings = [{ containerID: 0, hostID: 1, size: 1 }]), '/mounts/0'],
  ])('warning: %s', (_name, mutate, path) => {
    const d = spec(mutate) as Doc;
    if (_name === 'ambient not inheritable') d.process.capabilities.inheritable = [];
    const r = checkSpec(d as Spec);
    expect(r.warnings.map((e) => e.path)).toContain(path);
  });

  it('runc’s default spec grants ambient caps without inheritable ones: not a warning until inheritable is given', () => {
    // runc spec writes ambient but no inheritable set; runc then raises nothing ambient. We only warn when the
    // config lists inheritable explicitly.
    expect(checkSpec(defaultSpec()).warnings).toEqual([]);
  });

  it('with a bundle, root.path must be an existing directory', () => {
    const bundle = tmp();
    expect(checkSpec(defaultSpec(), { bundle }).errors).toEqual([{ path: '/root/path', message: `${join(bundle, 'rootfs')} is not a directory` }]);
    mkdirSync(join(bundle, 'rootfs'));
    expect(checkSpec(defaultSpec(), { bundle }).errors).toEqual([]);
  });

  it('parseSpec({ semantic: true }) refuses semantic errors with ERR_INVALID_CONFIG', () => {
    const bad = spec((d) => (d.process.cwd = 'relative'));
    expect(parseSpec(formatSpec(bad))).toBeTruthy();
    try {
      parseSpec(formatSpec(bad), { semantic: true });
      expect.unreachable();
    } catch (err) {
      expect(RuntimeSpecError.is(err, 'ERR_INVALID_CONFIG')).toBe(true);
      expect((err as Error).message).toContain('/process/cwd: must be an absolute path');
    }
  });
});
