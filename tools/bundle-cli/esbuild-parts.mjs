// esbuild pieces every oci CLI bundle needs (tools/bundle-cli/bundle-cli.mjs and oci-runtime's own bundler,
// packages/cli-runtime/scripts/bundle.mjs): our libraries' import.meta.url rewritten to the installed package's
// file, and the banner that finds that file at run time.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';

// Where a bundled @oci library file came from: its package name and its path inside the package.
function ociPackageFile(path) {
  const m = /[\\/]((?:packages|tools)[\\/][^\\/]+)[\\/](dist[\\/].*\.js)$/.exec(path);
  if (!m) return undefined;
  const pkgJson = JSON.parse(readFileSync(join(path.slice(0, m.index), m[1], 'package.json'), 'utf8'));
  return { name: pkgJson.name, file: m[2].split(sep).join('/') };
}

// Two rewrites in our own libraries' files:
// - `const require = createRequire(import.meta.url);` is dropped, so that esbuild sees plain require() calls and
//   bundles what they load (undici's agent, tar-stream's PAX decoder, image-spec's validators); they still run
//   lazily, on first call.
// - any other import.meta.url becomes the URL of the same file in the installed package, found at run time
//   (__ociPackageUrl in the banner), so that `new URL('../native/...', import.meta.url)` and
//   createRequire(import.meta.url)('./generated/x.cjs') keep pointing into that package.
export const rewriteImportMeta = {
  name: 'oci-import-meta',
  setup(b) {
    b.onLoad({ filter: /[\\/](packages|tools)[\\/][^\\/]+[\\/]dist[\\/].*\.js$/ }, async (a) => {
      const text = await readFile(a.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const where = ociPackageFile(a.path);
      if (!where) return undefined;
      const contents = text
        .replace(/const require = createRequire\(import\.meta\.url\);/g, '')
        .replaceAll('import.meta.url', `__ociPackageUrl(${JSON.stringify(where.name)}, ${JSON.stringify(where.file)})`);
      return { contents, loader: 'js', resolveDir: dirname(a.path) };
    });
  },
};

/**
 * The bundle's banner: __ociPackageUrl(name, file) for the rewrites above, __ociBundleUrl() for npm packages'
 * import.meta.url (see BUNDLE_URL).
 */
export const banner = [
  '"use strict";',
  // bundled npm packages may declare their own top-level __dirname (yargs does): keep ours
  'const __ociDir = __dirname;',
  // computed on first use: node:url's pathToFileURL costs ~0.4 ms of a start, and most runs never ask
  'let __ociBundleUrlValue;',
  "function __ociBundleUrl() { return (__ociBundleUrlValue ??= require('node:url').pathToFileURL(__filename).href); }",
  // require.resolve() costs ~5 ms of CPU on its first call (it sets up the exports-map resolver): try where
  // pnpm (workspace, store) and npm put a dependency first, one stat each, and resolve only if it is elsewhere.
  'const __ociUrls = new Map();',
  'function __ociPackageUrl(name, file) {',
  '  const key = name + "/" + file;',
  '  let url = __ociUrls.get(key);',
  '  if (url) return url;',
  "  const { existsSync } = require('node:fs');",
  "  const { dirname, join } = require('node:path');",
  "  const dirs = [join(__ociDir, '..', 'node_modules', name), join(__ociDir, '..', '..', '..', name)];",
  "  let dir = dirs.find((d) => existsSync(join(d, 'package.json')));",
  "  if (dir === undefined) dir = dirname(require.resolve(name + '/package.json'));",
  "  url = require('node:url').pathToFileURL(join(dir, file)).href;",
  '  __ociUrls.set(key, url);',
  '  return url;',
  '}',
].join('\n');

/** The esbuild options every oci CLI bundle shares: one CommonJS file per entry in dist/, for Node 20, with the banner. */
export const cjsBundle = {
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  banner: { js: banner },
};

/**
 * What a bundler defines import.meta.url of bundled npm packages as (esbuild's define takes an identifier, not a
 * call): the build then replaces it with `__ociBundleUrl()` in the output (bundleUrlCalls).
 */
export const BUNDLE_URL = '__ociBundleUrlOfImportMeta';

/** The output text with every BUNDLE_URL made a call of the banner's lazy __ociBundleUrl(). */
export function bundleUrlCalls(text) {
  return text.replaceAll(BUNDLE_URL, '__ociBundleUrl()');
}
