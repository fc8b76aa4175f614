#!/usr/bin/env node
// Bundles a CLI package's entry (dist/main.js, after tsc) with the @oci libraries and npm dependencies it
// uses into one CommonJS file, dist/<bin>.cjs, copies the shared loader (loader.cjs) to dist/cli-loader.cjs,
// and writes the bundle's V8 code cache by running the CLI once. bin/<bin>.js loads the bundle through the
// loader; bin/<bin> (sh) starts Node without NODE_EXTRA_CA_CERTS. Why each piece: docs/architecture.md,
// "Start-up of the command-line tools".
//   oci-bundle-cli --bin NAME [--analyze]     (from the package directory)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_URL, bundleUrlCalls, cjsBundle, rewriteImportMeta } from './esbuild-parts.mjs';

// Run by a CLI package's build script: the package is the working directory.
const pkgDir = process.cwd();
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : args[i + 1];
};
const bin = opt('bin');
if (!bin) {
  console.error('oci-bundle-cli: --bin NAME is required (the bin name in package.json)');
  process.exit(2);
}
const here = dirname(new URL(import.meta.url).pathname);

// yargs imports node:assert for two internal checks, undici for assert(value) alone; loading node:assert costs
// ~4-5 ms of every start (it pulls in util/colors, which creates process.stderr and the stream modules). Give
// them those functions.
const yargsAssert = {
  name: 'oci-yargs-assert',
  setup(b) {
    b.onResolve({ filter: /^(node:)?assert$/ }, (a) =>
      /[\\/]yargs[\\/]/.test(a.importer) ? { path: 'assert', namespace: 'oci-yargs-assert' }
      : /[\\/]undici[\\/]/.test(a.importer) ? { path: 'assert', namespace: 'oci-undici-assert' }
      : undefined);
    // undici only calls assert(value) (31 modules; the build fails if one uses another assert function): a
    // function that throws as Node's does
    b.onLoad({ filter: /[\\/]node_modules[\\/]undici[\\/].*\.js$/ }, async (a) => {
      if (/\bassert\.[a-zA-Z]/.test(await readFile(a.path, 'utf8'))) throw new Error(`oci-bundle-cli: ${a.path} uses assert.*: extend the undici assert shim`);
      return undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'oci-undici-assert' }, () => ({
      loader: 'js',
      contents: 'module.exports = function assert(value, message) { if (!value) { const err = new Error(message ?? "The expression evaluated to a falsy value"); err.code = "ERR_ASSERTION"; throw err; } };',
    }));
    b.onLoad({ filter: /.*/, namespace: 'oci-yargs-assert' }, () => ({
      loader: 'js',
      contents: [
        'function fail(message) { const err = new Error(message); err.code = "ERR_ASSERTION"; throw err; }',
        'export function strictEqual(actual, expected, message) { if (!Object.is(actual, expected)) fail(message ?? `Expected ${String(actual)} to be strictly equal to ${String(expected)}`); }',
        'export function notStrictEqual(actual, expected, message) { if (Object.is(actual, expected)) fail(message ?? `Expected a value other than ${String(expected)}`); }',
      ].join('\n'),
    }));
  },
};

// Edits of bundled npm packages, each for start-up time, each keeping the package's behaviour; the build fails if a
// package's text ever differs (then check the replacement against the new version).
// - undici loads node:http (for one number and one class) and node:http2 (for header-name constants) when its
//   client modules load, and node:http2 pulls in node:tls: ~12% of the instructions of a registry re-copy, for
//   protocols we do not use (HTTP/1.1 to registries; TLS only when a registry is verified, loaded then). The
//   same values without loading those modules.
// - string-width (yargs' help layout, through cliui) creates an Intl.Segmenter when it loads: ICU's set-up,
//   13-20 ms of every start of every command here, measured; it is needed only to lay out --help. Created at the
//   first use instead.
// - yargs reads process.stdout.columns when its platform shim loads, which creates process.stdout (~4 ms): read
//   it when yargs asks for it (a getter) instead.
const dependencyEdits = {
  'undici/lib/dispatcher/client.js': [[
    "const http = require('node:http')",
    // what http.maxHeaderSize returns: the --max-http-header-size option (execArgv or NODE_OPTIONS), default 16 KiB
    "const http = { maxHeaderSize: (() => { const a = [...process.execArgv, ...(process.env.NODE_OPTIONS || '').split(/\\s+/)]; " +
      "for (let i = 0; i < a.length; i++) { const m = /^--max-http-header-size(?:=(\\d+))?$/.exec(a[i]); if (m) return Number(m[1] ?? a[i + 1]); } return 16384 })() }",
  ]],
  'undici/lib/dispatcher/client-h2.js': [[
    "http2 = require('node:http2')",
    "http2 = { constants: { HTTP2_HEADER_AUTHORITY: ':authority', HTTP2_HEADER_METHOD: ':method', HTTP2_HEADER_PATH: ':path', " +
      "HTTP2_HEADER_SCHEME: ':scheme', HTTP2_HEADER_CONTENT_LENGTH: 'content-length', HTTP2_HEADER_EXPECT: 'expect', HTTP2_HEADER_STATUS: ':status' }, " +
      "connect: (...args) => require('node:http2').connect(...args) }",
  ]],
  'undici/lib/core/util.js': [
    ["const { IncomingMessage } = require('node:http')", ''],
    ['if (Object.getPrototypeOf(stream).constructor === IncomingMessage) {',
      "if (Object.getPrototypeOf(stream).constructor?.name === 'IncomingMessage' && Object.getPrototypeOf(stream).constructor === require('node:http').IncomingMessage) {"],
  ],
  'string-width/index.js': [[
    'const segmenter = new Intl.Segmenter();',
    'let segmenterInstance; const segmenter = { segment: (s) => (segmenterInstance ??= new Intl.Segmenter()).segment(s) };',
  ]],
  'yargs/lib/platform-shims/esm.mjs': [[
    "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null",
    "get stdColumns () { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null }",
  ]],
};
const applied = new Set();
const editDependencies = {
  name: 'oci-edit-dependencies',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/](undici|yargs|string-width)[\\/].*\.m?js$/ }, async (a) => {
      const rel = a.path.split(sep).join('/').replace(/^.*\/node_modules\/((undici|yargs|string-width)\/.*)$/, '$1');
      const edits = dependencyEdits[rel];
      if (!edits) return undefined;
      applied.add(rel);
      let text = await readFile(a.path, 'utf8');
      for (const [from, to] of edits) {
        if (!text.includes(from)) throw new Error(`oci-bundle-cli: ${rel} no longer has ${JSON.stringify(from)}: update dependencyEdits`);
        text = text.replace(from, to);
      }
      return { contents: text, loader: 'js', resolveDir: dirname(a.path) };
    });
  },
};


const out = join(pkgDir, 'dist', `${bin}.cjs`);
const result = await build({
  absWorkingDir: pkgDir,
  entryPoints: { [bin]: 'dist/main.js' },
  ...cjsBundle,
  // import.meta.url of bundled npm packages (yargs: its locales, which are optional): the bundle's own URL
  define: { 'import.meta.url': BUNDLE_URL },
  plugins: [rewriteImportMeta, yargsAssert, editDependencies],
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
});
// an edited package in the bundle whose file was not edited: it moved in a new version (update dependencyEdits)
for (const rel of Object.keys(dependencyEdits)) {
  const pkg = rel.split('/')[0];
  const bundled = Object.keys(result.metafile.inputs).some((i) => i.includes(`/node_modules/${pkg}/`));
  if (bundled && !applied.has(rel)) throw new Error(`oci-bundle-cli: ${rel} is not in the bundle any more: update dependencyEdits`);
}

// The loader compiles the bundle with vm.Script, where import() has no module loader: Node builtins that
// esbuild left as import() are loaded with require(); anything else must be bundled. (esbuild prints code
// strings with double quotes; single-quoted import('...') are in comments of bundled packages.)
const text = bundleUrlCalls(readFileSync(out, 'utf8')).replace(/\bimport\("((?:node:)?[a-z_/]+)"\)/g, (all, name) =>
  builtinModules.includes(name.replace(/^node:/, ''))
    ? `Promise.resolve().then(() => { const m = require(${JSON.stringify(name)}); return { ...m, default: m }; })`
    : all);
const dynamic = text.match(/\bimport\("[^"]*"\)/g);
if (dynamic) throw new Error(`oci-bundle-cli: ${relative(pkgDir, out)} still has ${dynamic.join(', ')}: bundle it or load it with require()`);
writeFileSync(out, text);
// The bundle's content hash: a startup snapshot made from it (oci-registry) compares it with the one it was built
// from; modification times cannot tell, since a build cache restores the same bundle with new ones.
writeFileSync(`${out}.sha256`, `${createHash('sha256').update(text).digest('hex')}\n`);
copyFileSync(join(here, 'loader.cjs'), join(pkgDir, 'dist', 'cli-loader.cjs'));

// The loader writes one V8 code cache per command on its first run; drop those of an older bundle.
for (const f of readdirSync(join(pkgDir, 'dist'))) if (f.startsWith(`${bin}.cjs.`) && f.endsWith('.cache')) rmSync(join(pkgDir, 'dist', f), { force: true });
// One run writes the cache of --help (usage errors and help are common first runs).
const r = spawnSync(process.execPath, [join(pkgDir, 'bin', `${bin}.js`), '--help'], { stdio: 'ignore', timeout: 60_000 });
if (r.error) throw r.error;

if (args.includes('--analyze')) {
  const { analyzeMetafile } = await import('esbuild');
  console.log(await analyzeMetafile(result.metafile));
}
