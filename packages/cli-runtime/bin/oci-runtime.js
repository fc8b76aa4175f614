#!/usr/bin/env node
// Tiny bin, CommonJS on purpose (bin/package.json): it loads the CLI bundled into one CommonJS file by the
// build (scripts/bundle.mjs), so a start resolves and compiles no ES module graph (docs/cli-runtime.md,
// "Start-up"). Without the bundle (a plain `tsc` build) it falls back to the ES module entry.
'use strict';
const nodeModule = require('node:module');
nodeModule.enableCompileCache?.();
try {
  require('../dist/oci-runtime.cjs');
} catch (err) {
  if (err?.code !== 'MODULE_NOT_FOUND' || !String(err.message).startsWith("Cannot find module '../dist/oci-runtime.cjs'")) throw err;
  import('../dist/main.js');
}
