#!/usr/bin/env node
// Bundles the oci-runtime CLI (dist/main.js after tsc, with @oci/runtime and @oci/runtime-spec) into one
// CommonJS file, dist/oci-runtime.cjs, which bin/oci-runtime.js loads with require(). Why CommonJS: Node
// spends most of this CLI's own start-up resolving, compiling and linking ES modules, and every
// `import ... from 'node:fs'` builds an ESM facade of the builtin that touches all its lazy getters
// (which loads fs streams). One CommonJS file avoids both (see docs/cli-runtime.md, "Start-up").
// yargs (help and usage errors only) and the generated schema validators stay outside, loaded on demand.
// Then one run of the bundle writes its V8 code cache, dist/oci-runtime.cjs.cache, which the bin uses.
//   node scripts/bundle.mjs [--analyze]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

// import.meta.url of a bundled library file -> the URL of that package's dist/index.js (same directory),
// found at run time, so that `new URL('../native/...', import.meta.url)` and createRequire() keep working.
const metaUrl = {
  name: 'package-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/](runtime|runtime-spec)[\\/]dist[\\/][^\\/]*\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const pkg = /[\\/]packages[\\/](runtime|runtime-spec)[\\/]/.exec(args.path)[1];
      return { contents: text.replaceAll('import.meta.url', `__ociPackageUrl(${JSON.stringify('@oci/' + pkg)})`), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

const result = await build({
  absWorkingDir: pkgDir,
  entryPoints: { 'oci-runtime': 'dist/main.js' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  banner: {
    js: [
      '"use strict";',
      'const __ociUrls = {};',
      // require.resolve() costs ~5 ms of CPU on its first call (it sets up the exports-map resolver):
      // try where pnpm (workspace, store) and npm put a dependency first, one stat each, and resolve only if it is elsewhere
      'function __ociPackageUrl(name) {',
      '  if (__ociUrls[name]) return __ociUrls[name];',
      "  const { existsSync } = require('node:fs');",
      "  const { join } = require('node:path');",
      "  const dirs = [join(__dirname, '..', 'node_modules', name), join(__dirname, '..', '..', '..', name)];",
      "  const dir = dirs.find((d) => existsSync(join(d, 'dist', 'index.js')));",
      "  const file = dir ? join(dir, 'dist', 'index.js') : require.resolve(name);",
      "  return (__ociUrls[name] = require('node:url').pathToFileURL(file).href);",
      '}',
    ].join('\n'),
  },
  external: ['yargs', 'yargs/*'],
  plugins: [metaUrl],
  supported: { 'top-level-await': true },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});

// The bin compiles the bundle with vm.Script, where import() has no loader: load yargs with require()
const out = join(pkgDir, 'dist', 'oci-runtime.cjs');
const text = readFileSync(out, 'utf8');
const patched = text.replaceAll('await import("yargs")', 'await Promise.resolve().then(() => ({ default: require("yargs") }))');
if (patched === text || /\bimport\(/.test(patched.replace(/__esm|init_/g, ''))) throw new Error('scripts/bundle.mjs: unexpected import() in the bundle');
writeFileSync(out, patched);

// the V8 code cache the bin loads: written by one run of the bundle (a `list` on an empty state root)
rmSync(join(pkgDir, 'dist', 'oci-runtime.cjs.cache'), { force: true });
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
