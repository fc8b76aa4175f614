import { describe, expect, it } from 'vitest';
import {
  capabilityNumber,
  featuresDocument,
  HOOK_NAMES,
  LINUX_CAPABILITIES,
  LINUX_NAMESPACES,
  MOUNT_OPTIONS,
  OCI_VERSION_MAX,
  OCI_VERSION_MIN,
  validateFeatures,
} from '../src/index.js';
import { has, sh } from './helpers/tmp.js';

describe('featuresDocument', () => {
  it('declares 1.0.0 .. 1.3.0, every hook, namespace and capability', () => {
    const f = featuresDocument();
    expect(f.ociVersionMin).toBe(OCI_VERSION_MIN);
    expect(f.ociVersionMax).toBe(OCI_VERSION_MAX);
    expect(f.hooks).toEqual([...HOOK_NAMES]);
    expect(f.linux?.namespaces).toEqual([...LINUX_NAMESPACES].sort());
    expect(f.linux?.namespaces).toContain('time');
    expect(f.linux?.capabilities).toEqual([...LINUX_CAPABILITIES]);
    expect(f.linux?.cgroup).toEqual({ v1: true, v2: true, systemd: false, systemdUser: false, rdma: false });
    expect(validateFeatures(f).valid).toBe(true);
  });

  it('takes overrides for what the machine supports', () => {
    const f = featuresDocument({
      linux: { seccomp: { enabled: false }, apparmor: { enabled: true } },
      annotations: { 'org.example.runtime.version': '0.1.0' },
      potentiallyUnsafeConfigAnnotations: ['org.example.'],
    });
    expect(f.linux?.seccomp).toEqual({ enabled: false });
    expect(f.linux?.apparmor).toEqual({ enabled: true });
    expect(f.linux?.capabilities).toHaveLength(41);
    expect(f.annotations).toEqual({ 'org.example.runtime.version': '0.1.0' });
    expect(f.potentiallyUnsafeConfigAnnotations).toEqual(['org.example.']);
  });

  it('returns fresh arrays', () => {
    featuresDocument().hooks!.pop();
    expect(featuresDocument().hooks).toHaveLength(6);
  });

  it.skipIf(!has('runc'))('matches `runc features` in hooks, mount options, capabilities and seccomp vocabulary', () => {
    const runc = JSON.parse(sh('runc', ['features'])) as ReturnType<typeof featuresDocument>;
    const ours = featuresDocument();
    expect(ours.hooks).toEqual(runc.hooks);
    expect(ours.mountOptions).toEqual(runc.mountOptions);
    expect(ours.linux?.capabilities).toEqual(runc.linux?.capabilities);
    expect(ours.linux?.seccomp?.actions).toEqual(runc.linux?.seccomp?.actions);
    expect(ours.linux?.seccomp?.operators).toEqual(runc.linux?.seccomp?.operators);
    expect(ours.linux?.seccomp?.archs).toEqual(runc.linux?.seccomp?.archs);
    // ours knows the time namespace (runtime-spec 1.1+), runc 1.1.5 does not.
    expect(ours.linux?.namespaces?.filter((n) => n !== 'time')).toEqual(runc.linux?.namespaces);
    expect(validateFeatures(runc).valid).toBe(true);
  });
});

describe('constants', () => {
  it('LINUX_CAPABILITIES is indexed by kernel capability number and matches <linux/capability.h>', () => {
    expect(LINUX_CAPABILITIES).toHaveLength(41);
    expect(capabilityNumber('CAP_CHOWN')).toBe(0);
    expect(capabilityNumber('CAP_SYS_ADMIN')).toBe(21);
    expect(capabilityNumber('net_bind_service')).toBe(10);
    expect(capabilityNumber('CAP_CHECKPOINT_RESTORE')).toBe(40);
    expect(capabilityNumber('CAP_NOPE')).toBeUndefined();
    expect(Object.isFrozen(LINUX_CAPABILITIES)).toBe(true);
  });

  it('MOUNT_OPTIONS are unique', () => {
    expect(new Set(MOUNT_OPTIONS).size).toBe(MOUNT_OPTIONS.length);
  });
});
