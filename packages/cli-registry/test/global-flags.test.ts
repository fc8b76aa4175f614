// Global flags: --policy / --insecure-policy (trust policy, skopeo as the oracle), --debug, --tmpdir, --version.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture } from '@oci/fixtures';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';

// as users run it: the sh launcher npm links, which starts `copy` from the build's V8 startup snapshot
const LAUNCHER = fileURLToPath(new URL('../bin/oci-registry', import.meta.url));
const ENV = { ...process.env, REGISTRY_AUTH_FILE: '/nonexistent/auth.json' };
const ours = (args: string[], env: Record<string, string> = {}) => run(LAUNCHER, args, { env: { ...ENV, ...env } } as never);

describe('oci-registry global flags', () => {
  let reg: RegistryHandle;
  let tmp: TmpDir;
  beforeAll(async () => {
    [reg, tmp] = await Promise.all([startRegistry({ mode: 'plain' }), tmpDir('cli-global-')]);
    await buildFixture('hello');
    await pushFixture('hello', reg, 'team/hello', { format: 'oci' });
    await pushFixture('hello', reg, 'other/hello', { format: 'oci' });
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  it('--policy: the same accept/reject as skopeo; a rejected copy writes nothing; --insecure-policy skips the check', async () => {
    const policy = join(tmp.path, 'policy.json');
    await writeFile(policy, JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { [`${reg.host}/team`]: [{ type: 'insecureAcceptAnything' }] } } }));
    for (const repo of ['team', 'other']) {
      const src = `docker://${reg.host}/${repo}/hello:latest`;
      const a = await run('skopeo', ['--policy', policy, 'copy', '-q', '--src-tls-verify=false', src, `oci:${join(tmp.path, `s-${repo}`)}:x`], { env: ENV } as never);
      const destDir = join(tmp.path, `o-${repo}`);
      const b = await ours(['--policy', policy, 'copy', '-q', '--src-tls-verify=false', src, `oci:${destDir}:x`]);
      expect(b.code, b.stderr).toBe(a.code === 0 ? 0 : 1);
      if (b.code !== 0) {
        expect(b.stderr).toContain('ERR_POLICY_REJECTED');
        expect(existsSync(destDir)).toBe(false);
      }
    }
    const forced = await ours(['--policy', policy, '--insecure-policy', 'copy', '-q', '--src-tls-verify=false', `docker://${reg.host}/other/hello:latest`, `oci:${join(tmp.path, 'forced')}:x`]);
    expect(forced.code, forced.stderr).toBe(0);
    // sync checks each image
    const synced = await ours(['--policy', policy, 'sync', '--src', 'docker', '--dest', 'dir', '--src-tls-verify=false', '--keep-going', `${reg.host}/other/hello`, join(tmp.path, 'sync')]);
    expect(synced.code).toBe(1);
    expect(synced.stderr).toContain('ERR_POLICY_REJECTED');
  });

  it('--policy with a missing or invalid file fails before copying (ERR_POLICY_INVALID)', async () => {
    const bad = join(tmp.path, 'bad.json');
    await writeFile(bad, '{"default": [{"type": "acceptEverything"}]}');
    for (const file of [bad, join(tmp.path, 'missing.json')]) {
      const r = await ours(['--policy', file, 'copy', '--src-tls-verify=false', `docker://${reg.host}/team/hello:latest`, `oci:${join(tmp.path, 'never')}:x`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ERR_POLICY_INVALID');
    }
    expect(existsSync(join(tmp.path, 'never'))).toBe(false);
  });

  it('--debug prints one line per registry request; --version prints the version', async () => {
    const r = await ours(['--debug', 'copy', '-q', '--src-tls-verify=false', `docker://${reg.host}/team/hello:latest`, `oci:${join(tmp.path, 'dbg')}:x`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`DEBU\\[\\d{4}\\] GET http://${reg.host.replace(/\./g, '\\.')}/v2/team/hello/manifests/latest -> 200`));
    const v = await ours(['--version']);
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(v.stdout).toBe(`oci-registry version ${version}\n`);
  });

  it('--tmpdir holds the temporary files (oci-archive: extraction)', async () => {
    const archive = join(tmp.path, 'hello.tar');
    expect((await ours(['copy', '-q', '--src-tls-verify=false', `docker://${reg.host}/team/hello:latest`, `oci-archive:${archive}:x`])).code).toBe(0);
    const td = join(tmp.path, 'tmpdir');
    await mkdir(td);
    // an unwritable tmpdir makes the extraction fail: proof it is the one used
    const bad = await ours(['--tmpdir', join(td, 'missing'), 'copy', '-q', `oci-archive:${archive}:x`, `oci:${join(tmp.path, 'from-archive')}:x`]);
    expect(bad.code).toBe(1);
    const good = await ours(['--tmpdir', td, 'copy', '-q', `oci-archive:${archive}:x`, `oci:${join(tmp.path, 'from-archive')}:x`]);
    expect(good.code, good.stderr).toBe(0);
    expect(await readdir(td)).toEqual([]);
  });
});
