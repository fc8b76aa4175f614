// The V8 startup snapshot the build makes (scripts/snapshot.mjs, scripts/snapshot-entry.cjs) and how the launcher
// (bin/oci-registry) uses it: same answers as the bundle, the process's own files and state (not the builder's),
// and the bundle when the snapshot does not fit (another Node binary, the package moved, another bundle).
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture } from '@oci/fixtures';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const LAUNCHER = join(pkg, 'bin', 'oci-registry');
const BLOB = join(pkg, 'dist', 'oci-registry.blob');

describe('oci-registry startup snapshot', () => {
  let reg: RegistryHandle;
  let tmp: TmpDir;
  let helperDir: string;
  let authFile: string;
  let digest: string;

  beforeAll(async () => {
    // htpasswd: the CLI asks the credential helper below for the registry's credentials
    [reg, tmp] = await Promise.all([startRegistry({ mode: 'htpasswd' }), tmpDir('cli-reg-snapshot-')]);
    const fx = await buildFixture('hello');
    digest = fx.manifestDigest;
    await pushFixture('hello', reg, 'fx/hello', { format: 'oci' });
    // a credential helper that records who ran it (the command line of its parent, the CLI, and its environment)
    // and answers with the registry's user
    helperDir = join(tmp.path, 'helpers');
    mkdirSync(helperDir);
    const helper = join(helperDir, 'docker-credential-oci-snapshot');
    writeFileSync(helper, `#!/bin/sh\ntr '\\0' ' ' < /proc/$PPID/cmdline > "$OCI_SNAPSHOT_PROBE"\necho >> "$OCI_SNAPSHOT_PROBE"\nenv >> "$OCI_SNAPSHOT_PROBE"\nprintf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\\n' "$(cat)" ${JSON.stringify(reg.username)} ${JSON.stringify(reg.password)}\n`);
    chmodSync(helper, 0o755);
    authFile = join(tmp.path, 'auth.json');
    writeFileSync(authFile, JSON.stringify({ auths: {}, credHelpers: { [reg.host]: 'oci-snapshot' } }));
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  /** Runs `launcher copy` from the registry into a new layout; returns the exit, the layout's index and what the helper saw. */
  async function copy(launcher: string, name: string, extraEnv: Record<string, string> = {}) {
    const probe = join(tmp.path, `${name}.probe`);
    const dest = join(tmp.path, name);
    const r = await run(launcher, ['copy', '--src-tls-verify=false', `docker://${reg.host}/fx/hello:latest`, `oci:${dest}:latest`], {
      env: {
        ...process.env, PATH: `${helperDir}:${process.env.PATH}`, REGISTRY_AUTH_FILE: authFile, OCI_SNAPSHOT_PROBE: probe,
        NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', ...extraEnv,
      },
    } as never);
    const seen = existsSync(probe) ? readFileSync(probe, 'utf8') : '';
    const index = existsSync(join(dest, 'index.json')) ? JSON.parse(readFileSync(join(dest, 'index.json'), 'utf8')) as { manifests: { digest: string }[] } : undefined;
    return { ...r, seen, index };
  }

  it('the build made one, for the Node binary that built it', () => {
    expect(existsSync(BLOB), 'dist/oci-registry.blob').toBe(true);
    expect(existsSync(`${BLOB}.node`), 'its stamp').toBe(true);
  });

  it('the launcher runs it: a copy stores the same image as the bundle does; the process gets the caller\'s environment back', async () => {
    const snap = await copy(LAUNCHER, 'snap');
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.seen).toContain('--snapshot-blob');
    expect(snap.index?.manifests.map((m) => m.digest)).toEqual([digest]);
    // NODE_EXTRA_CA_CERTS set aside by the launcher is back for child processes; the launcher's own variable is not
    expect(snap.seen).toMatch(/^NODE_EXTRA_CA_CERTS=\/etc\/ssl\/certs\/ca-certificates\.crt$/m);
    expect(snap.seen).not.toMatch(/^OCI_REGISTRY_DIST=|^OCI_NODE_EXTRA_CA_CERTS=|^GLIBC_TUNABLES=|^OCI_GLIBC_TUNABLES=/m);
    const bundle = await copy(LAUNCHER, 'bundle', { OCI_REGISTRY_SNAPSHOT: '0' });
    expect(bundle.code, bundle.stderr).toBe(0);
    expect(bundle.seen).not.toContain('--snapshot-blob');
    // the bundle path: the launcher starts the shared loader itself, whose variables are gone too
    expect(bundle.seen).toContain('cli-loader.cjs');
    expect(bundle.seen).toMatch(/^NODE_EXTRA_CA_CERTS=\/etc\/ssl\/certs\/ca-certificates\.crt$/m);
    expect(bundle.seen).not.toMatch(/^OCI_CLI_BUNDLE=|^OCI_CLI_COMMAND=|^OCI_NODE_EXTRA_CA_CERTS=|^GLIBC_TUNABLES=|^OCI_GLIBC_TUNABLES=/m);
    // a caller's own GLIBC_TUNABLES is theirs: kept as it is
    const own = await copy(LAUNCHER, 'own-tunables', { GLIBC_TUNABLES: 'glibc.malloc.check=0' });
    expect(own.code, own.stderr).toBe(0);
    expect(own.seen).toMatch(/^GLIBC_TUNABLES=glibc\.malloc\.check=0$/m);
    expect(own.seen).not.toMatch(/^OCI_GLIBC_TUNABLES=/m);
    expect(readFileSync(join(tmp.path, 'snap', 'index.json'), 'utf8')).toBe(readFileSync(join(tmp.path, 'bundle', 'index.json'), 'utf8'));
  }, 60_000);

  it('same answers as the bundle: version, help, usage errors, errors with hints', async () => {
    for (const args of [['--version'], ['--help'], ['copy', '--help'], ['frobnicate'], ['copy', 'docker://a'], ['inspect', '--tls-verify=false', `docker://${reg.host}/fx/no-such:latest`]]) {
      const a = await run(LAUNCHER, args, { env: process.env } as never);
      const b = await run(LAUNCHER, args, { env: { ...process.env, OCI_REGISTRY_SNAPSHOT: '0' } } as never);
      expect({ code: a.code, stdout: a.stdout, stderr: a.stderr }, args.join(' ')).toEqual({ code: b.code, stdout: b.stdout, stderr: b.stderr });
    }
  }, 60_000);

  it('reads this process\'s registries.conf, not the one the warm-up copies read at build time', async () => {
    const conf = join(tmp.path, 'blocked.conf');
    writeFileSync(conf, `[[registry]]\nlocation = "${reg.host}"\nblocked = true\n`);
    const r = await copy(LAUNCHER, 'blocked', { CONTAINERS_REGISTRIES_CONF: conf });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_REGISTRY_BLOCKED');
    expect(r.seen).toBe('');
  }, 60_000);

  it('another Node binary (the stamp differs) or a moved package: the bundle runs, with the same result', async () => {
    // a copy of the package's bin/ and dist/ beside it (its node_modules still resolve from there)
    const moved = join(pkg, 'node_modules', '.snapshot-test');
    rmSync(moved, { recursive: true, force: true });
    try {
      for (const d of ['bin', 'dist']) cpSync(join(pkg, d), join(moved, d), { recursive: true, preserveTimestamps: true });
      cpSync(join(pkg, 'package.json'), join(moved, 'package.json'));
      const launcher = join(moved, 'bin', 'oci-registry');
      // moved: the launcher starts the snapshot, which sees it was built elsewhere and runs the bundle of the new place
      const m = await copy(launcher, 'moved');
      expect(m.code, m.stderr).toBe(0);
      expect(m.seen).toContain('--snapshot-blob');
      expect(m.index?.manifests.map((x) => x.digest)).toEqual([digest]);
      const version = await run(launcher, ['--version'], { env: process.env } as never);
      expect(version.stdout).toMatch(/^oci-registry version \d+\.\d+\.\d+/);
      // another binary: the stamp's time no longer matches `node`, so the launcher does not even try the snapshot
      utimesSync(join(moved, 'dist', 'oci-registry.blob.node'), new Date(0), new Date(0));
      const other = await copy(launcher, 'other-node');
      expect(other.code, other.stderr).toBe(0);
      expect(other.seen).not.toContain('--snapshot-blob');
      expect(other.index?.manifests.map((x) => x.digest)).toEqual([digest]);
    } finally {
      rmSync(moved, { recursive: true, force: true });
    }
  }, 90_000);
  it('a bundle that is not the one the snapshot was built from (rebuilt, or restored from a build cache) runs instead', async () => {
    const copyDir = join(pkg, 'node_modules', '.snapshot-rebuilt');
    rmSync(copyDir, { recursive: true, force: true });
    try {
      for (const d of ['bin', 'dist', 'scripts']) cpSync(join(pkg, d), join(copyDir, d), { recursive: true });
      cpSync(join(pkg, 'package.json'), join(copyDir, 'package.json'));
      // a snapshot of its own, built where this copy is
      const built = await run(process.execPath, [join(copyDir, 'scripts', 'snapshot.mjs')], { env: process.env } as never);
      expect(built.code, built.stderr).toBe(0);
      expect(built.stderr).toBe('');
      const launcher = join(copyDir, 'bin', 'oci-registry');
      const bundle = join(copyDir, 'dist', 'oci-registry.cjs');
      const mark = join(tmp.path, 'bundle-ran');
      // the bundle now leaves a mark when it runs, and its hash says so (as the bundler writes it)
      const text = `${readFileSync(bundle, 'utf8')}\n;require('node:fs').writeFileSync(process.env.OCI_SNAPSHOT_MARK, 'ran');\n`;
      const original = readFileSync(bundle);
      const originalHash = readFileSync(`${bundle}.sha256`);
      writeFileSync(bundle, text);
      // the same hash as before: the snapshot runs its own copy of the bundle, no mark
      const same = await copy(launcher, 'same-bundle', { OCI_SNAPSHOT_MARK: mark });
      expect(same.code, same.stderr).toBe(0);
      expect(same.seen).toContain('--snapshot-blob');
      expect(existsSync(mark)).toBe(false);
      // another bundle: the snapshot hands over to it
      writeFileSync(`${bundle}.sha256`, `${createHash('sha256').update(text).digest('hex')}\n`);
      const other = await copy(launcher, 'other-bundle', { OCI_SNAPSHOT_MARK: mark });
      expect(other.code, other.stderr).toBe(0);
      expect(other.seen).toContain('--snapshot-blob');
      expect(readFileSync(mark, 'utf8')).toBe('ran');
      expect(other.index?.manifests.map((x) => x.digest)).toEqual([digest]);
      // and back: the snapshot's own again
      writeFileSync(bundle, original);
      writeFileSync(`${bundle}.sha256`, originalHash);
      rmSync(mark);
      const back = await copy(launcher, 'back', { OCI_SNAPSHOT_MARK: mark });
      expect(back.code, back.stderr).toBe(0);
      expect(existsSync(mark)).toBe(false);
    } finally {
      rmSync(copyDir, { recursive: true, force: true });
    }
  }, 120_000);
});
