#!/usr/bin/env node
// Loads the oci CLI: the one-file bundle dist/oci.cjs with its V8 code cache, through
// dist/cli-loader.cjs (both written by the build), or the plain ES module build when there is no bundle.
// CommonJS on purpose (bin/package.json): no ES module graph to resolve at start. bin/oci (sh)
// is the command npm links; see docs/architecture.md, "Start-up of the command-line tools".
'use strict';
const saved = process.env.OCI_NODE_EXTRA_CA_CERTS;
if (saved !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = saved;
  delete process.env.OCI_NODE_EXTRA_CA_CERTS;
}
let loader;
try {
  loader = require('../dist/cli-loader.cjs');
} catch (err) {
  if (err?.code !== 'MODULE_NOT_FOUND') throw err;
}
if (loader) loader.run(require('node:path').join(__dirname, '..', 'dist', 'oci.cjs'));
else import('../dist/main.js');
