// Rootless containers: oci-runtime run as an unprivileged user (spec --rootless, cgroups skipped, setgroups denied
// for the gid map, the state under $XDG_RUNTIME_DIR/oci-runtime), runc 1.1.5 in the same situation as the oracle.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OURS_CLI, baseRootfs, removeTemps, tmp } from './conformance-helpers.js';

const USER = 'oci-rootless-test';
let dir: string;
let uid: number;

function as(cmd: string[], cwd: string, detached = false): { code: number; stdout: string; stderr: string } {
  // `create` hands its stdio to the container, which outlives it: a pipe there would never reach EOF
  const out = detached ? openSync(join(dir, 'create.log'), 'w') : 'pipe';
  try {
    const r = spawnSync('runuser', ['-u', USER, '--', 'env', `XDG_RUNTIME_DIR=${join(dir, 'xdg')}`, `PATH=${process.env.PATH}`, ...cmd], { cwd, encoding: 'utf8', stdio: ['ignore', out, out], timeout: 60_000 });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: detached ? readFileSync(join(dir, 'create.log'), 'utf8') : r.stderr };
  } finally {
    if (typeof out === 'number') closeSync(out);
  }
}
const ours = (args: string[], cwd: string, detached = false) => as([process.execPath, OURS_CLI, ...args], cwd, detached);

beforeAll(async () => {
  if (spawnSync('id', ['-u', USER]).status !== 0) {
    const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`useradd: ${r.stderr}`);
  }
  uid = Number(spawnSync('id', ['-u', USER], { encoding: 'utf8' }).stdout.trim());
  dir = tmp('oci-rootless-');
  chmodSync(dir, 0o755);
  const base = await baseRootfs();
  for (const b of ['ours', 'runc']) {
    mkdirSync(join(dir, b));
    const cp = spawnSync('cp', ['-a', base, join(dir, b, 'rootfs')], { encoding: 'utf8' });
    if (cp.status !== 0) throw new Error(`cp: ${cp.stderr}`);
  }
  mkdirSync(join(dir, 'xdg'), { mode: 0o700 });
  spawnSync('chown', ['-R', `${USER}:`, dir]);
});
afterAll(() => {
  spawnSync('runuser', ['-u', USER, '--', 'runc', '--root', join(dir, 'xdg', 'runc'), 'delete', '-f', 'rl-runc']);
  for (const id of ['rl-2', 'rl-3']) ours(['delete', '-f', id], dir);
  removeTemps();
});

describe('rootless containers', () => {
  it('spec --rootless, then run: the same output and exit status as runc for the unprivileged user', async () => {
    const specs: Record<string, any> = {};
    for (const [b, cmd] of [['ours', [process.execPath, OURS_CLI, 'spec', '--rootless']], ['runc', ['runc', 'spec', '--rootless']]] as const) {
      const r = as([...cmd], join(dir, b));
      expect(r.code, r.stderr).toBe(0);
      const c = JSON.parse(readFileSync(join(dir, b, 'config.json'), 'utf8'));
      c.process.terminal = false;
      c.root.readonly = false;
      c.process.args = ['sh', '-c', 'id; cat /proc/self/uid_map /proc/self/gid_map | tr -s " "; echo ok > /tmp/f && cat /tmp/f'];
      writeFileSync(join(dir, b, 'config.json'), JSON.stringify(c));
      specs[b] = c;
    }
    expect(specs.ours.linux.uidMappings).toEqual([{ containerID: 0, hostID: uid, size: 1 }]);
    const o = ours(['run', 'rl-ours'], join(dir, 'ours'));
    const r = as(['runc', '--root', join(dir, 'xdg', 'runc'), 'run', 'rl-runc'], join(dir, 'runc'));
    expect(r.code, r.stderr).toBe(0);
    expect({ code: o.code, stdout: o.stdout, stderr: o.stderr }).toEqual({ code: 0, stdout: r.stdout, stderr: '' });
    expect(o.stdout).toContain(`0 ${uid} 1`);
  });

  it('create, start, list, exec, kill and delete as the unprivileged user, state under $XDG_RUNTIME_DIR/oci-runtime', async () => {
    const cwd = join(dir, 'ours');
    const c = JSON.parse(readFileSync(join(cwd, 'config.json'), 'utf8'));
    c.process.args = ['sleep', '1000'];
    writeFileSync(join(cwd, 'config.json'), JSON.stringify(c));
    const created = ours(['create', 'rl-2'], cwd, true);
    expect(created.code, created.stderr).toBe(0);
    expect(ours(['start', 'rl-2'], cwd).code).toBe(0);
    const list = ours(['list', '-f', 'json'], cwd);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: 'rl-2', status: 'running', owner: USER })]);
    const e = ours(['exec', 'rl-2', 'id', '-u'], cwd);
    expect({ code: e.code, stdout: e.stdout, stderr: e.stderr }).toEqual({ code: 0, stdout: '0\n', stderr: '' });
    expect(ours(['kill', 'rl-2', 'KILL'], cwd).code).toBe(0);
    expect(ours(['delete', '-f', 'rl-2'], cwd).code).toBe(0);
    expect(ours(['list', '-q'], cwd).stdout).toBe('');
    expect(spawnSync('ls', [join(dir, 'xdg', 'oci-runtime')]).status).toBe(0);
  });

  it('a rootless config that asks for resource limits it cannot get fails clearly and leaves nothing', () => {
    const cwd = join(dir, 'ours');
    const c = JSON.parse(readFileSync(join(cwd, 'config.json'), 'utf8'));
    c.process.args = ['true'];
    c.linux.resources = { memory: { limit: 64 << 20 } };
    writeFileSync(join(cwd, 'config.json'), JSON.stringify(c));
    const r = ours(['run', 'rl-3'], cwd);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/rootless container: cannot create cgroup/);
    expect(ours(['list', '-q'], cwd).stdout).toBe('');
  });
});
