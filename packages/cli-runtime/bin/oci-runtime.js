#!/usr/bin/env node
// The oci-runtime command's entry (bin/oci-runtime, the sh launcher that npm links, execs it). Tiny bin,
// CommonJS on purpose (bin/package.json). It runs the CLI bundled into one CommonJS file by the build
// (scripts/bundle.mjs) so that a start resolves and links no ES module graph, and compiles it with a V8 code cache
// (dist/oci-runtime.cjs.cache, written by the build; rewritten here, best effort, when V8 rejects it, e.g. after a Node upgrade). See docs/cli-runtime.md, "Start-up".
// Without the bundle (a plain `tsc` build) it falls back to the ES module entry.
'use strict';
// bin/oci-runtime (sh) set the caller's NODE_EXTRA_CA_CERTS aside so that Node would not load it at start: put it back
const savedCa = process.env.OCI_NODE_EXTRA_CA_CERTS;
if (savedCa !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = savedCa;
  delete process.env.OCI_NODE_EXTRA_CA_CERTS;
}
const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', 'dist', 'oci-runtime.cjs');
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
  const cacheFile = `${file}.cache`;
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
