#!/usr/bin/env node
// Bundles the oci-runtime CLI (dist/main.js after tsc, with @oci/runtime and @oci/runtime-spec) into one
// CommonJS file, dist/oci-runtime.cjs, which bin/oci-runtime.js compiles and runs; and the entry of the small
// frequent commands (dist/main-query.js: state, list, kill, start, delete, pause, resume) into a second, smaller
// one, dist/oci-runtime-query.cjs (tree-shaken: no planning, helper protocol, hooks, spec tables). Why CommonJS: Node
// spends most of this CLI's own start-up resolving, compiling and linking ES modules, and every
// `import ... from 'node:fs'` builds an ESM facade of the builtin that touches all its lazy getters
// (which loads fs streams). One CommonJS file avoids both (see docs/cli-runtime.md, "Start-up").
// yargs (help and usage errors only) and the generated schema validators stay outside, loaded on demand.
// The V8 code caches (one per bundle and command, dist/<bundle>.<command>.cache) are written by the bin at the
// first run of each command; the build removes stale ones and writes the `list` cache of each bundle.
//   node scripts/bundle.mjs [--analyze]
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cjsBundle, rewriteImportMeta } from '@oci/bundle-cli/esbuild-parts.mjs';
import { build } from 'esbuild';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

const result = await build({
  absWorkingDir: pkgDir,
  entryPoints: { 'oci-runtime': 'dist/main.js', 'oci-runtime-query': 'dist/main-query.js' },
  // the shared pieces of every oci CLI bundle (tools/bundle-cli): CommonJS for Node 20, and import.meta.url of
  // our libraries rewritten to the installed package's file
  ...cjsBundle,
  external: ['yargs', 'yargs/*'],
  plugins: [rewriteImportMeta],
  supported: { 'top-level-await': true },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});

// The bin compiles the bundles with vm.Script, where import() has no loader: load yargs with require()
for (const name of ['oci-runtime', 'oci-runtime-query']) {
  const out = join(pkgDir, 'dist', `${name}.cjs`);
  const text = readFileSync(out, 'utf8');
  const patched = text.replaceAll('await import("yargs")', 'await Promise.resolve().then(() => ({ default: require("yargs") }))');
  if (patched === text || /\bimport\(/.test(patched.replace(/__esm|init_/g, ''))) throw new Error(`scripts/bundle.mjs: unexpected import() in ${name}.cjs`);
  writeFileSync(out, patched);
}

// the loader the bin runs the bundles with: the one every oci CLI uses (tools/bundle-cli)
copyFileSync(createRequire(import.meta.url).resolve('@oci/bundle-cli/loader.cjs'), join(pkgDir, 'dist', 'cli-loader.cjs'));

// stale V8 code caches (another build's) would be rejected and rewritten anyway: remove them, then write the
// query bundle's `list` cache (a `list` on an empty state root); the others are written by their first run
for (const f of readdirSync(join(pkgDir, 'dist'))) if (f.endsWith('.cache')) rmSync(join(pkgDir, 'dist', f), { force: true });
const root = mkdtempSync(join(tmpdir(), 'oci-runtime-cache-'));
try {
  spawnSync(process.execPath, [join(pkgDir, 'bin', 'oci-runtime.js'), '--root', root, 'list'], { stdio: 'ignore' });
} finally {
  rmSync(root, { recursive: true, force: true });
}

if (process.argv.includes('--analyze')) {
  const { analyzeMetafile } = await import('esbuild');
  console.log(await analyzeMetafile(result.metafile));
}
