'use strict';
// The loader of a bundled CLI (copied to dist/cli-loader.cjs by oci-bundle-cli and by oci-runtime's bundler;
// bin/<name>.js calls run()).
// It compiles the one-file CommonJS bundle with vm.Script and a V8 code cache, which skips most of the
// compile work of a start. V8 caches the functions that have run, so there is one cache per command
// (<bundle>.<command>.cache, the command being the first argument that is not an option; `--help` runs have
// their own, <command>-help): the first run of a command that exits 0 writes it at exit (best effort,
// atomically; skipped where the package directory is read-only), later runs load it. A failed run is not
// cached: it ran a small part of the command, and the first cache written is the one later runs keep. When V8
// rejects a cache (after a Node upgrade, say) it is rewritten the same way.
// See docs/architecture.md, "Start-up of the command-line tools".
const fs = require('node:fs');
const path = require('node:path');

function cacheFileFor(file, command) {
  return `${file}.${command && /^[a-z][a-z0-9-]{0,31}$/.test(command) ? command : 'default'}.cache`;
}

/** Runs the bundle at `file` as the main module; `command` names its code cache (default: the first non-option argument). */
function run(file, command = process.argv.slice(2).find((a) => !a.startsWith('-'))) {
  // bin/NAME (sh) set the user's NODE_EXTRA_CA_CERTS aside so that Node would not load it at start: put it back
  const saved = process.env.OCI_NODE_EXTRA_CA_CERTS;
  if (saved !== undefined) {
    process.env.NODE_EXTRA_CA_CERTS = saved;
    delete process.env.OCI_NODE_EXTRA_CA_CERTS;
  }
  // and GLIBC_TUNABLES, when it set it (glibc read it at start; children get the caller's environment)
  if (process.env.OCI_GLIBC_TUNABLES === '1') {
    delete process.env.GLIBC_TUNABLES;
    delete process.env.OCI_GLIBC_TUNABLES;
  }
  const source = fs.readFileSync(file, 'utf8');
  const vm = require('node:vm');
  const help = process.argv.slice(2).some((a) => a === '--help' || a === '-h');
  const cacheFile = cacheFileFor(file, command && help ? `${command}-help` : command);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch { /* none yet */ }
  // the CommonJS wrapper on the first line, so that stack traces keep the bundle's line numbers
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', (code) => {
      if (code !== 0) return;
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, script.createCachedData());
        fs.renameSync(tmp, cacheFile);
      } catch {
        try { fs.unlinkSync(tmp); } catch { /* not written */ }
      }
    });
  }
  const mod = { exports: {} };
  // the bundle's require resolves from its own directory: this loader's require when the build put both in one
  // directory (it does), which spares loading node:module and the ES module loader behind createRequire (~1 ms)
  const dir = path.dirname(file);
  const bundleRequire = dir === __dirname ? require : require('node:module').createRequire(file);
  script.runInThisContext().call(mod.exports, mod.exports, bundleRequire, mod, file, dir);
}

module.exports = { run };

// Run as the main module by a CLI's sh launcher (bin/NAME), which saves Node from loading bin/NAME.js first
// (~1.5 ms of every start): OCI_CLI_BUNDLE names the bundle beside this file, OCI_CLI_COMMAND (optional) the
// command whose code cache to use. Both are removed before the bundle runs, so children never see them.
if (require.main === module) {
  const bundle = process.env.OCI_CLI_BUNDLE;
  const command = process.env.OCI_CLI_COMMAND;
  delete process.env.OCI_CLI_BUNDLE;
  delete process.env.OCI_CLI_COMMAND;
  if (bundle === undefined || !/^[a-z][a-z0-9-]*\.cjs$/.test(bundle)) {
    process.stderr.write(`${path.basename(__filename)}: run by a CLI's launcher, with OCI_CLI_BUNDLE naming a bundle in ${__dirname}\n`);
    process.exit(70);
  }
  // the launcher starts Node with --preserve-symlinks-main, which spares Node's own resolution of this file (one
  // lstat per path component, in JavaScript): resolve the directory here, in one native call, so that the bundle
  // and what it requires are found from the real place even when a parent directory is a symlink
  run(path.join(fs.realpathSync.native(__dirname), bundle), command || undefined);
}
