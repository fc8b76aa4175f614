// The main job, end to end, with our CLIs only (registry -> layout -> bundle -> running process):
//   1. start the real distribution registry (Debian's docker-registry) on 127.0.0.1,
//   2. push the locally built `hello` and `busybox` images into it (skopeo, an independent tool),
//   3. oci-registry copy docker://127.0.0.1:PORT/hello:latest oci:LAYOUT:latest   (skopeo copy's job)
//   4. oci-image create --ref latest LAYOUT BUNDLE                                 (oci-image-tool create's job)
//   5. oci-runtime run -b BUNDLE ID                                                 (runc run's job)
//   6. oci run docker://127.0.0.1:PORT/busybox:latest -- sh -c '...'              (all of it in one command)
// Run it with `bash tools/demo.sh`, which installs and builds first.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
// the commands as npm links them: bin/NAME (a sh launcher, docs/architecture.md) or bin/NAME.js
const bin = (pkg, name) => [join(root, 'packages', pkg, 'bin', name), join(root, 'packages', pkg, 'bin', `${name}.js`)].find((f) => existsSync(f));
const built = (pkg) => existsSync(join(root, 'packages', pkg, 'dist', 'main.js'));
const say = (msg) => process.stderr.write(`\n\x1b[1m==> ${msg}\x1b[0m\n`);

function sh(cmd, args, opts = {}) {
  process.stderr.write(`$ ${[cmd, ...args].join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status ?? r.signal}`);
}

const { startRegistry } = await import('@oci/testkit');
const { buildFixture, pushFixture } = await import('@oci/fixtures');

const work = mkdtempSync(join(tmpdir(), 'oci-demo-'));
let registry;
try {
  say('building the test images from Debian packages (cached)');
  await buildFixture('hello');
  await buildFixture('busybox');

  say('starting the distribution registry on loopback');
  registry = await startRegistry({ mode: 'plain' });
  process.stderr.write(`registry at ${registry.url}\n`);
  await pushFixture('hello', registry, 'library/hello', { format: 'oci' });
  await pushFixture('busybox', registry, 'library/busybox', { format: 'oci' });

  const layout = join(work, 'hello');
  const bundle = join(work, 'bundle');
  if (!built('cli-registry')) throw new Error('oci-registry is not built; run bash tools/setup.sh');
  say('pull: registry -> OCI image layout');
  sh(bin('cli-registry', 'oci-registry'), ['copy', '--src-tls-verify=false', `docker://${registry.host}/library/hello:latest`, `oci:${layout}:latest`]);

  if (built('cli-image')) {
    say('create: layout -> rootfs + config.json');
    sh(bin('cli-image', 'oci-image'), ['create', '--ref', 'latest', layout, bundle]);
  } else process.stderr.write('oci-image is not built yet: skipping create\n');

  if (built('cli-runtime') && existsSync(join(bundle, 'config.json'))) {
    say('run: config.json -> running process');
    sh(bin('cli-runtime', 'oci-runtime'), ['run', '--bundle', bundle, `demo-hello-${process.pid}`]);
  } else process.stderr.write('oci-runtime is not built yet: skipping run\n');

  if (built('cli')) {
    say('the whole pipeline in one command');
    sh(bin('cli', 'oci'), ['run', '--tls-verify=false', '--cache', join(work, 'cache'), `docker://${registry.host}/library/busybox:latest`, '--', 'sh', '-c', 'echo "hello from busybox: $(uname -s) $(hostname)" | tr a-z A-Z']);
  }
  say('done');
} finally {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
}
