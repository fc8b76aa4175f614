#!/usr/bin/env node
// Benchmark: @oci/layout putBlob of a 1 GiB stream vs `sha256sum FILE` + `cp FILE` of the same file,
// in the same run, on tmpfs (/dev/shm) so the disk does not decide. Median of N runs (BENCH_RUNS, default 3).
// The input (random bytes) is generated once per run and removed at the end unless BENCH_KEEP=1; BENCH_BYTES sets its size.
// Needs the package built: pnpm --filter @oci/layout build
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { Layout } = await import(join(root, 'packages/layout/dist/index.js'));

const runs = Number(process.env.BENCH_RUNS ?? 3);
const size = Number(process.env.BENCH_BYTES ?? 1 << 30);
const base = existsSync('/dev/shm') ? '/dev/shm' : (process.env.TMPDIR ?? '/tmp');
const input = join(base, `oci-bench-layout-${size}.bin`);

if (!existsSync(input) || statSync(input).size !== size) {
  // random content, generated once and kept for later runs
  execFileSync('sh', ['-c', `head -c ${size} /dev/urandom > ${input}.part && mv ${input}.part ${input}`]);
}

const keep = process.env.BENCH_KEEP === '1'; // keep the input for later runs (it takes RAM on tmpfs)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ours = [];
const peer = [];
const parts = [];
let digest;
for (let i = 0; i < runs; i++) {
  const dir = await mkdtemp(join(base, 'oci-bench-layout-'));
  try {
    const layout = await Layout.init(join(dir, 'layout'));
    let t = performance.now();
    const r = await layout.putBlob(createReadStream(input, { highWaterMark: 1 << 20 }));
    ours.push(performance.now() - t);
    digest = r.digest;

    t = performance.now();
    const sum = execFileSync('sha256sum', [input]).toString().split(' ')[0];
    const tSum = performance.now() - t;
    execFileSync('cp', [input, join(dir, 'copy')]);
    peer.push(performance.now() - t);
    parts.push(`sha256sum ${tSum.toFixed(0)} + cp ${(performance.now() - t - tSum).toFixed(0)}`);
    if (`sha256:${sum}` !== digest) throw new Error(`digest disagreement: ours ${digest}, sha256sum ${sum}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
if (!keep) await rm(input, { force: true });
const o = median(ours);
const p = median(peer);
const label = size % (1 << 30) === 0 ? `${size / (1 << 30)}GiB` : `${Math.round(size / (1 << 20))}MiB`;
console.log(`runs: ours ${ours.map((x) => x.toFixed(0)).join(' ')} ms; sha256sum+cp ${parts.join(', ')} ms (${input})`);
console.log(`RATIO layout-put-${label}: ours/(sha256sum+cp) = ${(o / p).toFixed(2)} (ours ${o.toFixed(0)}ms, peer ${p.toFixed(0)}ms)`);
