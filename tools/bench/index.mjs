#!/usr/bin/env node
// Runs every benchmark in this folder (or those named: node tools/bench/index.mjs layout unpack) one
// after another, passes their output through, and ends with a summary of the RATIO lines they printed.
// Each benchmark runs ours and the peer on the same input in the same run; see README.md.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const all = readdirSync(here).filter((f) => f.endsWith('.mjs') && f !== 'index.mjs').map((f) => f.slice(0, -4)).sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; there are: ${all.join(', ')}`);
  process.exit(2);
}
const ratios = [];
let failed = 0;
for (const name of wanted.length ? wanted : all) {
  console.log(`\n### ${name}`);
  const r = spawnSync(process.execPath, [join(here, `${name}.mjs`)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(r.stdout);
  for (const line of r.stdout.split('\n')) if (line.startsWith('RATIO ')) ratios.push(line);
  if (r.status !== 0) { failed += 1; console.log(`(${name} exited with ${r.status ?? r.signal})`); }
}
console.log('\n### summary');
for (const line of ratios) console.log(line);
process.exit(failed ? 1 : 0);
