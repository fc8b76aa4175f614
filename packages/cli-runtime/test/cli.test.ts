// The oci-runtime command line against runc's: formats, flags, exit codes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../src/options.js';
import { tabwriter } from '../src/table.js';
import { rfc3339nano } from '../src/commands/list.js';
import { CLI, busyboxRootfs, bundle as makeBundle, capture, removeTmp, tmp } from './helpers.js';
import type { R } from './helpers.js';

// the sh launcher npm links as the `oci-runtime` bin, as users and engines run it (test/launcher.test.ts: it and
// `node bin/oci-runtime.js` run the same bundle)
const HELPER = fileURLToPath(new URL('../../runtime/native/oci-runtime-init', import.meta.url));
afterAll(removeTmp);

const exec = (cmd: string, args: string[], cwd?: string): Promise<R> => capture(cmd, args, cwd ? { cwd } : {});
let ROOT = '';
let RROOT = '';
const ours = (args: string[], cwd?: string) => exec(CLI, ['--root', ROOT, ...args], cwd);
const runc = (args: string[], cwd?: string) => exec('runc', ['--root', RROOT, ...args], cwd);
let rootfs = '';
let n = 0;
const id = (p: string) => `${p}-${process.pid}-${++n}`;

const bundle = (args: string[]): string => makeBundle(rootfs, args);

/** detached start under our helper's subreaper so the init is reaped by us */
async function detached(args: string[]): Promise<{ done: Promise<number> }> {
  const pidFile = join(tmp('oci-cli-p-'), 'pid');
  const fd = openSync('/dev/null', 'w');
  const c = spawn(HELPER, ['reap', CLI, '--root', ROOT, args[0]!, '--pid-file', pidFile, ...args.slice(1)], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const done = new Promise<number>((r) => c.on('exit', (code) => r(code ?? 1)));
  let exited = false;
  void done.then(() => (exited = true));
  for (let i = 0; i < 1000 && !existsSync(pidFile) && !exited; i++) await new Promise((r) => setTimeout(r, 10));
  if (!existsSync(pidFile)) throw new Error(`${args.join(' ')} did not start`);
  return { done };
}

beforeAll(() => {
  ROOT = tmp('oci-cli-root-');
  RROOT = tmp('oci-cli-rroot-');
  rootfs = busyboxRootfs();
});

describe('argument parsing (runc/urfave-cli rules)', () => {
  it('parses global flags, command flags and stops at the first positional', () => {
    const p = parseArgs(['--root', '/r', '--log-format=json', 'exec', '-t', '-e', 'A=1', '-e', 'B=2', '--cwd', '/x', 'c1', 'sh', '-c', 'echo -e hi']);
    expect(p).toEqual({
      command: 'exec',
      global: expect.objectContaining({ root: '/r', 'log-format': 'json' }),
      opts: expect.objectContaining({ tty: true, env: ['A=1', 'B=2'], cwd: '/x' }),
      args: ['c1', 'sh', '-c', 'echo -e hi'],
    });
    expect(parseArgs(['kill', '--all', 'c1', 'KILL'])?.args).toEqual(['c1', 'KILL']);
    expect(parseArgs(['run', '-d', '--bundle', 'b', '--preserve-fds', '2', 'c'])?.opts).toMatchObject({ detach: true, bundle: 'b', 'preserve-fds': 2 });
    expect(parseArgs(['--systemd-cgroup', 'delete', '--force', 'c'])?.opts).toMatchObject({ force: true });
    expect(parseArgs(['run', '--bogus', 'c'])).toBeUndefined();
    expect(parseArgs(['--help'])).toBeUndefined();
  });

  it('renders tables like Go tabwriter and times like RFC3339Nano', () => {
    expect(tabwriter([['ID', 'PID'], ['a', '1']])).toBe('ID          PID\na           1\n');
    expect(rfc3339nano('2024-01-02T03:04:05.120Z')).toBe('2024-01-02T03:04:05.12Z');
    expect(rfc3339nano('2024-01-02T03:04:05.000Z')).toBe('2024-01-02T03:04:05Z');
  });
});

describe('oci-runtime vs runc', () => {
  it('list on an empty root: same table header, JSON null, quiet nothing', async () => {
    const o = await ours(['list']);
    const r = await runc(['list']);
    expect(o.stdout).toBe(r.stdout);
    expect((await ours(['list', '-f', 'json'])).stdout).toBe((await runc(['list', '-f', 'json'])).stdout);
    expect((await ours(['list', '-q'])).stdout).toBe('');
  });

  it('run prints the container output and exits with its status', async () => {
    const b = bundle(['sh', '-c', 'echo out; echo err >&2; exit 42']);
    const o = await ours(['run', '--bundle', b, id('x')]);
    const r = await runc(['run', '--bundle', b, id('rx')]);
    expect(o).toEqual({ code: 42, stdout: 'out\n', stderr: 'err\n' });
    expect(r).toEqual(o);
  });

  it('run in the foreground forwards signals to the container', async () => {
    const b = bundle(['sh', '-c', 'trap "exit 3" TERM; while :; do sleep 0.1; done']);
    const c = spawn(CLI, ['--root', ROOT, 'run', '--bundle', b, id('sig')], { stdio: 'ignore' });
    const code = new Promise<number | null>((r) => c.on('exit', (x) => r(x)));
    await new Promise((r) => setTimeout(r, 1500));
    c.kill('SIGTERM');
    expect(await code).toBe(3);
  });

  it('run in the foreground exits 128+N when the container dies from signal N', async () => {
    const b = bundle(['sleep', '100']);
    const cid = id('sig9');
    const c = spawn(CLI, ['--root', ROOT, 'run', '--bundle', b, cid], { stdio: 'ignore' });
    const code = new Promise<number | null>((r) => c.on('exit', (x) => r(x)));
    for (let i = 0; i < 200; i++) {
      const s = await ours(['state', cid]);
      if (s.code === 0 && JSON.parse(s.stdout).status === 'running') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await ours(['kill', cid, 'KILL'])).code).toBe(0);
    expect(await code).toBe(137);
    expect((await ours(['state', cid])).code).toBe(1);
  });

  it('state/delete/kill of a missing container: exit 1 and runc\'s message; delete -f succeeds', async () => {
    for (const cmd of [['state', 'nope'], ['delete', 'nope'], ['kill', 'nope'], ['start', 'nope'], ['ps', 'nope'], ['pause', 'nope']]) {
      const o = await ours(cmd);
      const r = await runc(cmd);
      expect(o.code, cmd.join(' ')).toBe(1);
      expect(r.code, cmd.join(' ')).toBe(1);
      expect(o.stderr).toMatch(/container does not exist/);
    }
    expect((await ours(['delete', '-f', 'nope'])).code).toBe(0);
    expect((await runc(['delete', '-f', 'nope'])).code).toBe(0);
  });

  it('kill accepts signal names with and without SIG, and numbers; rejects unknown ones', async () => {
    const b = bundle(['sh', '-c', 'trap "exit 3" USR1; trap "exit 4" HUP; while :; do sleep 0.1; done']);
    for (const sig of ['USR1', 'SIGHUP', '10']) {
      const cid = id('k');
      const { done } = await detached(['run', '-d', '--bundle', b, cid]);
      await new Promise((r) => setTimeout(r, 300));
      expect((await ours(['kill', cid, sig])).code).toBe(0);
      for (let i = 0; i < 100; i++) {
        if (JSON.parse((await ours(['state', cid])).stdout).status === 'stopped') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await ours(['delete', cid])).code).toBe(0);
      expect(await done).toBe(0);
    }
    const cid = id('kbad');
    const { done } = await detached(['run', '-d', '--bundle', b, cid]);
    const bad = await ours(['kill', cid, 'SIGBOGUS']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown signal/);
    expect((await ours(['delete', '-f', cid])).code).toBe(0);
    await done;
  });

  it('spec writes the same config.json as runc spec, and refuses to overwrite', async () => {
    const a = tmp('oci-cli-spec-');
    const b = tmp('oci-cli-spec-');
    expect((await ours(['spec', '--bundle', a])).code).toBe(0);
    expect((await runc(['spec', '--bundle', b])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(a, 'config.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')));
    const again = await ours(['spec', '--bundle', a]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/config.json exists/);
    const ra = tmp('oci-cli-spec-');
    const rb = tmp('oci-cli-spec-');
    await ours(['spec', '--rootless', '--bundle', ra]);
    await runc(['spec', '--rootless', '--bundle', rb]);
    expect(JSON.parse(readFileSync(join(ra, 'config.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(join(rb, 'config.json'), 'utf8')));
  });

  it('features prints a runtime-spec features document', async () => {
    const o = await ours(['features']);
    expect(o.code).toBe(0);
    const f = JSON.parse(o.stdout);
    expect(f.ociVersionMin).toBe('1.0.0');
    expect(f.hooks).toContain('createContainer');
    expect(f.linux.namespaces).toContain('user');
  });

  it('errors go to --log as JSON lines with --log-format json (what containerd reads)', async () => {
    const log = join(tmp('oci-cli-log-'), 'log.json');
    const o = await exec(CLI, ['--root', ROOT, '--log', log, '--log-format', 'json', 'state', 'nope']);
    expect(o.code).toBe(1);
    const line = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
    expect(line).toMatchObject({ level: 'error', msg: 'container does not exist' });
  });

  it('--debug logs each step of run and exec (stderr, or --log as JSON), without process arguments or environment', async () => {
    const b = bundle(['sh', '-c', 'echo out; sleep 30']);
    const cfg = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
    cfg.process.env = [...(cfg.process.env ?? []), 'SECRET_TOKEN=hunter2'];
    writeFileSync(join(b, 'config.json'), JSON.stringify(cfg));
    const x = id('dbg');
    // run -d: the container keeps our stdio, so stdout and stderr go to files and we wait for the exit only
    const files = tmp('oci-cli-dbg-');
    const [outFd, errFd] = [openSync(join(files, 'out'), 'w'), openSync(join(files, 'err'), 'w')];
    const code = await new Promise<number | null>((resolve) => {
      spawn(CLI, ['--root', ROOT, '--debug', 'run', '-d', x], { cwd: b, stdio: ['ignore', outFd, errFd] }).on('exit', resolve);
    });
    closeSync(outFd);
    closeSync(errFd);
    const o = { code, stderr: readFileSync(join(files, 'err'), 'utf8').replace(/^out\n/m, '') };
    expect(o.code, o.stderr).toBe(0);
    const lines = o.stderr.trim().split('\n');
    expect(lines.every((l) => /^time="[^"]+" level=debug msg=".*"$/.test(l))).toBe(true);
    const msgs = lines.map((l) => JSON.parse(l.replace(/^.*? msg=/, '')) as string);
    for (const want of [/^bundle .*: config.json ociVersion/, /^cgroups v[12]: /, /^clone with new namespaces 0x/, /^mount proc on \/proc \(proc\)$/, /^pivot_root into /, /^process 1 ready: execve \/bin\/sh \(3 args\)/, new RegExp(`^container ${x} created: pid \\d+$`)])
      expect(msgs.some((m) => want.test(m)), `${want} in\n${msgs.join('\n')}`).toBe(true);
    expect(o.stderr).not.toContain('hunter2');
    expect(o.stderr).not.toContain('echo out');
    const log = join(tmp('oci-cli-log-'), 'debug.json');
    const e = await exec(CLI, ['--root', ROOT, '--debug', '--log', log, '--log-format', 'json', 'exec', x, 'true']);
    expect(e).toMatchObject({ code: 0, stderr: '' });
    const logged = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(logged.every((l) => l.level === 'debug')).toBe(true);
    expect(logged.some((l) => /^exec in .* \(init \d+\): namespaces /.test(l.msg))).toBe(true);
    expect(logged.some((l) => /^process \d+ ready: execve \/bin\/true/.test(l.msg))).toBe(true);
    expect((await ours(['delete', '-f', x])).code).toBe(0);
    // without --debug: nothing
    const q = await exec(CLI, ['--root', ROOT, 'run', id('nodbg')], bundle(['true']));
    expect(q).toMatchObject({ code: 0, stderr: '' });
  });

  it('help and usage errors', async () => {
    const h = await exec(CLI, ['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/create/);
    expect(h.stdout).toMatch(/--root/);
    const u = await exec(CLI, ['state']);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/requires a container id/);
    const bad = await exec(CLI, ['frobnicate']);
    expect(bad.code).toBe(1);
    // a command's help, in runc's layout (it printed nothing before)
    for (const args of [['exec', '--help'], ['exec', '-h'], ['help', 'exec']]) {
      const c = await exec(CLI, [...args]);
      expect(c.code, args.join(' ')).toBe(0);
      expect(c.stdout).toMatch(/^NAME:\n {3}oci-runtime exec - execute new process inside the container\n\nUSAGE:\n {3}oci-runtime exec /);
      expect(c.stdout).toMatch(/^ {3}--apparmor value +set the AppArmor profile of the process/m);
      expect(c.stdout).toMatch(/^ {3}--tty, -t +allocate a pseudo-TTY$/m);
    }
    const runc = spawnSync('runc', ['exec', '--help'], { encoding: 'utf8' });
    for (const section of ['NAME:', 'USAGE:', 'OPTIONS:']) expect(runc.stdout).toContain(section);
  });

  it('--pid-file, --preserve-fds and exec --process', async () => {
    const b = bundle(['sleep', '1000']);
    const cid = id('pf');
    const { done } = await detached(['run', '-d', '--bundle', b, cid]);
    const pidFile = join(tmp('oci-cli-pf-'), 'exec.pid');
    const procFile = join(tmp('oci-cli-proc-'), 'process.json');
    writeFileSync(procFile, JSON.stringify({ cwd: '/tmp', args: ['sh', '-c', 'echo $X; pwd; id -u'], env: ['X=from-process-json', 'PATH=/bin'], user: { uid: 5, gid: 5 } }));
    const e = await ours(['exec', '--pid-file', pidFile, '--process', procFile, cid]);
    expect(e.stdout).toBe('from-process-json\n/tmp\n5\n');
    expect(Number(readFileSync(pidFile, 'utf8'))).toBeGreaterThan(0);
    // exec -d returns at once
    const d = await ours(['exec', '-d', cid, 'sleep', '1']);
    expect(d.code).toBe(0);
    expect((await ours(['delete', '-f', cid])).code).toBe(0);
    await done;

    // preserve-fds: fd 3 of the caller reaches the container
    const file = join(tmp('oci-cli-fd-'), 'f');
    writeFileSync(file, 'via-fd-3\n');
    const b2 = bundle(['sh', '-c', 'cat <&3; ls /proc/self/fd | wc -l']);
    const res = spawnSync(CLI, ['--root', ROOT, 'run', '--preserve-fds', '1', '--bundle', b2, id('fd')], {
      stdio: ['ignore', 'pipe', 'pipe', openSync(file, 'r')], encoding: 'utf8',
    });
    expect(res.stdout).toBe('via-fd-3\n5\n');
  });
});
