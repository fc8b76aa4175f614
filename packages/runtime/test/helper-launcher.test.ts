// How the helper is started: native/oci-spawn.node (posix_spawn, a socketpair, threads for waitpid and the
// socket) and node:child_process (OCI_RUNTIME_SPAWN=node) must behave the same, with runc as the oracle; and the
// `warm` mode of the helper that bin/oci-runtime starts before Node (native/init.c warm_main).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { helperLauncher } from '../src/helper-process.js';
import { OURS_CLI, generatorDefault, makeBundle, removeTemps, tmp } from './conformance-helpers.js';

const HELPER = fileURLToPath(new URL('../native/oci-runtime-init', import.meta.url));
const LAUNCHER = fileURLToPath(new URL('../../cli-runtime/bin/oci-runtime', import.meta.url));
type Launcher = 'native' | 'node' | 'runc';
const root = tmp('oci-launch-root-');

afterAll(() => {
  for (const l of ['native', 'node'])
    for (const id of ['d-' + l, 'p-' + l]) spawnSync(process.execPath, [OURS_CLI, '--root', join(root, l), 'delete', '-f', id]);
  spawnSync('runc', ['--root', join(root, 'runc'), 'delete', '-f', 'd-runc']);
  removeTemps();
});

function cli(who: Launcher, args: string[], cwd: string, stdio: ('pipe' | 'ignore' | number)[] = ['ignore', 'pipe', 'pipe']) {
  const cmd = who === 'runc' ? ['runc', '--root', join(root, who), ...args] : [process.execPath, OURS_CLI, '--root', join(root, who), ...args];
  const env = { ...process.env, OCI_RUNTIME_SPAWN: who === 'node' ? 'node' : 'native' };
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd, encoding: 'utf8', stdio, env, timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

async function bundle(args: string[]) {
  const c = generatorDefault(args);
  c.process.terminal = false;
  return (await makeBundle(c)).dir;
}

describe('starting the helper', () => {
  it('the addon is built and used by default', () => {
    expect(existsSync(fileURLToPath(new URL('../native/oci-spawn.node', import.meta.url)))).toBe(true);
    expect(helperLauncher()).toBe('native');
  });

  it('run: the same output, exit status and fds inside with either launcher, as runc', async () => {
    const dir = await bundle(['sh', '-c', 'echo out; echo err >&2; ls /proc/self/fd | tr "\\n" " "; exit 3']);
    const results = (['native', 'node', 'runc'] as const).map((who) => cli(who, ['run', 'r-' + who], dir));
    expect(results[0]).toEqual({ code: 3, stdout: 'out\n0 1 2 3 ', stderr: 'err\n' });
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('run: killed by a signal gives 128+N with either launcher, as runc', async () => {
    // not pid 1 (which ignores signals it has no handler for): no pid namespace
    const c = generatorDefault(['sh', '-c', 'kill -TERM $$; sleep 5']);
    c.process.terminal = false;
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    const dir = (await makeBundle(c)).dir;
    for (const who of ['native', 'node', 'runc'] as const) expect(cli(who, ['run', 's-' + who], dir).code, who).toBe(143);
  });

  it('--preserve-fds and stdio given as fds reach the container with either launcher, as runc', async () => {
    const dir = await bundle(['sh', '-c', 'cat <&3; echo to-file']);
    const work = tmp('oci-launch-');
    const outs: string[] = [];
    for (const who of ['native', 'node', 'runc'] as const) {
      const input = join(work, 'in-' + who);
      spawnSync('sh', ['-c', `printf 'fd three\\n' > ${input}`]);
      const fd3 = openSync(input, 'r');
      const out = openSync(join(work, 'out-' + who), 'w');
      try {
        const r = cli(who, ['run', '--preserve-fds', '1', 'p-' + who], dir, ['ignore', out, 'pipe', fd3]);
        expect(r.code, r.stderr).toBe(0);
      } finally {
        closeSync(fd3);
        closeSync(out);
      }
      outs.push(readFileSync(join(work, 'out-' + who), 'utf8'));
    }
    expect(outs).toEqual(['fd three\nto-file\n', 'fd three\nto-file\n', 'fd three\nto-file\n']);
  });

  it('detached: create, start, exec, kill and delete with either launcher; create returns while the container lives', async () => {
    const dir = await bundle(['sleep', '100']);
    for (const who of ['native', 'node'] as const) {
      const id = 'd-' + who;
      const t = Date.now();
      // the container keeps create's stdio: no pipe there, or the spawnSync would wait for the container
      const c = cli(who, ['create', id], dir, ['ignore', 'ignore', 'ignore']);
      expect(c.code).toBe(0);
      expect(Date.now() - t).toBeLessThan(10_000);
      expect(cli(who, ['start', id], dir).code).toBe(0);
      const e = cli(who, ['exec', id, 'sh', '-c', 'echo in; exit 7'], dir);
      expect({ code: e.code, stdout: e.stdout }).toEqual({ code: 7, stdout: 'in\n' });
      const st = JSON.parse(cli(who, ['state', id], dir).stdout);
      expect(st.status).toBe('running');
      expect(cli(who, ['kill', id, 'KILL'], dir).code).toBe(0);
      expect(cli(who, ['delete', '-f', id], dir).code).toBe(0);
    }
  });

  it('a container process that cannot exec fails the same way with either launcher, and leaves no state', async () => {
    const dir = await bundle(['/no/such/program']);
    const rs = (['native', 'node'] as const).map((who) => cli(who, ['run', 'f-' + who], dir));
    for (const [i, who] of (['native', 'node'] as const).entries()) {
      expect(rs[i]!.code, who).not.toBe(0);
      expect(rs[i]!.stderr, who).toMatch(/no such file/i);
      expect(cli(who, ['list', '-q'], dir).stdout, who).toBe('');
    }
    expect(rs[1]!.code).toBe(rs[0]!.code);
  });
  it('a failure after the helper started but before its plan leaves no process behind, with either launcher', async () => {
    const c = generatorDefault(['true']);
    c.process.terminal = false;
    c.linux.resources = { memory: { limit: -5 } }; // refused by the kernel when the cgroup is written
    const dir = (await makeBundle(c)).dir;
    for (const who of ['native', 'node'] as const) {
      // in a session of its own: whatever it started and left behind is still in that session
      const cmd = [process.execPath, OURS_CLI, '--root', join(root, who), 'run', 'early-' + who];
      const p = spawn('setsid', ['--wait', ...cmd], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OCI_RUNTIME_SPAWN: who } });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      const code = await new Promise<number>((res) => p.on('close', (c) => res(c ?? -1)));
      expect(code, who).toBe(1);
      expect(err, who).toMatch(/memory\.limit_in_bytes|memory\.max/);
      const sid = p.pid!;
      let left = '';
      for (let i = 0; i < 50; i++) {
        left = spawnSync('pgrep', ['-s', String(sid)], { encoding: 'utf8' }).stdout.trim();
        if (!left) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(left, who).toBe('');
      expect(cli(who, ['list', '-q'], dir).stdout, who).toBe('');
    }
  });
});

describe('the warm mode (bin/oci-runtime starts it before Node for create, run and exec)', () => {
  it('stays in its own cgroup, and exits soon after its parent does', async () => {
    const mine = readFileSync('/proc/self/cgroup', 'utf8');
    // sh starts it in the background and exits after 200 ms: the warm process must follow within ~4 ms
    const sh = spawn('sh', ['-c', `"${HELPER}" warm & echo $!; sleep 0.2`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((res) => sh.stdout.once('data', (d: Buffer) => res(Number(String(d).trim()))));
    expect(pid).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 50));
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    expect(stat).toMatch(/\(oci-runtime-ini\) [RSD]/);
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toBe(mine);
    // its stdio is what sh gave it here; the launcher gives it /dev/null (checked below)
    await new Promise((r) => sh.once('exit', r));
    const deadline = Date.now() + 1000;
    while (Date.now() < deadline && isRunning(pid)) await new Promise((r) => setTimeout(r, 5));
    expect(isRunning(pid)).toBe(false);
  });

  it('stops by itself after its bound when the parent lives on', () => {
    const t = Date.now();
    const r = spawnSync(HELPER, ['warm'], { timeout: 5000 });
    expect(r.status).toBe(0);
    expect(Date.now() - t).toBeLessThan(2000);
  });

  it('the launcher starts it detached from the caller\'s stdio: a piped `run` ends when the runtime does', async () => {
    const dir = await bundle(['true']);
    const p = spawn(LAUNCHER, ['--root', join(root, 'launcher'), 'run', 'l1'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    // find the warm process while the runtime runs, and look at its fds
    let fds: string[] | undefined;
    const look = setInterval(() => {
      const found = spawnSync('pgrep', ['-P', String(p.pid), '-f', 'oci-runtime-init warm'], { encoding: 'utf8' }).stdout.trim();
      if (found && !fds) {
        try {
          fds = [0, 1, 2].map((i) => readlinkSync(`/proc/${found.split('\n')[0]}/fd/${i}`));
        } catch { /* gone already */ }
      }
    }, 2);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number>((res) => p.on('close', (c) => res(c ?? -1)));
    clearInterval(look);
    expect({ code, out }).toEqual({ code: 0, out: '' });
    expect(fds).toEqual(['/dev/null', '/dev/null', '/dev/null']);
  });
});

function isRunning(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
