#!/usr/bin/env node
// The oci-runtime command's entry (bin/oci-runtime, the sh launcher that npm links, execs it). CommonJS on
// purpose (bin/package.json). See docs/cli-runtime.md, "Start-up".
// It runs one of the two bundles the build wrote (scripts/bundle.mjs): dist/oci-runtime-query.cjs for the small
// frequent commands (QUERY below), dist/oci-runtime.cjs for everything else; one CommonJS file each, so that a
// start resolves and links no ES module graph. It compiles the bundle with a V8 code cache per bundle and
// command (dist/<bundle>.<command>.cache): V8 caches the functions that have run, so the first run of a command
// writes it at exit (best effort, atomically; skipped where dist/ is read-only) and later runs load it; a cache
// V8 rejects (after a Node upgrade, say) is rewritten the same way.
// Without the bundles (a plain `tsc` build) it falls back to the ES module entry.
'use strict';
// bin/oci-runtime (sh) set the caller's NODE_EXTRA_CA_CERTS aside so that Node would not load it at start: put it back
const savedCa = process.env.OCI_NODE_EXTRA_CA_CERTS;
if (savedCa !== undefined) {
  if (savedCa) process.env.NODE_EXTRA_CA_CERTS = savedCa;
  delete process.env.OCI_NODE_EXTRA_CA_CERTS;
}
const fs = require('node:fs');
const path = require('node:path');

const QUERY = new Set(['state', 'list', 'kill', 'start', 'delete', 'pause', 'resume']);
// global options that take a value as the next argument (options.ts GLOBAL_OPTIONS)
const VALUED = new Set(['--root', '--log', '--log-format', '--rootless', '--criu']);

/** The command: the first argument that is neither an option nor a global option's value. */
function commandOf(argv) {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return undefined;
    if (a.startsWith('-')) {
      if (VALUED.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}

const argv = process.argv.slice(2);
const command = commandOf(argv);
const help = argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-v');
const name = !help && QUERY.has(command) ? 'oci-runtime-query' : 'oci-runtime';
const file = path.join(__dirname, '..', 'dist', `${name}.cjs`);
let source;
try {
  source = fs.readFileSync(file, 'utf8');
} catch (err) {
  if (err?.code !== 'ENOENT') throw err;
}
if (source === undefined) {
  import('../dist/main.js');
} else {
  const vm = require('node:vm');
  const cacheFile = `${file}.${command && /^[a-z]{1,16}$/.test(command) ? command : 'default'}.cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch { /* no cache yet */ }
  // the CommonJS wrapper, on the first line so that stack traces keep the bundle's line numbers
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
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
  script.runInThisContext().call(mod.exports, mod.exports, require('node:module').createRequire(file), mod, file, path.dirname(file));
}
