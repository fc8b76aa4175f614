// The V8 startup snapshot the build makes (scripts/snapshot.mjs, scripts/snapshot-entry.cjs) and how the launcher
// (bin/oci-registry) uses it: same answers as the bundle, the process's own files and state (not the builder's),
// and the bundle when the snapshot does not fit (another Node binary, the package moved).
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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
    expect(snap.seen).not.toMatch(/^OCI_REGISTRY_DIST=|^OCI_NODE_EXTRA_CA_CERTS=/m);
    const bundle = await copy(LAUNCHER, 'bundle', { OCI_REGISTRY_SNAPSHOT: '0' });
    expect(bundle.code, bundle.stderr).toBe(0);
    expect(bundle.seen).not.toContain('--snapshot-blob');
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
      // a bundle newer than the snapshot (rebuilt, or restored from a build cache without it): the bundle runs
      const bundle = join(moved, 'dist', 'oci-registry.cjs');
      const blobTime = statSync(join(moved, 'dist', 'oci-registry.blob')).mtime;
      utimesSync(bundle, new Date(blobTime.getTime() + 5000), new Date(blobTime.getTime() + 5000));
      const stale = await copy(launcher, 'stale');
      expect(stale.code, stale.stderr).toBe(0);
      expect(stale.seen).not.toContain('--snapshot-blob');
      expect(stale.index?.manifests.map((x) => x.digest)).toEqual([digest]);
      utimesSync(bundle, blobTime, blobTime);
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
});
