#!/usr/bin/env node
// Benchmark: @oci/runtime's CLI against runc and crun on the same busybox bundle, same run.
// `run` of /bin/true (as the launcher runs it: replayed without Node after the first; and with Node, `run-node`),
// `state`, `list`, and a create+start+delete cycle; median of N; peak RSS of `run`.
// Usage: node tools/bench/runtime.mjs [N=20] [run,run-node,state,list,cycle,rss (default: all)]
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.argv[2] ?? 20);
const only = new Set((process.argv[3] ?? 'run,run-node,state,list,cycle,rss').split(','));
const repo = fileURLToPath(new URL('../..', import.meta.url));
// What users run: the sh launcher npm links (bin/oci-runtime), else `node bin/oci-runtime.js`.
// OCI_RUNTIME_CLI: another entry of the CLI to measure (e.g. an older build, for before/after numbers);
// a .js file is started with node, anything else is executed.
const launcher = join(repo, 'packages/cli-runtime/bin/oci-runtime');
const CLI = process.env.OCI_RUNTIME_CLI ?? (existsSync(launcher) ? launcher : join(repo, 'packages/cli-runtime/bin/oci-runtime.js'));
const ourArgv = CLI.endsWith('.js') ? [process.execPath, CLI] : [CLI];
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
  ours: (args) => [...ourArgv, '--root', roots.ours, ...args],
  runc: (args) => ['runc', '--root', roots.runc, ...args],
  crun: (args) => [...crunPrefix, 'crun', '--root', roots.crun, ...args],
};

// CPU time (user+sys of the command and the children it waited for, from bash's `times`) is recorded too: on a shared,
// loaded machine wall time is mostly waiting for a core, CPU time is what the runtime itself costs.
const cpu = [];
// the launcher runs `node` from PATH: make it this node
process.env.PATH = `${dirname(process.execPath)}:${process.env.PATH}`;
// bash's `times` reports the children's user+sys in ms (GNU time's %U %S only in 10 ms steps)
function time(argv, cwd = work, env = process.env) {
  const t = process.hrtime.bigint();
  // stdout ignored: a detached container would keep a pipe open (and spawnSync waiting) forever
  const r = spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1 </dev/null; rc=$?; times >"$T"; exit $rc', 'bench', ...argv], { cwd, stdio: 'ignore', timeout: 30000, env: { ...env, T: timeFile } });
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
  // both node -e 0 baselines are measured interleaved with every benchmark: the machine's load drifts
  for (const who of ['ours', ...peers, 'node', 'bareNode']) { res[who] = []; c[who] = []; }
  for (let i = 0; i < N; i++) for (const who of Object.keys(res)) {
    cpu.length = 0;
    res[who].push(who === 'node' ? nodeZeroTime() : who === 'bareNode' ? bareNodeTime() : fn(who));
    c[who].push(cpu.reduce((a, b) => a + b, 0));
  }
  cpuMedians[label] = Object.fromEntries(Object.entries(c).map(([w, a]) => [w, median(a)]));
  return Object.fromEntries(Object.entries(res).map(([w, a]) => [w, median(a)]));
}

// Two baselines: `node -e 0` in the caller's environment, and a bare Node start (NODE_EXTRA_CA_CERTS cleared: Node
// loads that file eagerly at start, ~40 ms with a system CA bundle; our launcher clears it). The first bar is
// computed against the bare start, the smaller one, so that the ratio stays honest.
const nodeZeroTime = () => time([process.execPath, '-e', '0']);
const bareEnv = { ...process.env, NODE_EXTRA_CA_CERTS: '' };
const bareNodeTime = () => time([process.execPath, '-e', '0'], work, bareEnv);
console.log(`ours: ${[...ourArgv].join(' ')}; NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS ?? '(unset)'}`);
const nodeZero = median(Array.from({ length: N }, nodeZeroTime));
const nodeZeroCpu = median(cpu.splice(0));
console.log(`node -e 0: ${nodeZero.toFixed(1)}ms wall, ${nodeZeroCpu.toFixed(1)}ms cpu (median of ${N})`);
const bareZero = median(Array.from({ length: N }, bareNodeTime));
const bareZeroCpu = median(cpu.splice(0));
console.log(`NODE_EXTRA_CA_CERTS= node -e 0 (bare Node start): ${bareZero.toFixed(1)}ms wall, ${bareZeroCpu.toFixed(1)}ms cpu (median of ${N})`);

// run /bin/true
const results = {};
// ours: the launcher's native front end replays the run Node recorded the first time (docs/cli-runtime.md, "Replayed
// runs"); `run-node` measures the same with OCI_RUNTIME_NATIVE=0, Node doing every run
if (only.has('run')) results.run = bench('run', (who) => time(cmds[who](['run', `b${k++}`])));
const nodeEnv = { ...process.env, OCI_RUNTIME_NATIVE: '0' };
if (only.has('run-node')) results['run (Node, OCI_RUNTIME_NATIVE=0)'] = bench('run (Node, OCI_RUNTIME_NATIVE=0)', (who) => time(cmds[who](['run', `n${k++}`]), work, who === 'ours' ? nodeEnv : process.env));
// state/list against one detached container each
if (only.has('state') || only.has('list')) {
  for (const who of ['ours', ...peers]) time(cmds[who](['run', '-d', '--bundle', sleepBundle, 'bench-sleeper']));
  if (only.has('state')) results.state = bench('state', (who) => time(cmds[who](['state', 'bench-sleeper'])));
  if (only.has('list')) results.list = bench('list', (who) => time(cmds[who](['list'])));
  for (const who of ['ours', ...peers]) time(cmds[who](['delete', '-f', 'bench-sleeper']));
}
// create + start + delete
if (only.has('cycle')) results['create+start+delete'] = bench('create+start+delete', (who) => {
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
for (const [name, o] of Object.entries(results)) {
  for (const p of peers) line(name, o, p);
  // create+start+delete starts node three times
  const starts = name === 'create+start+delete' ? 3 : 1;
  const c = cpuMedians[name];
  const base = Math.min(o.node, o.bareNode);
  const baseCpu = Math.min(c.node, c.bareNode);
  // the native front ends start no Node at all: then the bar is met outright, and a negative ratio says nothing
  if (o.ours < base) console.log(`RATIO ${name} first bar: met without Node (ours ${o.ours.toFixed(1)}ms, below a bare node -e 0 of ${base.toFixed(1)}ms)`);
  else console.log(`RATIO ${name} (ours - ${starts}x bare node -e 0)/runc = ${((o.ours - starts * base) / o.runc).toFixed(2)} wall, ${((c.ours - starts * baseCpu) / c.runc).toFixed(2)} cpu (first bar: <= 0.5; bare node -e 0 ${o.bareNode.toFixed(1)}ms, node -e 0 with the caller's env ${o.node.toFixed(1)}ms, same loop)`);
  console.log(`  cpu ${name}: ours ${c.ours.toFixed(1)}ms, ${peers.map((p) => `${p} ${c[p].toFixed(1)}ms`).join(', ')}, node -e 0 ${c.node.toFixed(1)}ms, bare ${c.bareNode.toFixed(1)}ms (user+sys, bash times)`);
}

// peak RSS of the runtime during `run` (GNU time: max RSS of the process tree's largest member)
const rss = (argv, env = process.env) => {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...argv], { cwd: work, encoding: 'utf8', timeout: 30000, env });
  return Number(r.stderr.trim().split('\n').pop());
};
// the median RSS over a few runs (one run is noisy): N/4 runs, at least 5
const rssRuns = only.has('rss') ? Math.max(5, Math.floor(N / 4)) : 0;
const rssMedian = (who, env) => median(Array.from({ length: rssRuns }, () => rss(cmds[who](['run', `rss${k++}`]), env)));
if (rssRuns) console.log(`RSS run (median of ${rssRuns}): ours ${rssMedian('ours')} KB (Node: ${rssMedian('ours', nodeEnv)} KB), ${peers.map((p) => `${p} ${rssMedian(p)} KB`).join(', ')}, node -e 0 ${rss([process.execPath, '-e', '0'])} KB`);
rmSync(work, { recursive: true, force: true });
