#!/usr/bin/env node
// The oci-image command's entry (bin/oci-image, the sh launcher that npm links, execs it): runs the one-file bundle
// the build wrote, dist/oci-image.cjs, through dist/cli-loader.cjs (V8 code cache; restores NODE_EXTRA_CA_CERTS).
// CommonJS on purpose (bin/package.json). See docs/architecture.md, "Start-up of the command-line tools".
'use strict';
require('../dist/cli-loader.cjs').run(require('node:path').join(__dirname, '..', 'dist', 'oci-image.cjs'));
