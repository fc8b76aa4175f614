// Replayed runs (docs/cli-runtime.md, "Replayed runs"): the launcher starts native/oci-runtime-run for `run`, which
// repeats a run Node recorded without starting Node, or hands the command to Node. OCI_RUNTIME_NATIVE=require makes
// a hand-over an error (exit 125), so a success with it proves the run was replayed.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, busyboxRootfs, bundle as makeBundle, capture, removeTmp, tmp } from './helpers.js';

afterAll(removeTmp);

const exec = (args: string[], env: Record<string, string> = {}, root = ROOT) => capture(CLI, ['--root', root, ...args], { env });
const replay = (args: string[], root = ROOT) => exec(args, { OCI_RUNTIME_NATIVE: 'require' }, root);
const node = (args: string[], root = ROOT) => exec(args, { OCI_RUNTIME_NATIVE: '0' }, root);

let ROOT = '';
let rootfs = '';
let n = 0;
const id = (p: string) => `${p}-${process.pid}-${++n}`;
const recordings = (root = ROOT) => (existsSync(join(root, '@run-plans')) ? readdirSync(join(root, '@run-plans')) : []);
const cgroupDir = (cid: string) => `/sys/fs/cgroup/pids/oci-runtime/${cid}`;

const makeRootfs = busyboxRootfs;
const bundle = (args: string[], edit: (c: Record<string, any>) => void = () => {}, fs = rootfs) => makeBundle(fs, args, edit);

/** the one recording of ROOT, as text */
function recording(root = ROOT): { file: string; text: string } {
  const names = recordings(root);
  expect(names).toHaveLength(1);
  const file = join(root, '@run-plans', names[0]!);
  return { file, text: readFileSync(file, 'utf8') };
}

beforeAll(() => {
  rootfs = makeRootfs();
});

describe('oci-runtime run, replayed', () => {
  it('a second run of a bundle is replayed without Node: same output, exit status, clean-up; any id', async () => {
    ROOT = tmp('oci-replay-root-');
    const b = bundle(['sh', '-c', 'echo out $HOME; echo err >&2; exit 42']);
    // nothing recorded yet: with require, the front end refuses to hand over
    const none = await replay(['run', '--bundle', b, id('r')]);
    expect(none.code).toBe(125);
    expect(none.stderr).toMatch(/not done natively: no recordings/);
    const first = await exec(['run', '--bundle', b, id('r')]);
    expect(first).toEqual({ code: 42, stdout: 'out /\n', stderr: 'err\n' });
    const rec = recording();
    expect(statSync(rec.file).mode & 0o777).toBe(0o600);
    expect(statSync(join(ROOT, '@run-plans')).mode & 0o777).toBe(0o700);
    for (const cid of [id('r'), id('other-id'), 'x']) {
      expect(await replay(['run', '--bundle', b, cid])).toEqual(first);
      expect(existsSync(join(ROOT, cid))).toBe(false);
      expect(existsSync(cgroupDir(cid))).toBe(false);
    }
    // `list` never shows the recordings
    expect((await exec(['list', '-q'])).stdout).toBe('');
    // the same from another directory with a relative --bundle, and with -b=
    const rel = await capture(CLI, ['--root', ROOT, 'run', '-b=.', id('r')], { cwd: b, env: { OCI_RUNTIME_NATIVE: 'require' } });
    expect(rel).toEqual({ code: 42, stdout: 'out /\n', stderr: 'err\n' });
  });

  it('a bundle with the same config.json is replayed too, with its own rootfs (root.path relative to it)', async () => {
    ROOT = tmp('oci-replay-root-');
    const make = (marker: string) => {
      const b = bundle(['sh', '-c', 'cat /marker; pwd'], (c) => { c.root.path = 'rootfs'; });
      const fs = makeRootfs();
      writeFileSync(join(fs, 'marker'), `${marker}\n`);
      renameSync(fs, join(b, 'rootfs'));
      return b;
    };
    const a = make('first');
    const b = make('second');
    expect(readFileSync(join(a, 'config.json'), 'utf8')).toBe(readFileSync(join(b, 'config.json'), 'utf8'));
    expect(await exec(['run', '--bundle', a, id('rb')])).toEqual({ code: 0, stdout: 'first\n/\n', stderr: '' });
    expect(await replay(['run', '--bundle', b, id('rb')])).toEqual({ code: 0, stdout: 'second\n/\n', stderr: '' });
    expect(recording().text).toMatch(/^key \S*bundle=\*/m);
    // a different config.json in a third bundle: not this recording
    const c = bundle(['sh', '-c', 'echo other'], (x) => { x.root.path = 'rootfs'; });
    renameSync(makeRootfs(), join(c, 'rootfs'));
    expect((await replay(['run', '--bundle', c, id('rb')])).code).toBe(125);
  });

  it('a caller that closed its stdin: the container gets /dev/null, as from Node, not one of the front end\'s fds', async () => {
    ROOT = tmp('oci-replay-root-');
    const b = bundle(['readlink', '/proc/self/fd/0']);
    const closed = (env: Record<string, string>) => capture('sh', ['-c', 'exec 0<&-; exec "$@"', 'sh', CLI, '--root', ROOT, 'run', '--bundle', b, id('s')], { env });
    const viaNode = await closed({ OCI_RUNTIME_NATIVE: '0' });
    expect(viaNode).toEqual({ code: 0, stdout: '/dev/null\n', stderr: '' });
    expect(await closed({ OCI_RUNTIME_NATIVE: 'require' })).toEqual(viaNode);
  });

  it('create and run -d are recorded and replayed too, each on its own', async () => {
    ROOT = tmp('oci-replay-root-');
    const b = bundle(['sleep', '1000']);
    const pid = join(tmp('oci-replay-pid-'), 'pid');
    const quietly = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(CLI, ['--root', ROOT, ...args], { stdio: 'ignore', env: { ...process.env, ...env } }).status;
    const state = async (cid: string) => JSON.parse((await exec(['state', cid])).stdout);
    // the first of each is Node's (it records), then they replay
    expect(quietly(['create', '--pid-file', pid, '--bundle', b, 'c-node'])).toBe(0);
    expect(quietly(['run', '-d', '--pid-file', pid, '--bundle', b, 'd-node'])).toBe(0);
    expect(recordings()).toHaveLength(2);
    expect(quietly(['create', '--pid-file', pid, '--bundle', b, 'c-replayed'], { OCI_RUNTIME_NATIVE: 'require' })).toBe(0);
    const c = await state('c-replayed');
    expect(c).toMatchObject({ status: 'created', bundle: b });
    expect(Number(readFileSync(pid, 'utf8'))).toBe(c.pid);
    expect(existsSync(join(ROOT, 'c-replayed', 'exec.fifo'))).toBe(true);
    expect((await exec(['start', 'c-replayed'])).code).toBe(0);
    expect(await state('c-replayed')).toMatchObject({ status: 'running', pid: c.pid });
    expect(quietly(['run', '-d', '--pid-file', pid, '--bundle', b, 'd-replayed'], { OCI_RUNTIME_NATIVE: 'require' })).toBe(0);
    const d = await state('d-replayed');
    expect(d.status).toBe('running');
    expect(Number(readFileSync(pid, 'utf8'))).toBe(d.pid);
    expect(readFileSync(`/proc/${d.pid}/cmdline`, 'utf8')).toBe('sleep\u00001000\u0000');
    // the two made the same state.json as Node's, but for their ids and times
    const norm = (cid: string) => JSON.parse(readFileSync(join(ROOT, cid, 'state.json'), 'utf8').split(cid).join('ID'));
    const strip = (x: Record<string, unknown>) => ({ ...x, pid: 0, pidStart: '', created: '' });
    expect(strip(norm('c-replayed'))).toEqual(strip(norm('c-node')));
    expect(strip(norm('d-replayed'))).toEqual(strip(norm('d-node')));
    for (const cid of ['c-node', 'd-node', 'c-replayed', 'd-replayed']) expect((await exec(['delete', '-f', cid])).code).toBe(0);
    expect(recordings()).toHaveLength(2);
  });

  it('what the container sees is what it sees when Node runs it (capabilities, mounts, ids, hostname, rlimits, env)', async () => {
    ROOT = tmp('oci-replay-root-');
    const script = 'grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status; cut -d" " -f2,3,4 /proc/self/mounts; id; hostname; ulimit -n; env | sort; cat /proc/self/cgroup | cut -d: -f2,3; ls /dev';
    const b = bundle(['sh', '-c', script]);
    const viaNode = await node(['run', '--bundle', b, 'same-id']);
    expect(viaNode.code).toBe(0);
    expect(viaNode.stdout).toMatch(/CapBnd/);
    await exec(['run', '--bundle', b, 'same-id']);
    expect(await replay(['run', '--bundle', b, 'same-id'])).toEqual(viaNode);
  });

  // a hybrid host's cgroup2 tree (this machine's kind), used alone through OCI_RUNTIME_CGROUP_ROOT
  it.skipIf(!existsSync('/sys/fs/cgroup/unified/cgroup.controllers'))('cgroup v2 (the unified hierarchy alone): the controllers are enabled and the cgroup made and removed as Node does', async () => {
    ROOT = tmp('oci-replay-root-');
    const v2 = { OCI_RUNTIME_CGROUP_ROOT: '/sys/fs/cgroup/unified' };
    const b = bundle(['sh', '-c', 'cat /proc/self/cgroup; ls /sys/fs/cgroup | grep -c cgroup.'], (c) => { c.linux.cgroupsPath = '/oci-replay-v2/x'; });
    // the parent is made (and its controllers enabled) by each run: Node's first, then the replay's
    const parent = '/sys/fs/cgroup/unified/oci-replay-v2';
    const viaNode = await exec(['run', '--bundle', b, id('v2')], v2);
    expect(viaNode.code).toBe(0);
    expect(viaNode.stdout).toMatch(/^0::\/oci-replay-v2\/x$/m);
    require_rmdir(parent);
    const r = await exec(['run', '--bundle', b, id('v2')], { ...v2, OCI_RUNTIME_NATIVE: 'require' });
    expect(r).toEqual(viaNode);
    expect(readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8').trim()).toBe(readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim());
    expect(existsSync(join(parent, 'x'))).toBe(false);
    require_rmdir(parent);
  });

  it('state.json, --pid-file and --keep: the replayed container is the one Node would have made', async () => {
    ROOT = tmp('oci-replay-root-');
    const b = bundle(['true']);
    const pidDir = tmp('oci-replay-pid-');
    // the pid file is part of what a recording is for (as are the root, bundle, --no-pivot, --no-new-keyring, --keep)
    const args = (cid: string) => ['run', '--keep', '--pid-file', join(pidDir, 'pid'), '--bundle', b, cid];
    expect((await node(args('by-node'))).code).toBe(0);
    expect((await replay(['run', '--keep', '--bundle', b, 'no-pid-file'])).code).toBe(125);
    expect((await replay(['run', '--pid-file', join(pidDir, 'pid'), '--bundle', b, 'no-keep'])).code).toBe(125);
    expect((await replay(args('replayed'))).code).toBe(0);
    const read = (cid: string) => JSON.parse(readFileSync(join(ROOT, cid, 'state.json'), 'utf8'));
    const a = read('by-node');
    const r = read('replayed');
    expect(Number(readFileSync(join(pidDir, 'pid'), 'utf8'))).toBe(r.pid);
    expect(readdirSync(pidDir)).toEqual(['pid']);
    expect(r.pid).toBeGreaterThan(0);
    expect(r.pidStart).toMatch(/^\d+$/);
    expect(Date.now() - Date.parse(r.created)).toBeLessThan(60_000);
    expect(r.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const norm = (s: Record<string, any>, cid: string) => JSON.parse(JSON.stringify({ ...s, pid: 0, pidStart: '', created: '' }).split(cid).join('ID'));
    expect(norm(r, 'replayed')).toEqual(norm(a, 'by-node'));
    // the Node commands read it: stopped, then deleted with its cgroups
    const st = await exec(['state', 'replayed']);
    expect(JSON.parse(st.stdout)).toMatchObject({ id: 'replayed', status: 'stopped', bundle: b });
    expect(existsSync(cgroupDir('replayed'))).toBe(true);
    expect((await exec(['delete', 'replayed'])).code).toBe(0);
    expect(existsSync(join(ROOT, 'replayed'))).toBe(false);
    expect(existsSync(cgroupDir('replayed'))).toBe(false);
    await exec(['delete', 'by-node']);
  });

  it('a replayed container runs like any other: state and list show it, signals to the runtime reach it, kill ends it', async () => {
    ROOT = tmp('oci-replay-root-');
    const b = bundle(['sh', '-c', 'trap "echo got TERM; exit 3" TERM; echo up; while :; do sleep 0.05; done']);
    const byNode = started(['run', '--bundle', b, 'sig-node'], {});
    await byNode.saw('up\n');
    byNode.child.kill('SIGTERM');
    expect(await byNode.code).toBe(3);
    expect(byNode.out()).toBe('up\ngot TERM\n');

    const r = started(['run', '--bundle', b, 'sig-replay'], { OCI_RUNTIME_NATIVE: 'require' });
    await r.saw('up\n');
    const st = JSON.parse((await exec(['state', 'sig-replay'])).stdout);
    expect(st).toMatchObject({ id: 'sig-replay', status: 'running', bundle: b });
    expect((await exec(['list', '-q'])).stdout).toBe('sig-replay\n');
    expect((await exec(['ps', '-f', 'json', 'sig-replay'])).stdout).toContain(String(st.pid));
    r.child.kill('SIGTERM');
    expect(await r.code).toBe(3);
    expect(r.out()).toBe('up\ngot TERM\n');
    expect(existsSync(join(ROOT, 'sig-replay'))).toBe(false);

    const k = started(['run', '--bundle', b, 'kill-replay'], { OCI_RUNTIME_NATIVE: 'require' });
    await k.saw('up\n');
    expect((await exec(['kill', 'kill-replay', 'KILL'])).code).toBe(0);
    expect(await k.code).toBe(137);
    expect(existsSync(cgroupDir('kill-replay'))).toBe(false);
  });
});

function require_rmdir(dir: string): void {
  if (existsSync(dir)) spawnSync('rmdir', [dir]);
  expect(existsSync(dir)).toBe(false);
}

/** a run in the background: its output so far, a wait for some of it, its exit status */
function started(args: string[], env: Record<string, string>) {
  const child = spawn(CLI, ['--root', ROOT, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let o = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (o += d));
  const code = new Promise<number | null>((r) => child.on('close', (x) => r(x)));
  const saw = async (text: string) => {
    for (let i = 0; i < 1000 && !o.includes(text); i++) await new Promise((r) => setTimeout(r, 10));
    expect(o).toContain(text);
  };
  return { child, code, saw, out: () => o };
}

describe('what a recording depends on', () => {
  it('a changed config.json, rootfs /etc/passwd or cgroup root is noticed: Node runs and records again', async () => {
    ROOT = tmp('oci-replay-root-');
    const fs2 = makeRootfs();
    writeFileSync(join(fs2, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    const b = bundle(['sh', '-c', 'echo $HOME v1'], () => {}, fs2);
    expect((await exec(['run', '--bundle', b, id('d')])).stdout).toBe('/root v1\n');
    expect((await replay(['run', '--bundle', b, id('d')])).stdout).toBe('/root v1\n');

    const cfg = join(b, 'config.json');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('v1', 'v2'));
    // config.json's text picks the recording: another text, none yet
    expect(await replay(['run', '--bundle', b, id('d')])).toMatchObject({ code: 125, stderr: expect.stringContaining('no recording') });
    expect((await exec(['run', '--bundle', b, id('d')])).stdout).toBe('/root v2\n');
    expect((await replay(['run', '--bundle', b, id('d')])).stdout).toBe('/root v2\n');

    writeFileSync(join(fs2, 'etc/passwd'), 'root:x:0:0:root:/home/r:/bin/sh\n');
    expect(await replay(['run', '--bundle', b, id('d')])).toMatchObject({ code: 125, stderr: expect.stringContaining('etc/passwd changed') });
    expect((await exec(['run', '--bundle', b, id('d')])).stdout).toBe('/home/r v2\n');
    expect((await replay(['run', '--bundle', b, id('d')])).stdout).toBe('/home/r v2\n');

    // resolved inside the rootfs, never on the host: a link to /etc/passwd is the rootfs's own file (a loop: none)
    rmSync(join(fs2, 'etc/passwd'));
    symlinkSync('/etc/passwd', join(fs2, 'etc/passwd'));
    expect((await replay(['run', '--bundle', b, id('d')])).code).toBe(125);
    expect((await exec(['run', '--bundle', b, id('d')])).stdout).toBe('/ v2\n');
    expect((await replay(['run', '--bundle', b, id('d')])).stdout).toBe('/ v2\n');

    const envChanged = await exec(['run', '--bundle', b, id('d')], { OCI_RUNTIME_NATIVE: 'require', OCI_RUNTIME_CGROUP_ROOT: '/sys/fs/cgroup' });
    expect(envChanged).toMatchObject({ code: 125, stderr: expect.stringContaining('$OCI_RUNTIME_CGROUP_ROOT changed') });
  });

  it('runs it does not do go to Node: hooks (never recorded), --debug, a console socket, preserved fds, --help', async () => {
    ROOT = tmp('oci-replay-root-');
    const out = join(tmp('oci-replay-hook-'), 'log');
    const hooked = bundle(['true'], (c) => { c.hooks = { poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo hook >> ${out}`] }] }; });
    expect((await exec(['run', '--bundle', hooked, id('h')])).code).toBe(0);
    expect((await exec(['run', '--bundle', hooked, id('h')])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('hook\nhook\n');
    expect(recordings()).toEqual([]);

    const b = bundle(['true']);
    expect((await exec(['run', '--bundle', b, id('o')])).code).toBe(0);
    expect(recordings()).toHaveLength(1);
    expect(await replay(['--debug', 'run', '--bundle', b, id('o')])).toMatchObject({ code: 125, stderr: expect.stringContaining('option --debug') });
    const debug = await exec(['--debug', 'run', '--bundle', b, id('o')]);
    expect(debug.code).toBe(0);
    expect(debug.stderr).toMatch(/pivot_root/);
    expect(await replay(['run', '--console-socket', '/nowhere', '--bundle', b, id('o')])).toMatchObject({ code: 125, stderr: expect.stringContaining('run option --console-socket') });
    expect(await replay(['create', '--preserve-fds', '1', '--bundle', b, id('o')])).toMatchObject({ code: 125, stderr: expect.stringContaining('create option --preserve-fds') });
    const help = await replay(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--pid-file/);
  });

  it('a recording that is not root\'s, not whole, or not for this command line is not used', async () => {
    ROOT = tmp('oci-replay-root-');
    const b = bundle(['true']);
    expect((await exec(['run', '--bundle', b, id('h')])).code).toBe(0);
    const { file, text } = recording();
    const refused = async (why: RegExp) => {
      const r = await replay(['run', '--bundle', b, id('h')]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(why);
      // Node does it instead
      expect((await exec(['run', '--bundle', b, id('h')])).code).toBe(0);
    };
    chmodSync(file, 0o666);
    await refused(/not root's/);
    chmodSync(file, 0o600);
    chownSync(file, 65534, 65534);
    await refused(/not root's/);
    chownSync(file, 0, 0);
    writeFileSync(file, text.slice(0, text.length - 4), { mode: 0o600 });
    await refused(/truncated/);
    writeFileSync(file, text.replace(/^key (\S+)/m, (_m, k) => `key ${k.replace('keep=0', 'keep=1')}`), { mode: 0o600 });
    await refused(/another command line/);
    writeFileSync(file, text.replace(/^(input stat \S+ \S+):(\d+)$/m, '$1:1'), { mode: 0o600 });
    await refused(/changed/);
    // the recorded text of config.json (the file name is only its hash)
    writeFileSync(file, text.replace(/^(input file \S+ )/m, '$1%20'), { mode: 0o600 });
    await refused(/config.json changed/);
    writeFileSync(file, text.replace(/^input /m, 'input novel x\ninput '), { mode: 0o600 });
    await refused(/unknown input novel/);
    writeFileSync(file, text, { mode: 0o600 });
    const dir = join(ROOT, '@run-plans');
    renameSync(dir, `${dir}.real`);
    symlinkSync(`${dir}.real`, dir);
    await refused(/no recordings/);
    rmSync(dir);
    renameSync(`${dir}.real`, dir);
    expect((await replay(['run', '--bundle', b, id('h')])).code).toBe(0);
  });

  it('a replay that fails half way undoes what it did and leaves the run to Node; an existing id is Node\'s to report', async () => {
    ROOT = tmp('oci-replay-root-');
    const b = bundle(['sh', '-c', 'echo ran']);
    expect((await exec(['run', '--bundle', b, id('u')])).code).toBe(0);
    const { file, text } = recording();
    // the last cgroup write goes to a file that does not exist: after the state directory and the cgroups are made
    const writes = [...text.matchAll(/^cgroup write (\S+) /gm)];
    expect(writes.length).toBeGreaterThan(0);
    const last = writes[writes.length - 1]!;
    writeFileSync(file, text.slice(0, last.index) + text.slice(last.index).replace(last[1]!, `${last[1]!.replace(/[^/]+$/, '')}no.such.file`), { mode: 0o600 });
    const cid = id('u');
    const r = await replay(['run', '--bundle', b, cid]);
    expect(r).toMatchObject({ code: 125, stdout: '', stderr: expect.stringContaining('cgroups') });
    expect(existsSync(join(ROOT, cid))).toBe(false);
    expect(existsSync(cgroupDir(cid))).toBe(false);
    // that recording is gone; Node runs and records again
    expect(recordings()).toEqual([]);
    expect(await exec(['run', '--bundle', b, cid])).toEqual({ code: 0, stdout: 'ran\n', stderr: '' });
    expect((await replay(['run', '--bundle', b, cid])).stdout).toBe('ran\n');

    // (its waiting init holds the stdio it was given: /dev/null, not our pipes)
    expect(spawnSync(CLI, ['--root', ROOT, 'create', '--bundle', b, 'busy'], { stdio: 'ignore' }).status).toBe(0);
    expect(await replay(['run', '--bundle', b, 'busy'])).toMatchObject({ code: 125, stderr: expect.stringContaining('File exists') });
    const viaNode = await exec(['run', '--bundle', b, 'busy']);
    expect(viaNode.code).toBe(1);
    expect(viaNode.stderr).toMatch(/container with id exists: busy/);
    expect(JSON.parse((await exec(['state', 'busy'])).stdout).status).toBe('created');
    expect((await exec(['delete', '-f', 'busy'])).code).toBe(0);
  });
});
