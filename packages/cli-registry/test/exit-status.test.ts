// Exit statuses of the oci-registry command as users run it (bin/oci-registry, the sh launcher npm links):
// 130 when interrupted, 2 for usage errors, 1 for other errors, as the other oci CLIs.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture } from '@oci/fixtures';
import { run, startFaultProxy, startRegistry, tmpDir, type FaultProxy, type RegistryHandle, type TmpDir } from '@oci/testkit';

const LAUNCHER = fileURLToPath(new URL('../bin/oci-registry', import.meta.url));
const env = { ...process.env, REGISTRY_AUTH_FILE: '/nonexistent/auth.json' };

describe('oci-registry exit statuses', () => {
  let reg: RegistryHandle;
  let proxy: FaultProxy;
  let tmp: TmpDir;

  beforeAll(async () => {
    [reg, tmp] = await Promise.all([startRegistry({ mode: 'plain' }), tmpDir('cli-reg-exit-'), buildFixture('hello')]);
    await pushFixture('hello', reg, 'fx/hello', { format: 'oci' });
    // blob downloads hang for a minute: the copy is interrupted while it waits for one
    proxy = await startFaultProxy(reg.url, [{ kind: 'delay', ms: 60_000, path: /\/blobs\/sha256:/, method: 'GET' }]);
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
    await tmp?.cleanup();
  });

  it('SIGINT during a copy: exit 130, the error says how to finish, no ref and no temp blob left', async () => {
    const dest = join(tmp.path, 'interrupted');
    const child = spawn(LAUNCHER, ['copy', '--src-tls-verify=false', `docker://${proxy.host}/fx/hello:latest`, `oci:${dest}:latest`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const deadline = Date.now() + 20_000;
    while (proxy.stats.count(/\/blobs\/sha256:/, 'GET') === 0) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the copy never asked for a blob: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toMatch(/ERR_INTERRUPTED/);
    expect(stderr).toMatch(/hint: /);
    if (existsSync(dest)) {
      const index = existsSync(join(dest, 'index.json')) ? JSON.parse(readFileSync(join(dest, 'index.json'), 'utf8')) : { manifests: [] };
      expect(index.manifests, 'no ref').toEqual([]);
      const blobs = existsSync(join(dest, 'blobs', 'sha256')) ? readdirSync(join(dest, 'blobs', 'sha256')) : [];
      expect(blobs.filter((b) => !/^[0-9a-f]{64}$/.test(b)), 'temp files').toEqual([]);
    }
  }, 40_000);

  it('a copy that fails before its first blob leaves no layout behind; a destination path through a file is a clear error', async () => {
    const dest = join(tmp.path, 'never-made', 'layout');
    const missing = await run(LAUNCHER, ['copy', '--src-tls-verify=false', `docker://${reg.host}/fx/no-such-image:latest`, `oci:${dest}:latest`], { env } as never);
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stderr).toMatch(/ERR_MANIFEST_UNKNOWN|ERR_NAME_UNKNOWN/);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(join(tmp.path, 'never-made')), 'the parent it created too').toBe(false);
    expect(existsSync(tmp.path), 'never a directory it did not create').toBe(true);
    const file = join(tmp.path, 'a-file');
    writeFileSync(file, 'x');
    const through = await run(LAUNCHER, ['copy', '--src-tls-verify=false', `docker://${reg.host}/fx/hello:latest`, `oci:${join(file, 'sub')}:latest`], { env } as never);
    expect(through.code, through.stderr).toBe(1);
    expect(through.stderr).toMatch(/ERR_INVALID_LAYOUT: .*a part of its path is a file/);
  });

  it('usage errors exit 2 and other errors exit 1, through the launcher', async () => {
    const usage = await run(LAUNCHER, ['copy', 'only-one-arg'], { env } as never);
    expect(usage.code, usage.stderr).toBe(2);
    expect(usage.stderr).toMatch(/--help/);
    const missing = await run(LAUNCHER, ['inspect', '--tls-verify=false', `docker://${reg.host}/fx/no-such-image:latest`], { env } as never);
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stderr).toMatch(/ERR_MANIFEST_UNKNOWN|ERR_NAME_UNKNOWN/);
  });
});
