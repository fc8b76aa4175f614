#!/usr/bin/env node
// Benchmark: unpack an image layout into a rootfs.
//   ours:  `oci-image unpack` as users run it: the sh launcher packages/cli-image/bin/oci-image (else
//          `node bin/oci-image.js`; else unpackImage() in a fresh node process when the CLI is not built)
//   umoci: `umoci unpack --image LAYOUT:latest BUNDLE`
//   tar:   `gzip -dc LAYER | tar -x` per layer (GNU tar, no whiteout handling: a floor, not a peer)
//   create: our createBundle() (fresh process) vs `oci-image-tool create --ref name=latest LAYOUT BUNDLE`
// Image: debian-redis when its fixture is cached (or BENCH_IMAGE=debian-redis to build it), else busybox.
// Targets: tmpfs (/dev/shm, the CPU decides) and disk (os.tmpdir(), the disk decides); BENCH_TARGETS=shm,disk.
// Median of BENCH_RUNS (default 5). Needs: pnpm --filter @oci/unpack build (and its deps), fixtures built.
// Baselines printed first: `node -e 0` in the caller's environment and `NODE_EXTRA_CA_CERTS= node -e 0`
// (bare Node start; see docs/architecture.md "Start-up"). Wall times are noisy on a shared machine:
// compare the CPU (user+sys) lines there.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { buildFixture } = await import(pathToFileURL(join(root, 'tools/fixtures/dist/index.js')).href);
const unpackUrl = pathToFileURL(join(root, 'packages/unpack/dist/index.js')).href;
const layoutUrl = pathToFileURL(join(root, 'packages/layout/dist/index.js')).href;

const cache = process.env.OCI_FIXTURES_CACHE ?? '/var/cache/oci-fixtures';
const cached = (n) => existsSync(cache) && readdirSync(cache).some((d) => d.startsWith(`${n}-`));
const image = process.env.BENCH_IMAGE ?? (cached('debian-redis') ? 'debian-redis' : 'busybox');
const runs = Number(process.env.BENCH_RUNS ?? 5);
const targets = (process.env.BENCH_TARGETS ?? 'shm,disk').split(',');
const fx = await buildFixture(image);
console.log(`image ${image}: ${fx.layers.length} layers, ${(fx.layers.reduce((a, l) => a + l.size, 0) / 1e6).toFixed(1)} MB compressed`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (f) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};

const createScript = `
const t0 = performance.now();
const { Layout } = await import(${JSON.stringify(layoutUrl)});
const { createBundle } = await import(${JSON.stringify(unpackUrl)});
const layout = await Layout.open(process.argv[1]);
await createBundle(layout, 'latest', process.argv[2], { rootless: false });
console.log(JSON.stringify({ ms: performance.now() - t0, maxRSS: process.resourceUsage().maxRSS }));
`;

const oursScript = `
const t0 = performance.now();
const { Layout } = await import(${JSON.stringify(layoutUrl)});
const { unpackImage } = await import(${JSON.stringify(unpackUrl)});
const layout = await Layout.open(process.argv[1]);
await unpackImage(layout, 'latest', process.argv[2], { rootless: false });
console.log(JSON.stringify({ ms: performance.now() - t0, maxRSS: process.resourceUsage().maxRSS }));
`;

// ours is the `oci-image` CLI when it is built (what users run: the sh launcher, else node bin/oci-image.js),
// else the library in a node process; peak RSS from GNU time (%M) when it is installed
const launcher = join(root, 'packages/cli-image/bin/oci-image');
const cliBin = join(root, 'packages/cli-image/bin/oci-image.js');
const useCli = existsSync(join(root, 'packages/cli-image/dist/main.js'));
const useLauncher = useCli && existsSync(launcher);
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
/** argv of our CLI with `args` */
const cliArgv = (args) => (useLauncher ? [launcher, ...args] : [process.execPath, cliBin, ...args]);
function runOurs(dir, script = oursScript) {
  const create = script === createScript;
  const argv = useCli
    ? cliArgv([create ? 'create' : 'unpack', '--ref', 'latest', fx.layout, join(dir, create ? 'bundle' : 'rootfs')])
    : [process.execPath, '--input-type=module', '-e', script, fx.layout, join(dir, 'rootfs')];
  const r = gnuTime
    ? spawnSync(gnuTime, ['-f', 'MAXRSS %M BENCHCPU %U %S', ...argv], { encoding: 'utf8' })
    : spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ours failed: ${r.stderr}`);
  const m = /MAXRSS (\d+) BENCHCPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  lastCpu = m ? (Number(m[2]) + Number(m[3])) * 1000 : NaN;
  if (m) return { maxRSS: Number(m[1]) };
  const last = r.stdout.trim().split('\n').pop();
  return last?.startsWith('{') ? JSON.parse(last) : { maxRSS: 0 };
}
console.log(`ours: ${useLauncher ? 'oci-image CLI (bin/oci-image sh launcher)' : useCli ? 'oci-image CLI (node bin/oci-image.js)' : '@oci/unpack in a node process'}`);

/** Runs a command (under GNU time when installed): CPU ms (user+sys, children included) of the last run. */
let lastCpu = NaN;
function timedExec(cmd, args) {
  const r = gnuTime
    ? spawnSync(gnuTime, ['-f', 'BENCHCPU %U %S', cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] })
    : spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const m = /BENCHCPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  lastCpu = m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN;
}

// Node start-up baselines (wall and CPU, median of BENCH_RUNS * 2)
{
  const base = (env) => {
    const w = [];
    const c = [];
    for (let i = 0; i < runs * 2; i++) {
      const t0 = performance.now();
      const r = gnuTime
        ? spawnSync(gnuTime, ['-f', 'BENCHCPU %U %S', process.execPath, '-e', '0'], { encoding: 'utf8', env })
        : spawnSync(process.execPath, ['-e', '0'], { encoding: 'utf8', env });
      w.push(performance.now() - t0);
      const m = /BENCHCPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
      c.push(m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN);
    }
    return `${median(w).toFixed(0)}ms wall, ${median(c).toFixed(0)}ms CPU`;
  };
  console.log(`baseline node -e 0 (caller's env${process.env.NODE_EXTRA_CA_CERTS ? ', NODE_EXTRA_CA_CERTS set' : ''}): ${base(process.env)}`);
  console.log(`baseline NODE_EXTRA_CA_CERTS= node -e 0 (bare Node start): ${base({ ...process.env, NODE_EXTRA_CA_CERTS: '' })}`);
}

for (const target of targets) {
  const base = target === 'shm' ? '/dev/shm' : tmpdir();
  const t = { ours: [], umoci: [], tar: [], create: [], oit: [] };
  const cpu = { ours: [], umoci: [], tar: [], create: [], oit: [] };
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    // rotate the order each round: on ext4 whoever runs right after a tree was deleted pays for the
    // allocator skipping the recently freed inodes (see docs/unpack.md), so nobody always goes first
    const order = ['ours', 'umoci', 'tar', 'create', 'oit'];
    for (const who of [...order.slice(i % order.length), ...order.slice(0, i % order.length)]) {
      const dir = mkdtempSync(join(base, `oci-bench-unpack-${who}-`));
      try {
        if (who === 'ours') {
          const t0 = performance.now();
          const r = runOurs(dir);
          t.ours.push(performance.now() - t0);
          rss = Math.max(rss, r.maxRSS);
        } else if (who === 'create') {
          const t0 = performance.now();
          runOurs(dir, createScript);
          t.create.push(performance.now() - t0);
        } else if (who === 'oit') {
          t.oit.push(ms(() => timedExec('oci-image-tool', ['create', '--ref', 'name=latest', fx.gzipLayout, join(dir, 'bundle')])));
        } else if (who === 'umoci') {
          t.umoci.push(ms(() => timedExec('umoci', ['unpack', '--image', `${fx.gzipLayout}:latest`, join(dir, 'bundle')])));
        } else {
          let tarCpu = 0;
          t.tar.push(
            ms(() => {
              for (const l of fx.layers) {
                const blob = join(fx.layout, 'blobs', l.digest.replace(':', '/'));
                const dec = l.compression === 'zstd' ? 'zstd -dc' : l.compression === 'gzip' ? 'gzip -dc' : 'cat';
                timedExec('sh', ['-c', `${dec} "$1" | tar -x --numeric-owner -p --xattrs -C "$2"`, 'sh', blob, dir]);
                tarCpu += lastCpu;
              }
            }),
          );
          lastCpu = tarCpu;
        }
        cpu[who].push(lastCpu);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const [o, u, g] = [median(t.ours), median(t.umoci), median(t.tar)];
  console.log(`RATIO unpack ${image} ${target}: ours/umoci = ${(o / u).toFixed(2)} (ours ${o.toFixed(0)}ms, peer ${u.toFixed(0)}ms)`);
  console.log(`RATIO unpack ${image} ${target}: ours/gnu-tar = ${(o / g).toFixed(2)} (ours ${o.toFixed(0)}ms, peer ${g.toFixed(0)}ms)`);
  const [c, oit] = [median(t.create), median(t.oit)];
  console.log(`RATIO create ${image} ${target}: ours/oci-image-tool = ${(c / oit).toFixed(2)} (ours ${c.toFixed(0)}ms, peer ${oit.toFixed(0)}ms)`);
  if (gnuTime) {
    const [oc, uc, gc, cc, oitc] = ['ours', 'umoci', 'tar', 'create', 'oit'].map((k) => median(cpu[k]));
    console.log(`RATIO unpack ${image} ${target} cpu: ours/umoci = ${(oc / uc).toFixed(2)} (ours ${oc.toFixed(0)}ms, peer ${uc.toFixed(0)}ms CPU user+sys)`);
    console.log(`RATIO unpack ${image} ${target} cpu: ours/gnu-tar = ${(oc / gc).toFixed(2)} (ours ${oc.toFixed(0)}ms, peer ${gc.toFixed(0)}ms CPU user+sys)`);
    console.log(`RATIO create ${image} ${target} cpu: ours/oci-image-tool = ${(cc / oitc).toFixed(2)} (ours ${cc.toFixed(0)}ms, peer ${oitc.toFixed(0)}ms CPU user+sys)`);
  }
  console.log(`peak RSS ours (${target}): ${(rss / 1024).toFixed(0)} MB`);
}

// Peak RSS for a 1 GiB layer (zeros, gzip -1): memory must stay bounded whatever the layer size.
if (process.env.BENCH_BIG !== '0') {
  const dir = mkdtempSync(join('/dev/shm', 'oci-bench-unpack-big-'));
  try {
    execFileSync('sh', ['-c', 'head -c 1073741824 /dev/zero > "$1/big" && tar -C "$1" -cf - big | tee "$1/layer.tar" | gzip -1 > "$1/layer.tar.gz" && rm "$1/big"', 'sh', dir]);
    const diffId = 'sha256:' + execFileSync('sha256sum', [join(dir, 'layer.tar')]).toString().split(' ')[0];
    rmSync(join(dir, 'layer.tar'));
    const { Layout } = await import(layoutUrl);
    const { createReadStream } = await import('node:fs');
    const layout = await Layout.init(join(dir, 'layout'));
    const l = await layout.putBlob(createReadStream(join(dir, 'layer.tar.gz')));
    const cfg = await layout.putJson({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } }, 'application/vnd.oci.image.config.v1+json');
    const m = await layout.putJson(
      { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfg, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size }] },
      'application/vnd.oci.image.manifest.v1+json',
    );
    await layout.tag('latest', m);
    // what users run (the CLI under GNU time) when built, else the library in a node process
    const bigRuns = Number(process.env.BENCH_BIG_RUNS ?? 3);
    const rss = [];
    const times = [];
    for (let i = 0; i < bigRuns; i++) {
      rmSync(join(dir, 'rootfs'), { recursive: true, force: true });
      const t0 = performance.now();
      if (useCli && gnuTime) {
        const r = spawnSync(gnuTime, ['-f', 'MAXRSS %M', ...cliArgv(['unpack', '--ref', 'latest', join(dir, 'layout'), join(dir, 'rootfs')])], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(r.stderr);
        rss.push(Number(/MAXRSS (\d+)/.exec(r.stderr)[1]));
      } else {
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', oursScript, join(dir, 'layout'), join(dir, 'rootfs')], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(r.stderr);
        rss.push(JSON.parse(r.stdout.trim().split('\n').pop()).maxRSS);
      }
      times.push(performance.now() - t0);
    }
    console.log(`peak RSS ours, one 1 GiB layer: ${(median(rss) / 1024).toFixed(0)} MB median, ${(Math.max(...rss) / 1024).toFixed(0)} MB max of ${bigRuns} (${median(times).toFixed(0)}ms)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
