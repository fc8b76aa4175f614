#!/usr/bin/env node
// Benchmark: oci-registry copy vs skopeo copy, registry -> new OCI layout, same run, median of N.
//   node tools/bench/registry.mjs [--runs 5] [--no-rss] [--image debian-redis,busybox,synthetic]
// Needs built packages: pnpm --filter @oci/testkit --filter @oci/fixtures --filter @oci/registry-client --filter @oci/cli-registry build
// Prints `RATIO <name>: ours/peer = X.XX (ours Yms, peer Zms)` lines, and `BASELINE` lines: `node -e 0` in this
// environment and with NODE_EXTRA_CA_CERTS cleared (a bare Node start: what a re-copy cannot go below), measured
// interleaved with the copies. Ours runs as users run it: the sh launcher bin/oci-registry (node bin/oci-registry.js
// when there is none). CPU is user+sys from bash's `times` (1 ms steps; GNU time's only 10 ms).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { startRegistry } = await import(join(root, 'tools/testkit/dist/index.js'));
const { buildFixture, pushFixture, cacheRoot, recipeHash } = await import(join(root, 'tools/fixtures/dist/index.js'));
const LAUNCHER = join(root, 'packages/cli-registry/bin/oci-registry');
const NATIVE = (() => {
  try {
    accessSync(join(root, 'packages/cli-registry/native/oci-registry-recopy'), fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
})();
const OURS = (() => {
  try {
    accessSync(LAUNCHER, fsConstants.X_OK);
    return [LAUNCHER];
  } catch {
    return [process.execPath, join(root, 'packages/cli-registry/bin/oci-registry.js')];
  }
})();
// the launcher runs `node` from PATH: make it this node
process.env.PATH = `${dirname(process.execPath)}:${process.env.PATH}`;

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? dflt : args[i + 1];
};
const RUNS = Number(opt('runs', 5));
const WANT_RSS = !args.includes('--no-rss');
// debian-redis when it is already built (it is slow to build), else busybox; plus a synthetic 97 MB image
const { existsSync } = await import('node:fs');
const redisBuilt = existsSync(join(cacheRoot(), `debian-redis-${await recipeHash('debian-redis')}`, 'info.json'));
const IMAGES = (opt('image', `${redisBuilt ? 'debian-redis' : 'busybox'},synthetic`)).split(',');

/**
 * Runs a command under bash (CPU of the children from `times`, ms) and /usr/bin/time (peak RSS): wall ms (ours),
 * CPU ms (user+sys) and stderr.
 */
function exec(cmd, argv, { env } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    // `times` prints two lines: the shell's own user/sys, then its children's
    const script = '/usr/bin/time -f "BENCHTIME %M" "$@"; rc=$?; times >&2; exit $rc';
    const child = spawn('bash', ['-c', script, 'bench', cmd, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${stderr}`));
      const rss = /BENCHTIME (\d+)/.exec(stderr);
      // the last "0m0.061s 0m0.012s" line: the children's user and system time
      const t = [...stderr.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)].at(-1);
      const cpu = t ? (Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4])) * 1000 : NaN;
      resolve({ ms, cpu, maxRssKb: rss ? Number(rss[1]) : NaN, stderr });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A layout with random (incompressible) layers, written without our code. */
async function syntheticLayout(dir, layerSizes) {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const layers = [];
  for (const size of layerSizes) {
    const hash = createHash('sha256');
    const tmp = join(dir, 'blobs', 'tmp');
    const out = createWriteStream(tmp);
    let left = size;
    while (left > 0) {
      const chunk = randomBytes(Math.min(left, 4 << 20));
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
      left -= chunk.length;
    }
    await new Promise((r) => out.end(r));
    const hex = hash.digest('hex');
    const { rename } = await import('node:fs/promises');
    await rename(tmp, join(dir, 'blobs', 'sha256', hex));
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${hex}`, size });
  }
  const put = async (obj) => {
    const bytes = Buffer.from(JSON.stringify(obj));
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(dir, 'blobs', 'sha256', hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const config = await put({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } });
  const manifest = await put({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers,
  });
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
  }));
}

async function pushLayout(reg, layoutDir, repo) {
  await exec('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-no-creds', `oci:${layoutDir}:latest`, `docker://${reg.host}/${repo}:latest`]);
}

const work = await mkdtemp('/dev/shm/oci-bench-registry-');
// our cold copies' recordings (~/.cache/oci-registry/copies) in the bench's own cache, not the user's: the warm-up
// copy by Node leaves it, and the measured cold copies are made from it by the native front end
process.env.XDG_CACHE_HOME = join(work, 'cache');
const reg = await startRegistry({ mode: 'plain' });
/** Ours (as users run it) and skopeo copying `docker://REGISTRY/NAME:latest` to `oci:DEST:latest`. */
const copyOf = (name, dest, env) => exec(OURS[0], [...OURS.slice(1), 'copy', '-q', '--src-tls-verify=false', '--src-no-creds',
  `docker://${reg.host}/${name}:latest`, `oci:${dest}:latest`], { env });
const skopeoOf = (name, dest) => exec('skopeo', ['copy', '-q', '--src-tls-verify=false', '--src-no-creds', `docker://${reg.host}/${name}:latest`, `oci:${dest}:latest`]);
try {
  for (const image of IMAGES) {
    const repo = `bench/${image}`;
    if (image === 'synthetic') {
      const dir = join(work, 'synthetic-src');
      await syntheticLayout(dir, [60 << 20, 25 << 20, 12 << 20]);
      await pushLayout(reg, dir, repo);
    } else {
      await buildFixture(image);
      await pushFixture(image, reg, repo, { format: 'oci' });
    }
    // the same image under a new name for each run: a copy of an image this command line never copied (for ours,
    // made from the recording the warm-up left for any image of the registry)
    const fresh = Array.from({ length: RUNS }, (_, i) => `${repo}-new-${i}`);
    for (const name of fresh) {
      if (image === 'synthetic') await pushLayout(reg, join(work, 'synthetic-src'), name);
      else await pushFixture(image, reg, name, { format: 'oci' });
    }
    const tool = {
      // env: OCI_REGISTRY_NATIVE=require for the re-copies when the native front end is built (a re-copy that Node
      // would have to do fails the bench instead of being measured as a replay), =0 for Node's own re-copy
      ours: (dest, env) => copyOf(repo, dest, env),
      peer: (dest) => skopeoOf(repo, dest),
    };
    // warm-up (page cache, registry)
    await tool.ours(join(work, 'warm-ours'));
    await tool.peer(join(work, 'warm-peer'));
    const cold = { ours: [], peer: [], oursCpu: [], peerCpu: [] };
    const coldNode = { ours: [], peer: cold.peer, oursCpu: [], peerCpu: cold.peerCpu };
    const coldNew = { ours: [], peer: [], oursCpu: [], peerCpu: [] };
    const recopy = { ours: [], peer: [], oursCpu: [], peerCpu: [] };
    const recopyNode = { ours: [], peer: recopy.peer, oursCpu: [], peerCpu: recopy.peerCpu };
    const base = { node: [], nodeCpu: [], bare: [], bareCpu: [] };
    for (let i = 0; i < RUNS; i++) {
      const n = await exec(process.execPath, ['-e', '0']);
      const b = await exec(process.execPath, ['-e', '0'], { env: { NODE_EXTRA_CA_CERTS: '' } });
      base.node.push(n.ms);
      base.nodeCpu.push(n.cpu);
      base.bare.push(b.ms);
      base.bareCpu.push(b.cpu);
      for (const who of i % 2 ? ['peer', 'ours'] : ['ours', 'peer']) {
        const dest = join(work, `${image}-${who}-${i}`);
        // ours: made from the recording the warm-up left (a hand-over to Node fails the bench instead of being measured)
        const c = await tool[who](dest, who === 'ours' && NATIVE ? { OCI_REGISTRY_NATIVE: 'require' } : undefined);
        cold[who].push(c.ms);
        cold[`${who}Cpu`].push(c.cpu);
        if (who === 'ours' && NATIVE && !existsSync(join(dest, '.oci-ts', 'recopy'))) throw new Error(`the cold copy into ${dest} left no recording`);
        const r = await tool[who](dest, who === 'ours' && NATIVE ? { OCI_REGISTRY_NATIVE: 'require' } : undefined);
        recopy[who].push(r.ms);
        recopy[`${who}Cpu`].push(r.cpu);
        if (who === 'ours') {
          const rn = await tool.ours(dest, { OCI_REGISTRY_NATIVE: '0' });
          recopyNode.ours.push(rn.ms);
          recopyNode.oursCpu.push(rn.cpu);
          // Node's own cold copy (the first copy of a command line, or OCI_REGISTRY_NATIVE=0)
          const nodeDest = `${dest}-node`;
          const cn = await tool.ours(nodeDest, { OCI_REGISTRY_NATIVE: '0' });
          coldNode.ours.push(cn.ms);
          coldNode.oursCpu.push(cn.cpu);
          await rm(nodeDest, { recursive: true, force: true });
        }
        await rm(dest, { recursive: true, force: true });
        const n = who === 'ours' ? await copyOf(fresh[i], dest, NATIVE ? { OCI_REGISTRY_NATIVE: 'require' } : undefined) : await skopeoOf(fresh[i], dest);
        coldNew[who].push(n.ms);
        coldNew[`${who}Cpu`].push(n.cpu);
        await rm(dest, { recursive: true, force: true });
      }
    }
    const line = (name, r) => {
      const o = median(r.ours);
      const p = median(r.peer);
      console.log(`RATIO registry-${name}-${image}: ours/peer = ${(o / p).toFixed(2)} (ours ${o.toFixed(0)}ms, peer ${p.toFixed(0)}ms)`);
      const oc = median(r.oursCpu);
      const pc = median(r.peerCpu);
      console.log(`RATIO registry-${name}-${image}-cpu: ours/peer = ${(oc / pc).toFixed(2)} (ours ${oc.toFixed(0)}ms, peer ${pc.toFixed(0)}ms CPU user+sys)`);
    };
    line('cold-copy', cold);
    line('cold-copy-new-image', coldNew);
    line('cold-copy-node', coldNode);
    line('recopy', recopy);
    line('recopy-node', recopyNode);
    console.log(`NOTE registry-recopy-${image}: ${NATIVE ? 'every cold copy and re-copy of ours made by native/oci-registry-recopy from the recordings the warm-up copy left (OCI_REGISTRY_NATIVE=require); cold-copy-new-image: an image pushed under a new name for each run, never copied before (from the recording for any image of the registry); cold-copy-node and recopy-node: Node\'s own (OCI_REGISTRY_NATIVE=0)' : 'native/oci-registry-recopy is not built: every copy ran on Node'}`);
    console.log(`BASELINE registry-${image}: node -e 0 ${median(base.node).toFixed(0)}ms (CPU ${median(base.nodeCpu).toFixed(0)}ms), ` +
      `bare start NODE_EXTRA_CA_CERTS= node -e 0 ${median(base.bare).toFixed(0)}ms (CPU ${median(base.bareCpu).toFixed(0)}ms); ` +
      `re-copy above the bare start: ours ${(median(recopy.ours) - median(base.bare)).toFixed(0)}ms, CPU ${(median(recopy.oursCpu) - median(base.bareCpu)).toFixed(0)}ms`);
  }

  if (WANT_RSS) {
    const dir = join(work, 'big-src');
    await syntheticLayout(dir, [1 << 30]);
    await pushLayout(reg, dir, 'bench/big');
    await rm(dir, { recursive: true, force: true });
    const dest = join(work, 'big-dest');
    // ours as users run it (made by the front end from the recording for any image of the registry that the
    // copies above left, when it is built), then Node's own copy (a first copy from a registry)
    const r = await copyOf('bench/big', dest);
    console.log(`RSS registry-copy-1GiB-layer: ours peak ${(r.maxRssKb / 1024).toFixed(0)} MB (target < 150 MB), ${(r.ms / 1000).toFixed(1)}s`);
    await rm(dest, { recursive: true, force: true });
    const rn = await copyOf('bench/big', dest, { OCI_REGISTRY_NATIVE: '0' });
    console.log(`RSS registry-copy-1GiB-layer-node: ours (Node) peak ${(rn.maxRssKb / 1024).toFixed(0)} MB (target < 150 MB), ${(rn.ms / 1000).toFixed(1)}s`);
    await rm(dest, { recursive: true, force: true });
    const p = await skopeoOf('bench/big', join(work, 'big-peer'));
    console.log(`RSS registry-copy-1GiB-layer: skopeo peak ${(p.maxRssKb / 1024).toFixed(0)} MB, ${(p.ms / 1000).toFixed(1)}s`);
    console.log(`RATIO registry-peak-rss-1GiB-layer: ours/peer = ${(r.maxRssKb / p.maxRssKb).toFixed(2)} (ours ${(r.maxRssKb / 1024).toFixed(0)} MB, peer ${(p.maxRssKb / 1024).toFixed(0)} MB; target ours < 150 MB)`);
    console.log(`RATIO registry-copy-1GiB-layer: ours/peer = ${(r.ms / p.ms).toFixed(2)} (ours ${r.ms.toFixed(0)}ms, peer ${p.ms.toFixed(0)}ms)`);
    console.log(`RATIO registry-peak-rss-1GiB-layer-node: ours/peer = ${(rn.maxRssKb / p.maxRssKb).toFixed(2)} (ours ${(rn.maxRssKb / 1024).toFixed(0)} MB, peer ${(p.maxRssKb / 1024).toFixed(0)} MB; target ours < 150 MB)`);
    console.log(`RATIO registry-copy-1GiB-layer-node: ours/peer = ${(rn.ms / p.ms).toFixed(2)} (ours ${rn.ms.toFixed(0)}ms, peer ${p.ms.toFixed(0)}ms)`);
  }
} finally {
  await reg.stop();
  await rm(work, { recursive: true, force: true });
}
