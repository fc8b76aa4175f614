// Real engines drive oci-runtime in place of runc: containerd 1.6 (ctr run --runc-binary, through
// containerd-shim-runc-v2) and podman 4.3 (--runtime, through conmon). Each engine runs busybox and
// execs into a running container, first with runc (proves the harness), then with ours through a
// wrapper script (engines want one absolute executable path); outputs are compared.
//
// Everything runs under one child-subreaper (the conformance harness' Reaper): containerd's shims and
// podman's conmon double-fork, and PID 1 on these machines does not reap.
import { chmodSync, existsSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reaper, removeTemps, tmp } from '../../runtime/test/conformance-helpers.js';
import type { Result } from '../../runtime/test/conformance-helpers.js';

// the sh launcher npm links as the `oci-runtime` bin (it execs node bin/oci-runtime.js)
const LAUNCHER = fileURLToPath(new URL('../bin/oci-runtime', import.meta.url));
const IMAGE = 'docker.io/library/busybox:latest';
const has = (bin: string) => ['/usr/bin', '/usr/sbin', '/usr/local/bin'].some((d) => existsSync(join(d, bin)));
const haveEngines = has('containerd') && has('ctr') && has('podman') && has('conmon') && has('skopeo') && has('runc');

let reaper: Reaper;
let work: string;
let archive: string;
let wrapper: string;
let calls: string;

beforeAll(async () => {
  if (!haveEngines) return;
  reaper = new Reaper();
  work = tmp('oci-engines-');
  const fx = await import('@oci/fixtures');
  const info = await fx.buildFixture('busybox');
  archive = join(work, 'busybox.tar');
  const r = await reaper.exec(['skopeo', 'copy', '-q', `oci:${info.layout}:latest`, `oci-archive:${archive}:${IMAGE}`]);
  if (r.code !== 0) throw new Error('skopeo: ' + r.stderr);
  // the engines exec one path with runc's arguments; log each call so the tests can see ours was used
  calls = join(work, 'calls.log');
  wrapper = join(work, 'oci-runtime');
  writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> ${calls}\nPATH=${dirname(process.execPath)}:$PATH exec ${LAUNCHER} "$@"\n`);
  chmodSync(wrapper, 0o755);
}, 120000);

afterAll(async () => {
  if (!haveEngines) return;
  await reaper.close();
  removeTemps();
});

const verbs = () => (existsSync(calls) ? readFileSync(calls, 'utf8') : '').split('\n').filter(Boolean).map((l) => {
  const a = l.split(' ');
  // skip global flags (--root X, --log X, --log-format X, --systemd-cgroup)
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--systemd-cgroup' || a[i] === '--debug') continue;
    if (a[i]!.startsWith('--')) { i++; continue; }
    return a[i];
  }
  return undefined;
});

describe.runIf(haveEngines)('containerd 1.6 (ctr) drives oci-runtime', () => {
  let sock: string;
  let ns: string;
  let daemon: { pid: number; done: Promise<Result> };
  const ctr = (args: string[], timeoutMs = 60000) => reaper.exec(['ctr', '-a', sock, '-n', ns, ...args], { timeoutMs });

  beforeAll(async () => {
    const dir = tmp('oci-containerd-');
    sock = join(dir, 'containerd.sock');
    ns = `ocitest${process.pid}`;
    writeFileSync(join(dir, 'config.toml'), [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]', `  address = "${sock}"`,
      '[ttrpc]', `  address = "${sock}.ttrpc"`,
      '[debug]', `  address = "${dir}/debug.sock"`,
    ].join('\n') + '\n');
    daemon = await reaper.spawn(['containerd', '--config', join(dir, 'config.toml')], { outputFile: join(dir, 'containerd.log') });
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = existsSync(sock) && (await reaper.exec(['ctr', '-a', sock, 'version'], { timeoutMs: 5000 })).code === 0;
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) throw new Error('containerd did not start: ' + readFileSync(join(dir, 'containerd.log'), 'utf8').slice(-2000));
    const imp = await ctr(['images', 'import', archive]);
    if (imp.code !== 0) throw new Error('ctr images import: ' + imp.stderr);
  }, 120000);

  afterAll(async () => {
    if (!daemon) return;
    for (const t of (await ctr(['tasks', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await ctr(['tasks', 'kill', '-s', 'KILL', t]);
    await new Promise((r) => setTimeout(r, 500));
    for (const t of (await ctr(['tasks', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await ctr(['tasks', 'rm', '-f', t]);
    for (const c of (await ctr(['containers', 'ls', '-q'])).stdout.split('\n').filter(Boolean)) await ctr(['containers', 'rm', c]);
    process.kill(daemon.pid, 'SIGTERM');
    await daemon.done;
    // runc's (and our) state dirs for this namespace under containerd's default runtime root
    rmSync(`/run/containerd/runc/${ns}`, { recursive: true, force: true });
    // containerd's cgroupfs parent for the namespace (/sys/fs/cgroup/<controller>/<ns>), empty by now
    for (const c of readdirSync('/sys/fs/cgroup')) {
      const d = join('/sys/fs/cgroup', c, ns);
      if (!existsSync(d)) continue;
      for (const sub of readdirSync(d, { withFileTypes: true })) if (sub.isDirectory()) try { rmdirSync(join(d, sub.name)); } catch { /* busy: leave it */ }
      try { rmdirSync(d); } catch { /* busy: leave it */ }
    }
  }, 60000);

  const runOnce = async (runtime: string[], id: string) =>
    ctr(['run', '--rm', ...runtime, IMAGE, id, 'sh', '-c', 'echo hi from $(hostname); id; grep -c . /proc/self/mountinfo; ls /dev | wc -l']);

  it('ctr run --rm busybox with runc (harness check), then with oci-runtime: same output', async () => {
    const r = await runOnce([], `runc-run-${process.pid}`);
    expect(r.code, r.stderr).toBe(0);
    // ctr's default spec has no uts namespace: the hostname is the host's
    expect(r.stdout).toMatch(/^hi from \S+\nuid=0\(root\) gid=0\(root\)/);
    rmSync(calls, { force: true });
    const o = await runOnce(['--runc-binary', wrapper], `ours-run-${process.pid}`);
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).toBe(r.stdout);
    expect(verbs()).toEqual(expect.arrayContaining(['create', 'start', 'delete']));
  }, 60000);

  /** run -d, task exec, kill, wait STOPPED, task rm, container rm; what an engine user sees */
  // the last scenario's details, for the failure message of a comparison (see the intermittent note below)
  let lastDiag = '';
  const execScenario = async (name: string, runtime: string[]): Promise<string[]> => {
    const id = `${name}-exec-${process.pid}`;
    rmSync(calls, { force: true });
    const run = await ctr(['run', '-d', ...runtime, IMAGE, id, 'sleep', '300']);
    expect(run.code, `${name} ctr run -d: ${run.stderr}`).toBe(0);
    const ex = await ctr(['tasks', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo from-exec; cat /proc/1/cmdline | tr "\\0" " "; echo; id -u']);
    expect(ex.code, `${name} ctr tasks exec: ${ex.stderr}`).toBe(0);
    const ls = await ctr(['tasks', 'ls']);
    const kill = await ctr(['tasks', 'kill', '-s', 'KILL', id]);
    expect(kill.code, `${name} ctr tasks kill: ${kill.stderr}`).toBe(0);
    let stopped = false;
    for (let i = 0; i < 50 && !stopped; i++) {
      stopped = /STOPPED/.test((await ctr(['tasks', 'ls'])).stdout.split('\n').find((l) => l.startsWith(id + ' ')) ?? '');
      if (!stopped) await new Promise((r) => setTimeout(r, 100));
    }
    const rm = await ctr(['tasks', 'rm', id]);
    const crm = await ctr(['containers', 'rm', id]);
    lastDiag = `${name}: ctr tasks exec code ${ex.code} stdout ${JSON.stringify(ex.stdout)} stderr ${JSON.stringify(ex.stderr)}; runtime calls: ${JSON.stringify(verbs())}`;
    return [ex.stdout, String(/RUNNING/.test(ls.stdout.split('\n').find((l) => l.startsWith(id + ' ')) ?? '')), String(stopped), String(rm.code), String(crm.code)];
  };

  it('ctr task exec into a running container, kill, delete — runc (harness check)', async () => {
    expect(await execScenario('runc', [])).toEqual(['from-exec\nsleep 300 \n0\n', 'true', 'true', '0', '0']);
  }, 90000);

  // Before 6bab59e this hung about one run in five: a create/start race left the init blocked in
  // open() of its exec.fifo (wchan wait_for_partner) while `start` had returned 0, so `sleep 300`
  // never ran and `ctr tasks exec` never returned (see docs/runtime-conformance.md, gap 6).
  // Known intermittent, NOT root-caused: once in a loaded full CI run the exec'd process printed nothing
  // (which runtime's scenario, ours or runc's, is not known). Not reproduced since: 15 runs in a row under a
  // 2-busy-loop load passed (with the sh launcher). Ruled out here: containerd 1.6.20's shim keeps the exit
  // of an exec'd process that ends before the runtime exits (0.5 s delay in the wrapper: still passes).
  // Still retried; the failure message now carries both scenarios' ctr output and the runtime calls.
  it('ctr task exec into a running container through oci-runtime — same as runc', { retry: 2 }, async () => {
    const ours = await execScenario('ours', ['--runc-binary', wrapper]);
    const oursDiag = lastDiag;
    expect(verbs()).toEqual(expect.arrayContaining(['create', 'start', 'exec', 'kill', 'delete']));
    const runc = await execScenario('runc', []);
    expect(ours, `${oursDiag}\n${lastDiag}`).toEqual(runc);
  }, 150000);
});

describe.runIf(haveEngines)('podman 4.3 drives oci-runtime', () => {
  let base: string[];
  beforeAll(async () => {
    const dir = tmp('oci-podman-');
    base = ['podman', '--root', join(dir, 'root'), '--runroot', join(dir, 'runroot'), '--tmpdir', join(dir, 'tmp'),
      '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
    const pull = await reaper.exec([...base, 'pull', '-q', `oci-archive:${archive}`], { timeoutMs: 120000 });
    if (pull.code !== 0) throw new Error('podman pull: ' + pull.stderr);
  }, 120000);

  afterAll(async () => {
    if (base) await reaper.exec([...base, 'rm', '-a', '-f', '-t', '0'], { timeoutMs: 60000 });
    // podman's cgroupfs parent for conmon (empty once the containers are gone; rmdir leaves it if not)
    for (const c of readdirSync('/sys/fs/cgroup')) {
      for (const d of ['libpod_parent/conmon', 'libpod_parent']) try { rmdirSync(join('/sys/fs/cgroup', c, d)); } catch { /* absent or busy */ }
    }
  }, 60000);

  // this VM's root lacks CAP_SYS_RESOURCE: podman's default nofile/nproc ulimits cannot be raised
  const RUN = ['--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=32768:32768'];
  const runtimes: Array<[string, string]> = [['runc', '/usr/sbin/runc'], ['ours', '']];

  it('podman run --rm busybox with runc (harness check), then with oci-runtime: same output and exit code', async () => {
    const out: Record<string, [number, string]> = {};
    for (const [name, path] of runtimes) {
      rmSync(calls, { force: true });
      const r = await reaper.exec([...base, '--runtime', path || wrapper, 'run', '--rm', ...RUN, IMAGE, 'sh', '-c', 'echo hi; id; ulimit -n; grep -c . /proc/self/mountinfo; exit 3'], { timeoutMs: 60000 });
      out[name] = [r.code, r.stdout];
      if (name === 'runc') expect(r.code, r.stderr).toBe(3);
      if (name === 'ours') expect(verbs()).toEqual(expect.arrayContaining(['create', 'start', 'delete']));
    }
    expect(out['ours']).toEqual(out['runc']);
    expect(out['ours']![1]).toMatch(/^hi\nuid=0\(root\) gid=0\(root\)/);
  }, 90000);

  it('podman exec into a running container, then rm -f — runc and oci-runtime alike', async () => {
    const out: Record<string, string[]> = {};
    for (const [name, path] of runtimes) {
      rmSync(calls, { force: true });
      const cname = `${name}-exec-${process.pid}`;
      const pm = (args: string[]) => reaper.exec([...base, '--runtime', path || wrapper, ...args], { timeoutMs: 60000 });
      const run = await pm(['run', '-d', '--name', cname, '--hostname', 'box', ...RUN, IMAGE, 'sleep', '300']);
      expect(run.code, run.stderr).toBe(0);
      const ex = await pm(['exec', cname, 'sh', '-c', 'echo from-exec; hostname; cat /proc/1/cmdline | tr "\\0" " "; echo']);
      expect(ex.code, ex.stderr).toBe(0);
      const exCode = await pm(['exec', cname, 'sh', '-c', 'exit 7']);
      const ps = await pm(['ps', '--format', '{{.Names}} {{.Status}}']);
      const rm = await pm(['rm', '-f', '-t', '0', cname]);
      out[name] = [ex.stdout, String(exCode.code), String(/^\S+ Up/m.test(ps.stdout.split('\n').find((l) => l.startsWith(cname)) ?? '')), String(rm.code)];
      if (name === 'ours') expect(verbs()).toEqual(expect.arrayContaining(['create', 'start', 'exec', 'delete']));
    }
    expect(out['ours']).toEqual(out['runc']);
    expect(out['ours']).toEqual(['from-exec\nbox\nsleep 300 \n', '7', 'true', '0']);
  }, 120000);
});
