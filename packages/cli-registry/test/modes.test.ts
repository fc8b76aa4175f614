import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, type FixtureInfo } from '@oci/fixtures';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';

const BIN = fileURLToPath(new URL('../bin/oci-registry.js', import.meta.url));
const ours = (args: string[]) => run(process.execPath, [BIN, ...args], { env: { REGISTRY_AUTH_FILE: '/nonexistent/auth.json' } });

describe.each(['tls', 'token'] as const)('oci-registry with a %s registry', (mode) => {
  let reg: RegistryHandle;
  let tmp: TmpDir;
  let hello: FixtureInfo;
  beforeAll(async () => {
    [reg, tmp, hello] = await Promise.all([startRegistry({ mode }), tmpDir(`cli-${mode}-`), buildFixture('hello')]);
  });
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });
  const side = (s: 'src' | 'dest', creds = true): string[] => [
    ...(reg.certDir ? [`--${s}-cert-dir=${reg.certDir}`] : [`--${s}-tls-verify=false`]),
    ...(reg.username && creds ? [`--${s}-creds=${reg.username}:${reg.password}`] : []),
  ];

  it('pushes and pulls with the right flags', async () => {
    const push = await ours(['copy', ...side('dest'), `oci:${hello.layout}:latest`, `docker://${reg.host}/m/hello:1`]);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const out = join(tmp.path, 'pulled');
    const pull = await ours(['copy', ...side('src'), `docker://${reg.host}/m/hello:1`, `oci:${out}:1`]);
    expect(pull.stderr).toBe('');
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
    expect(index.manifests[0].digest).toBe(hello.manifestDigest);
  });

  if (mode === 'tls') {
    it('refuses an untrusted certificate with a hint', async () => {
      const r = await ours(['inspect', '--raw', `docker://${reg.host}/m/hello:1`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/TLS/);
      expect(r.stderr).toMatch(/hint: .*certs\.d/);
    });
  }

  if (mode === 'token') {
    it('a wrong password fails clearly and fast, without leaking it', async () => {
      const started = Date.now();
      const r = await ours(['copy', '--dest-tls-verify=false', `--dest-creds=${reg.username}:wrong-pw-123`, `oci:${hello.layout}:latest`, `docker://${reg.host}/m/hello:2`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/authentication|unauthorized/i);
      expect(r.stderr).not.toContain('wrong-pw-123');
      expect(Date.now() - started).toBeLessThan(15_000);
    });

    it('a reader without push scope gets a clear error', async () => {
      const r = await ours(['copy', '--dest-tls-verify=false', `--dest-creds=${reg.readerUsername}:${reg.readerPassword}`, `oci:${hello.layout}:latest`, `docker://${reg.host}/m/hello:3`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/401|403|UNAUTHORIZED|DENIED/);
      expect(r.stderr).toMatch(/hint:/);
    });
  }
});
