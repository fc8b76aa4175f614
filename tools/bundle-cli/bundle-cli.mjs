#!/usr/bin/env node
// Bundles the CLI entry (src/main.ts) into dist/main.js: one ESM file plus lazy chunks for what the
// commands load with `await import()`. Runs after tsc (which still emits dist/index.js and the .d.ts
// files of the library API). Node spends most of a CLI start resolving and loading hundreds of small
// modules; one bundle avoids that (see docs/registry-client.md, "Start-up").
//   oci-bundle-cli [--external NAME]...   (from the package directory)
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

// Run by a CLI package's build script: the package is the working directory.
const pkgDir = process.cwd();
const args = process.argv.slice(2);
const external = args.flatMap((a, i) => (args[i - 1] === '--external' ? [a] : []));

// Our libraries load some CommonJS files lazily through createRequire(import.meta.url) (undici's agent,
// tar-stream's PAX decoder). In the bundle import.meta.url is the chunk, from where those packages may not
// resolve: let esbuild see a plain `require` so that it bundles them (still evaluated lazily, on first call).
const inlineRequire = {
  name: 'inline-create-require',
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/](image-spec|registry-client|unpack)[\\/]dist[\\/].*\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('createRequire(import.meta.url)')) return undefined;
      const contents = text.replace(/const require = createRequire\(import\.meta\.url\);/g, '');
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

await rm(join(pkgDir, 'dist', 'chunks'), { recursive: true, force: true });
const result = await build({
  absWorkingDir: pkgDir,
  entryPoints: { main: 'src/main.ts' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // some bundled CommonJS calls require() for Node builtins
  banner: { js: "import { createRequire as __ociCreateRequire } from 'node:module';\nconst require = __ociCreateRequire(import.meta.url);" },
  external,
  plugins: [inlineRequire],
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
});
if (args.includes('--analyze')) {
  const { analyzeMetafile } = await import('esbuild');
  console.log(await analyzeMetafile(result.metafile));
}
