'use strict';
// The entry of `node --build-snapshot` for oci-registry (run by scripts/snapshot.mjs at build time, never shipped
// as code that runs): evaluates the CLI bundle, copies a small image twice (cold, then every blob present) from
// a registry served here on 127.0.0.1 into a temporary layout, so that the functions a copy runs, Node's own
// included, are compiled when V8 saves the heap, forgets the state those copies left (caches of files read,
// this process's start time, free body memory), and sets the main function of the processes started from the
// snapshot. Node compiles the functions of its builtins lazily from source at every start; a snapshot taken
// after a warm-up spares that too (docs/registry-client.md, "A warmed startup snapshot").
// A snapshot builder can require builtins only: everything else is in the bundle.
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');
const v8 = require('node:v8');
const { createHash, randomBytes } = require('node:crypto');

const dist = path.join(__dirname, '..', 'dist');
const bundle = path.join(dist, 'oci-registry.cjs');

// What dist/cli-loader.cjs does (the wrapper, restoring NODE_EXTRA_CA_CERTS below), written out here: a file
// module required while the snapshot is built leaves Node's module loader in a state it refuses on restore
// (ERR_INTERNAL_ASSERTION in setupUserModules), so the loader is used only after it (the moved-package case).
let cli;
globalThis.__ociSnapshotBuilder = { register: (hooks) => { cli = hooks; } };
const source = fs.readFileSync(bundle, 'utf8');
// what the bundler wrote beside it (dist/oci-registry.cjs.sha256): the restored process compares
const builtFrom = createHash('sha256').update(source).digest('hex');
const wrapped = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle });
const mod = { exports: {} };
wrapped.call(mod.exports, mod.exports, require('node:module').createRequire(bundle), mod, bundle, dist);
delete globalThis.__ociSnapshotBuilder;
if (cli === undefined) throw new Error('the bundle did not register with the snapshot builder');

const sha256 = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A tiny image: a config, a layer big enough to go through the body slabs (> 256 KiB) and a small one. */
function image() {
  const layers = [randomBytes(600 << 10), randomBytes(10 << 10)];
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: {},
    rootfs: { type: 'layers', diff_ids: layers.map(sha256) },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l), size: l.length })),
  }));
  const blobs = new Map([config, ...layers].map((b) => [sha256(b), b]));
  return { manifest, manifestDigest: sha256(manifest), blobs };
}

/** Enough of the distribution API for a pull (keep-alive, GET and HEAD), on 127.0.0.1. */
function serve({ manifest, manifestDigest, blobs }) {
  const sockets = new Set();
  const answer = (socket, head) => {
    const [method, target] = head.split(' ');
    let status = 200;
    let body = Buffer.from('{}');
    const headers = { 'Docker-Distribution-API-Version': 'registry/2.0', 'Content-Type': 'application/json' };
    const m = /^\/v2\/warm\/image\/(manifests|blobs)\/(.+)$/.exec(target);
    if (target === '/v2/') {
      // the API root answers {}
    } else if (m?.[1] === 'manifests' && (m[2] === 'latest' || m[2] === manifestDigest)) {
      body = manifest;
      headers['Content-Type'] = 'application/vnd.oci.image.manifest.v1+json';
      headers['Docker-Content-Digest'] = manifestDigest;
    } else if (m?.[1] === 'blobs' && blobs.has(m[2])) {
      body = blobs.get(m[2]);
      headers['Content-Type'] = 'application/octet-stream';
      headers['Docker-Content-Digest'] = m[2];
    } else {
      status = 404;
      body = Buffer.from('{"errors":[{"code":"NAME_UNKNOWN","message":"unknown"}]}');
    }
    const lines = [`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Not Found'}`, `Content-Length: ${body.length}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (method !== 'HEAD') socket.write(body);
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (data) => {
      pending = Buffer.concat([pending, data]);
      for (let end; (end = pending.indexOf('\r\n\r\n')) !== -1;) {
        answer(socket, pending.subarray(0, end).toString('latin1'));
        pending = pending.subarray(end + 4);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    host: `127.0.0.1:${server.address().port}`,
    close: () => new Promise((done) => {
      for (const s of sockets) s.destroy();
      server.close(() => done());
    }),
  })));
}

async function warmUp() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'oci-registry-snapshot-'));
  const registry = await serve(image());
  try {
    // configuration shaped like the files distributions ship (comments, tables, arrays of tables, a drop-in full of
    // short-name aliases), so that the code parsing them is warm too (a trivial file left it cold: ~2 ms per start)
    const policy = path.join(work, 'policy.json');
    fs.writeFileSync(policy, `${JSON.stringify({
      default: [{ type: 'insecureAcceptAnything' }],
      transports: { 'docker-daemon': { '': [{ type: 'insecureAcceptAnything' }] } },
    }, null, 4)}\n`);
    const conf = path.join(work, 'registries.conf');
    fs.writeFileSync(conf, [
      '# For more information on this configuration file, see containers-registries.conf(5).',
      '#',
      '# unqualified-search-registries = ["example.com"]',
      'unqualified-search-registries = ["registry.example"]',
      'short-name-mode = "permissive"',
      '',
      '[[registry]]',
      'prefix = "mirrored.example/library"',
      'location = "mirrored.example/library"',
      'insecure = false',
      'blocked = false',
      '',
      '[[registry.mirror]]',
      'location = "mirror.example:5000/library"',
      'insecure = true',
      '',
    ].join('\n'));
    const dropIns = path.join(work, 'registries.conf.d');
    fs.mkdirSync(dropIns);
    const names = Array.from({ length: 40 }, (_, i) => `image${i}`);
    fs.writeFileSync(path.join(dropIns, '000-shortnames.conf'), ['[aliases]', '  # some images',
      ...names.map((n) => `  "${n}" = "registry.example/library/${n}"`), ''].join('\n'));
    const authFile = path.join(work, 'auth.json');
    fs.writeFileSync(authFile, '{"auths":{}}\n');
    // through the environment, as users set them: the default lookups run (and their caches fill, then are forgotten)
    process.env.REGISTRY_AUTH_FILE = authFile;
    process.env.CONTAINERS_REGISTRIES_CONF = conf;
    const copy = (extra) => ['copy', '-q', '--policy', policy, ...extra, '--src-tls-verify=false',
      `docker://${registry.host}/warm/image:latest`, `oci:${path.join(work, 'layout')}:latest`];
    // as the benchmark and scripts copy (anonymous), then again with every blob present, then with the auth file
    for (const argv of [copy(['--src-no-creds']), copy(['--src-no-creds']), copy([])]) {
      const status = await cli.main(argv);
      if (status !== 0) throw new Error(`warm-up copy exited ${status}`);
    }
  } finally {
    delete process.env.REGISTRY_AUTH_FILE;
    delete process.env.CONTAINERS_REGISTRIES_CONF;
    await registry.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
  await cli.forgetProcessState();
  // nothing may stay open in a snapshot (sockets close on a later turn of the loop); stdio streams the copies
  // looked at (is stderr a terminal?) are dropped by Node itself when it serializes
  const handles = () => process._getActiveHandles().filter((h) => h._isStdio !== true);
  for (let i = 0; i < 200 && handles().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  const open = handles();
  if (open.length > 0) throw new Error(`handles still open after the warm-up: ${open.map((h) => `${h.constructor.name} ${h.remotePort ?? ''}`).join(', ')}`);
}

warmUp().catch((err) => {
  process.stderr.write(`oci-registry snapshot: ${err.stack ?? err}\n`);
  process.exit(1);
});

const builtDist = fs.realpathSync(dist);
v8.startupSnapshot.setDeserializeMainFunction(() => {
  // bin/oci-registry (sh) set the user's NODE_EXTRA_CA_CERTS aside, and says where the package is
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
  const here = process.env.OCI_REGISTRY_DIST;
  delete process.env.OCI_REGISTRY_DIST;
  // `node --snapshot-blob BLOB -- ARGS...`: argv as if bin/oci-registry.js had been run
  let real = builtDist;
  let installed;
  try {
    if (here !== undefined) real = fs.realpathSync(here);
    installed = fs.readFileSync(path.join(real, 'oci-registry.cjs.sha256'), 'latin1').trim();
  } catch { /* gone: the check below falls back */ }
  process.argv.splice(1, 0, path.join(real, '..', 'bin', 'oci-registry.js'));
  if (real !== builtDist || installed !== builtFrom) {
    // the package moved since this snapshot was built (its bundle knows the old place), or its bundle is not the
    // one the snapshot holds (rebuilt, or restored from a build cache, without a new snapshot): run the installed one
    require('node:module').createRequire(path.join(real, 'x.cjs'))('./cli-loader.cjs').run(path.join(real, 'oci-registry.cjs'));
    return;
  }
  void cli.main(process.argv.slice(2)).then(cli.exit);
});
