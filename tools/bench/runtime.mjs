#!/usr/bin/env node
// Benchmark: @oci/runtime's CLI against runc and crun on the same busybox bundle, same run.
// `run` of /bin/true, `state`, `list`, and a create+start+delete cycle; median of N; peak RSS of `run`.
// Usage: node tools/bench/runtime.mjs [N=20]
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.argv[2] ?? 20);
const repo = fileURLToPath(new URL('../..', import.meta.url));
// OCI_RUNTIME_CLI: another entry of the CLI to measure (e.g. an older build, for before/after numbers)
const CLI = process.env.OCI_RUNTIME_CLI ?? join(repo, 'packages/cli-runtime/bin/oci-runtime.js');
if (!existsSync(join(repo, 'packages/runtime/native/oci-runtime-init'))) {
  console.error('build first: pnpm --filter @oci/runtime build && pnpm --filter @oci/cli-runtime build');
  process.exit(1);
}

// a busybox bundle on tmpfs, config from `runc spec`
const work = mkdtempSync(join('/dev/shm', 'oci-bench-'));
const rootfs = join(work, 'rootfs');
mkdirSync(join(rootfs, 'bin'), { recursive: true });
copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
chmodSync(join(rootfs, 'bin/busybox'), 0o755);
spawnSync('chroot', [rootfs, '/bin/busybox', '--install', '-s', '/bin']);
for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
spawnSync('runc', ['spec'], { cwd: work });
const cfg = JSON.parse(readFileSync(join(work, 'config.json'), 'utf8'));
cfg.process.terminal = false;
cfg.process.args = ['/bin/true'];
writeFileSync(join(work, 'config.json'), JSON.stringify(cfg));
const sleepBundle = join(work, 'sleep');
mkdirSync(sleepBundle);
writeFileSync(join(sleepBundle, 'config.json'), JSON.stringify({ ...cfg, root: { path: rootfs, readonly: true }, process: { ...cfg.process, args: ['sleep', '1000'] } }));

const roots = { ours: join(work, 'state-ours'), runc: join(work, 'state-runc'), crun: join(work, 'state-crun') };
// crun 1.8 refuses this hybrid cgroup layout unless /sys/fs/cgroup/unified is unmounted (private mount ns)
const crunPrefix = ['unshare', '-m', 'sh', '-c', 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"', 'sh'];
const cmds = {
  ours: (args) => [process.execPath, CLI, '--root', roots.ours, ...args],
  runc: (args) => ['runc', '--root', roots.runc, ...args],
  crun: (args) => [...crunPrefix, 'crun', '--root', roots.crun, ...args],
};

// CPU time (user+sys of the command and the children it waited for, from bash's `times`) is recorded too: on a shared,
// loaded machine wall time is mostly waiting for a core, CPU time is what the runtime itself costs.
const cpu = [];
// bash's `times` reports the children's user+sys in ms (GNU time's %U %S only in 10 ms steps)
function time(argv, cwd = work) {
  const t = process.hrtime.bigint();
  // stdout ignored: a detached container would keep a pipe open (and spawnSync waiting) forever
  const r = spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1 </dev/null; rc=$?; times >"$T"; exit $rc', 'bench', ...argv], { cwd, stdio: 'ignore', timeout: 30000, env: { ...process.env, T: timeFile } });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (status ${r.status})`);
  // second line: children's user and system time, e.g. "0m0.061s 0m0.012s"
  const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n')[1].split(' ').map((x) => { const m = /^(\d+)m([\d.]+)s$/.exec(x); return Number(m[1]) * 60 + Number(m[2]); });
  cpu.push((u + s) * 1000);
  return ms;
}
const timeFile = join(work, 'time.out');
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const has = (c) => spawnSync(c, ['--version']).status === 0;
const peers = ['runc', ...(has('crun') ? ['crun'] : [])];
let k = 0;

const cpuMedians = {};
function bench(label, fn) {
  const res = {};
  const c = {};
  // node -e 0 is measured interleaved with every benchmark: the machine's load drifts
  for (const who of ['ours', ...peers, 'node']) { res[who] = []; c[who] = []; }
  for (let i = 0; i < N; i++) for (const who of Object.keys(res)) {
    cpu.length = 0;
    res[who].push(who === 'node' ? time([process.execPath, '-e', '0']) : fn(who));
    c[who].push(cpu.reduce((a, b) => a + b, 0));
  }
  cpuMedians[label] = Object.fromEntries(Object.entries(c).map(([w, a]) => [w, median(a)]));
  return Object.fromEntries(Object.entries(res).map(([w, a]) => [w, median(a)]));
}

const nodeZero = median(Array.from({ length: N }, () => time([process.execPath, '-e', '0'])));
const nodeZeroCpu = median(cpu.splice(0));
console.log(`node -e 0: ${nodeZero.toFixed(1)}ms wall, ${nodeZeroCpu.toFixed(1)}ms cpu (median of ${N})`);

// run /bin/true
const run = bench('run', (who) => time(cmds[who](['run', `b${k++}`])));
// state/list against one detached container each
for (const who of ['ours', ...peers]) time(cmds[who](['run', '-d', '--bundle', sleepBundle, 'bench-sleeper']));
const state = bench('state', (who) => time(cmds[who](['state', 'bench-sleeper'])));
const list = bench('list', (who) => time(cmds[who](['list'])));
for (const who of ['ours', ...peers]) time(cmds[who](['delete', '-f', 'bench-sleeper']));
// create + start + delete
const cycle = bench('create+start+delete', (who) => {
  const id = `c${k++}`;
  return time(cmds[who](['create', id])) + time(cmds[who](['start', id])) + (waitStopped(who, id), time(cmds[who](['delete', '-f', id])));
});
function waitStopped(who, id) {
  for (let i = 0; i < 200; i++) {
    const r = spawnSync(cmds[who](['state', id])[0], cmds[who](['state', id]).slice(1), { encoding: 'utf8', timeout: 10000 });
    if (r.status !== 0 || JSON.parse(r.stdout).status === 'stopped') return;
  }
}

function line(name, o, peer) {
  console.log(`RATIO ${name}: ours/${peer} = ${(o.ours / o[peer]).toFixed(2)} (ours ${o.ours.toFixed(1)}ms, peer ${o[peer].toFixed(1)}ms)`);
}
for (const [name, o] of Object.entries({ run, state, list, 'create+start+delete': cycle })) {
  for (const p of peers) line(name, o, p);
  // create+start+delete starts node three times
  const starts = name === 'create+start+delete' ? 3 : 1;
  console.log(`RATIO ${name} (ours - ${starts}x node -e 0)/runc = ${((o.ours - starts * o.node) / o.runc).toFixed(2)} (first bar: <= 0.5; node -e 0 ${o.node.toFixed(1)}ms in the same loop)`);
  const c = cpuMedians[name];
  console.log(`  cpu ${name}: ours ${c.ours.toFixed(1)}ms, ${peers.map((p) => `${p} ${c[p].toFixed(1)}ms`).join(', ')}, node -e 0 ${c.node.toFixed(1)}ms (user+sys, bash times)`);
}

// peak RSS of the runtime during `run` (GNU time: max RSS of the process tree's largest member)
const rss = (argv) => {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], { cwd: work, encoding: 'utf8', timeout: 30000 });
  return Number(r.stderr.trim().split('\n').pop());
};
console.log(`RSS run: ours ${rss(cmds.ours(['run', `rss${k++}`]))} KB, runc ${rss(cmds.runc(['run', `rss${k++}`]))} KB, node -e 0 ${rss([process.execPath, '-e', '0'])} KB`);
rmSync(work, { recursive: true, force: true });
