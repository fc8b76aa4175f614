#!/usr/bin/env node
// The oci-runtime command's entry (bin/oci-runtime, the sh launcher that npm links, execs it). CommonJS on
// purpose (bin/package.json). See docs/cli-runtime.md, "Start-up".
// It runs one of the two bundles the build wrote (scripts/bundle.mjs): dist/oci-runtime-query.cjs for the small
// frequent commands (QUERY below), dist/oci-runtime.cjs for everything else, through dist/cli-loader.cjs (the
// loader of every oci CLI, tools/bundle-cli: it restores NODE_EXTRA_CA_CERTS, which bin/oci-runtime set aside,
// and compiles the bundle with a V8 code cache per bundle and command).
'use strict';
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
require('../dist/cli-loader.cjs').run(require('node:path').join(__dirname, '..', 'dist', `${name}.cjs`), command);
