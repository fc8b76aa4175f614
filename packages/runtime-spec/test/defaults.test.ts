import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_OCI_VERSION, defaultSpec, formatSpec, validateSpec } from '../src/index.js';
import { officialErrors, officialSchemas } from './helpers/official.js';
import { cleanup, has, sh, tmp } from './helpers/tmp.js';

afterAll(cleanup);

/** Run `runc spec [args]` in a fresh dir (optionally as another user) and return the file's text. */
function runcSpec(args: string[], asUser?: { uid: number; gid: number }): string {
  const dir = tmp();
  if (asUser) {
    chmodSync(dir, 0o777);
    sh('setpriv', [`--reuid=${asUser.uid}`, `--regid=${asUser.gid}`, '--clear-groups', 'runc', 'spec', ...args], dir);
  } else {
    sh('runc', ['spec', ...args], dir);
  }
  return readFileSync(join(dir, 'config.json'), 'utf8');
}

const runc = has('runc');

describe('defaultSpec against `runc spec` (runc 1.1.5)', () => {
  it.skipIf(!runc)('equals `runc spec` field by field and byte for byte', () => {
    const text = runcSpec([]);
    expect(defaultSpec()).toStrictEqual(JSON.parse(text));
    expect(formatSpec(defaultSpec())).toBe(text);
  });

  it.skipIf(!runc)('equals `runc spec --rootless` for the calling user', () => {
    const text = runcSpec(['--rootless']);
    expect(defaultSpec({ rootless: true })).toStrictEqual(JSON.parse(text));
    expect(formatSpec(defaultSpec({ rootless: true }))).toBe(text);
  });

  it.skipIf(!runc || process.geteuid?.() !== 0 || !has('setpriv'))('maps the effective uid/gid of another caller like runc does', () => {
    const text = runcSpec(['--rootless'], { uid: 65534, gid: 65533 });
    const parsed = JSON.parse(text) as { linux: { uidMappings: unknown; gidMappings: unknown } };
    expect(parsed.linux.uidMappings).toEqual([{ containerID: 0, hostID: 65534, size: 1 }]);
    expect(parsed.linux.gidMappings).toEqual([{ containerID: 0, hostID: 65533, size: 1 }]);
    expect(defaultSpec({ rootless: true, uid: 65534, gid: 65533 })).toStrictEqual(parsed);
  });

  it('writes runc’s ociVersion unless told otherwise', () => {
    expect(defaultSpec().ociVersion).toBe(DEFAULT_OCI_VERSION);
    expect(DEFAULT_OCI_VERSION).toBe('1.0.2-dev');
    expect(defaultSpec({ ociVersion: '1.2.0' }).ociVersion).toBe('1.2.0');
  });

  it('rootless: user namespace, no network namespace, no device cgroup rules, sysfs bound, devpts without gid=5', () => {
    const s = defaultSpec({ rootless: true, uid: 1000, gid: 1000 });
    const types = s.linux?.namespaces?.map((n) => n.type);
    expect(types).toContain('user');
    expect(types).not.toContain('network');
    expect(s.linux?.resources).toBeUndefined();
    expect(s.mounts?.find((m) => m.destination === '/sys')).toEqual({
      destination: '/sys',
      type: 'none',
      source: '/sys',
      options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
    });
    expect(s.mounts?.find((m) => m.destination === '/dev/pts')?.options).not.toContain('gid=5');
    // runc 1.1.5 keeps the (read-only) cgroup mount in rootless mode.
    expect(s.mounts?.some((m) => m.destination === '/sys/fs/cgroup')).toBe(true);
  });

  it('returns a fresh object each call', () => {
    const a = defaultSpec();
    a.process!.args!.push('x');
    a.mounts!.pop();
    expect(defaultSpec().process!.args).toEqual(['sh']);
    expect(defaultSpec().mounts).toHaveLength(7);
  });

  it('refuses ids that are not uint32', () => {
    expect(() => defaultSpec({ rootless: true, uid: -1 })).toThrow(RangeError);
    expect(() => defaultSpec({ rootless: true, gid: 1.5 })).toThrow(RangeError);
  });

  it('is valid against our schema and every official one', () => {
    for (const s of [defaultSpec(), defaultSpec({ rootless: true, uid: 1000, gid: 1000 })]) {
      expect(validateSpec(s)).toEqual({ valid: true, errors: [] });
      for (const o of officialSchemas()) expect(officialErrors(o.config, s), o.name).toEqual([]);
    }
  });

  it('has not drifted (file snapshots)', async () => {
    await expect(`${formatSpec(defaultSpec())}\n`).toMatchFileSnapshot('__snapshots__/default-spec.json');
    await expect(`${formatSpec(defaultSpec({ rootless: true, uid: 1000, gid: 1000 }))}\n`).toMatchFileSnapshot(
      '__snapshots__/default-spec-rootless.json',
    );
  });
});
