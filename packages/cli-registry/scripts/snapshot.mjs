#!/usr/bin/env node
// Builds dist/oci-registry.blob, a V8 startup snapshot of the CLI taken after warm-up copies
// (scripts/snapshot-entry.cjs), and dist/oci-registry.blob.node, an empty file with the modification time of the
// Node binary that built it: bin/oci-registry uses the snapshot only while `node` on the PATH is that binary (a
// snapshot is tied to one Node build; another refuses it). Never fails the build: without a blob, the launcher
// runs the bundle as before. See docs/registry-client.md, "A warmed startup snapshot".
//   node scripts/snapshot.mjs
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
// also the package's install script: a published package brings its bundle, and the snapshot is made for the
// Node binary of the machine it is installed on; in the workspace, `pnpm install` runs before any build
if (!existsSync(join(pkgDir, 'dist', 'oci-registry.cjs'))) process.exit(0);
const blob = join(pkgDir, 'dist', 'oci-registry.blob');
const stamp = `${blob}.node`;
const tmp = `${blob}.${process.pid}.tmp`;
rmSync(blob, { force: true });
rmSync(stamp, { force: true });

// the snapshot must not carry the builder's settings: start from a plain environment for Node itself
const env = { ...process.env };
delete env.NODE_OPTIONS;
delete env.NODE_EXTRA_CA_CERTS;
delete env.OCI_NODE_EXTRA_CA_CERTS;

function skip(why) {
  rmSync(tmp, { force: true });
  process.stderr.write(`oci-registry: no startup snapshot (${why}); the CLI runs its bundle as before\n`);
  process.exit(0);
}

// --no-warnings: Node warns that node:vm and node:module are "not yet fully verified" in snapshot builders; the
// warning would create process.stderr, a handle the snapshot cannot hold
const built = spawnSync(process.execPath, ['--no-warnings', '--snapshot-blob', tmp, '--build-snapshot', join(pkgDir, 'scripts', 'snapshot-entry.cjs')], {
  env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000, encoding: 'utf8',
});
if (built.status !== 0) {
  skip(`the builder exited ${built.status ?? built.signal}: ${(built.stderr ?? '').split('\n').filter((l) => !/Warning|may still work|To request support|trace-warnings|^\s*$/.test(l)).slice(0, 5).join(' | ')}`);
}
// the snapshot must answer as the bundle does
const run = (args) => spawnSync(process.execPath, args, { env: { ...env, OCI_REGISTRY_DIST: join(pkgDir, 'dist') }, encoding: 'utf8', timeout: 60_000 });
for (const args of [['--version'], ['--help'], ['frobnicate']]) {
  const a = run(['--snapshot-blob', tmp, '--', ...args]);
  const b = run([join(pkgDir, 'bin', 'oci-registry.js'), ...args]);
  if (a.status !== b.status || a.stdout !== b.stdout || a.stderr !== b.stderr) skip(`it answers \`${args.join(' ')}\` differently from the bundle`);
}
renameSync(tmp, blob);
const node = statSync(process.execPath);
closeSync(openSync(stamp, 'w'));
utimesSync(stamp, node.atime, node.mtime);
