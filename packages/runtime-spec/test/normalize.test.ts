import { describe, expect, it } from 'vitest';
import { defaultSpec, normalizeProcess, normalizeSpec, type Spec } from '../src/index.js';

describe('normalizeSpec', () => {
  it('fills the implicit defaults of a minimal spec', () => {
    const n = normalizeSpec({ ociVersion: '1.0.0', process: { cwd: '/' }, root: { path: 'rootfs' } });
    expect(n.root).toEqual({ path: 'rootfs', readonly: false });
    expect(n.process).toEqual({ cwd: '/', terminal: false, user: { uid: 0, gid: 0, additionalGids: [] }, args: [], env: [] });
    expect(n.mounts).toEqual([]);
    expect(n.hooks).toEqual({ prestart: [], createRuntime: [], createContainer: [], startContainer: [], poststart: [], poststop: [] });
    expect(n.annotations).toEqual({});
    expect(n.linux).toEqual({ namespaces: [], uidMappings: [], gidMappings: [], devices: [], maskedPaths: [], readonlyPaths: [], sysctl: {} });
  });

  it('keeps a spec without process without one', () => {
    expect(normalizeSpec({ ociVersion: '1.0.0' }).process).toBeUndefined();
  });

  it('mount types and sources, capability names, empty namespace paths', () => {
    const spec: Spec = {
      ociVersion: '1.0.2',
      root: { path: '/r', readonly: true },
      process: { cwd: '/', user: { uid: 1, gid: 2, umask: 18 }, capabilities: { bounding: ['kill', 'CAP_CHOWN', 'cap_net_raw'] } },
      mounts: [
        { destination: '/a', source: '/host', options: ['rbind', 'ro'] },
        { destination: '/b' },
        { destination: '/c', type: 'tmpfs', source: 'tmpfs' },
      ],
      linux: { namespaces: [{ type: 'pid', path: '' }, { type: 'network', path: '/proc/1/ns/net' }] },
    };
    const n = normalizeSpec(spec);
    expect(n.root).toEqual({ path: '/r', readonly: true });
    expect(n.process?.user).toEqual({ uid: 1, gid: 2, umask: 18, additionalGids: [] });
    expect(n.process?.capabilities).toEqual({ bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW'] });
    expect(n.mounts).toEqual([
      { destination: '/a', type: 'bind', source: '/host', options: ['rbind', 'ro'] },
      { destination: '/b', type: 'none', source: 'none', options: [] },
      { destination: '/c', type: 'tmpfs', source: 'tmpfs', options: [] },
    ]);
    expect(n.linux.namespaces).toEqual([{ type: 'pid' }, { type: 'network', path: '/proc/1/ns/net' }]);
  });

  it('does not modify its input, and is idempotent', () => {
    const spec = defaultSpec();
    const before = JSON.stringify(spec);
    const n = normalizeSpec(spec);
    expect(JSON.stringify(spec)).toBe(before);
    expect(normalizeSpec(n)).toEqual(n);
    n.mounts[0]!.options.push('x');
    expect(spec.mounts![0]!.options).toBeUndefined();
  });

  it('normalizeProcess alone (exec --process)', () => {
    expect(normalizeProcess({ cwd: '/tmp', args: ['ls'], terminal: true })).toEqual({
      cwd: '/tmp',
      args: ['ls'],
      env: [],
      terminal: true,
      user: { uid: 0, gid: 0, additionalGids: [] },
    });
  });
});
