import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture, type FixtureInfo } from '@oci/fixtures';
import { run, skopeoFlags, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';

const BIN = fileURLToPath(new URL('../bin/oci-registry.js', import.meta.url));
// as users run it: the sh launcher npm links, which starts `copy` from the build's V8 startup snapshot
const LAUNCHER = fileURLToPath(new URL('../bin/oci-registry', import.meta.url));

function ours(args: string[], opts: { input?: string; env?: Record<string, string> } = {}) {
  return run(LAUNCHER, args, { ...opts, env: { ...process.env, REGISTRY_AUTH_FILE: '/nonexistent/auth.json', ...opts.env } } as never);
}
function skopeo(args: string[]) {
  return run('skopeo', args, { env: { ...process.env, REGISTRY_AUTH_FILE: '/nonexistent/auth.json' } } as never);
}
function tlsFlag(reg: RegistryHandle, side = ''): string[] {
  const p = side ? `--${side}-` : '--';
  return reg.certDir ? [`${p}cert-dir=${reg.certDir}`] : [`${p}tls-verify=false`];
}

describe('oci-registry against the real registry, skopeo as the oracle', () => {
  let plain: RegistryHandle;
  let auth: RegistryHandle;
  let tmp: TmpDir;
  let hello: FixtureInfo;

  beforeAll(async () => {
    [plain, auth, tmp, hello] = await Promise.all([startRegistry({ mode: 'plain' }), startRegistry({ mode: 'htpasswd' }), tmpDir('cli-reg-'), buildFixture('hello')]);
    await buildFixture('busybox');
    await pushFixture('hello', plain, 'fx/hello', { format: 'oci' });
    await pushFixture('busybox', plain, 'fx/busybox', { format: 'v2s2' });
    await pushFixture('hello', plain, 'fx/hello-index', { format: 'index' });
  });
  afterAll(async () => {
    await plain?.stop();
    await auth?.stop();
    await tmp?.cleanup();
  });

  it('copies docker:// -> oci: and skopeo reads the layout', async () => {
    const dir = join(tmp.path, 'pull');
    const df = join(tmp.path, 'digest');
    const r = await ours(['copy', '--src-tls-verify=false', `--digestfile=${df}`, `docker://${plain.host}/fx/hello:latest`, `oci:${dir}:latest`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(await readFile(df, 'utf8')).toBe(hello.manifestDigest);
    const s = await skopeo(['inspect', '--raw', `oci:${dir}:latest`]);
    expect(s.code).toBe(0);
    expect(s.stdout).toBe(await readFile(join(hello.layout, 'blobs', 'sha256', hello.manifestDigest.slice(7)), 'utf8'));
  });

  it('prints --json progress events', async () => {
    const r = await ours(['copy', '--json', '--src-tls-verify=false', `docker://${plain.host}/fx/busybox:latest`, `oci:${join(tmp.path, 'json')}:b`]);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(events[0]!.type).toBe('plan');
    expect(events.at(-1)!.type).toBe('done');
    expect(events.some((e) => e.type === 'blob-done')).toBe(true);
  });

  it('inspect, --raw, --config and list-tags print what skopeo prints', async () => {
    const cases: { image: string; extra: string[] }[] = [];
    for (const image of [`docker://${plain.host}/fx/hello:latest`, `docker://${plain.host}/fx/busybox:latest`, `docker://${plain.host}/fx/hello-index:latest`, `oci:${hello.layout}:latest`]) {
      for (const extra of [[], ['--raw'], ['--config'], ['--config', '--raw']]) cases.push({ image, extra });
    }
    // four pairs at a time: the machine is shared
    for (let i = 0; i < cases.length; i += 4) {
      await Promise.all(cases.slice(i, i + 4).map(async ({ image, extra }) => {
        const args = ['inspect', ...(image.startsWith('docker') ? ['--tls-verify=false'] : []), ...extra, image];
        const [a, b] = await Promise.all([ours(args), skopeo(args)]);
        expect({ image, extra, code: a.code, out: a.stdout }).toEqual({ image, extra, code: b.code, out: b.stdout });
        expect(a.code).toBe(0);
        expect(a.stdout.length).toBeGreaterThan(50);
      }));
    }
    const lt = ['list-tags', '--tls-verify=false', `docker://${plain.host}/fx/hello`];
    const [a, b] = await Promise.all([ours(lt), skopeo(lt)]);
    expect(a.stdout).toBe(b.stdout);
  });

  it('inspect --no-creds (unprefixed) reads anonymously as skopeo does', async () => {
    const args = ['inspect', '--raw', '--tls-verify=false', '--no-creds', `docker://${plain.host}/fx/hello:latest`];
    const [a, b] = await Promise.all([ours(args), skopeo(args)]);
    expect({ code: a.code, out: a.stdout, err: a.stderr }).toEqual({ code: b.code, out: b.stdout, err: '' });
  });

  it('writes dir: like skopeo and pushes oci-archive round trips', async () => {
    const [d1, d2] = [join(tmp.path, 'dir-ours'), join(tmp.path, 'dir-skopeo')];
    expect((await ours(['copy', '--src-tls-verify=false', `docker://${plain.host}/fx/busybox:latest`, `dir:${d1}`])).code).toBe(0);
    expect((await skopeo(['copy', '-q', '--src-tls-verify=false', `docker://${plain.host}/fx/busybox:latest`, `dir:${d2}`])).code).toBe(0);
    for (const f of ['manifest.json', 'version']) expect(await readFile(join(d1, f), 'utf8')).toBe(await readFile(join(d2, f), 'utf8'));
    const archive = join(tmp.path, 'img.tar');
    expect((await ours(['copy', `dir:${d1}`, `oci-archive:${archive}:v1`])).code).toBe(0);
    const s = await skopeo(['inspect', `oci-archive:${archive}:v1`]);
    expect(s.code).toBe(0);
    const back = await ours(['copy', `oci-archive:${archive}:v1`, `oci:${join(tmp.path, 'from-archive')}:v1`]);
    expect(back.stderr).toBe('');
    // and an archive written by skopeo
    const theirs = join(tmp.path, 'skopeo.tar');
    expect((await skopeo(['copy', '-q', `oci:${hello.layout}:latest`, `oci-archive:${theirs}:h`])).code).toBe(0);
    const fromTheirs = await ours(['inspect', '--raw', `oci-archive:${theirs}:h`]);
    expect(fromTheirs.stdout).toBe(await readFile(join(hello.layout, 'blobs', 'sha256', hello.manifestDigest.slice(7)), 'utf8'));
  });

  it('login writes the auth file skopeo reads, and reads the one skopeo writes', async () => {
    const ours1 = join(tmp.path, 'ours-auth.json');
    const bad = await ours(['login', '--tls-verify=false', '-u', auth.username!, '-p', 'not-the-password', `--authfile=${ours1}`, auth.host]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).not.toContain('not-the-password');
    expect(bad.stderr).toMatch(/ERR|unauthor|authentication/i);
    const ok = await ours(['login', '--tls-verify=false', '-u', auth.username!, '--password-stdin', `--authfile=${ours1}`, auth.host], { input: `${auth.password}\n` });
    expect(ok.stdout).toBe('Login Succeeded!\n');
    expect((await skopeo(['login', '--get-login', `--authfile=${ours1}`, auth.host])).stdout.trim()).toBe(auth.username);
    // push with our auth file, and read with skopeo's
    const push = await ours(['copy', '--dest-tls-verify=false', `--authfile=${ours1}`, `oci:${hello.layout}:latest`, `docker://${auth.host}/pushed/hello:v1`]);
    expect(push.stderr).toBe('');
    const theirs = join(tmp.path, 'skopeo-auth.json');
    expect((await skopeo(['login', '--tls-verify=false', '-u', auth.username!, '-p', auth.password!, `--authfile=${theirs}`, auth.host])).code).toBe(0);
    const insp = await ours(['inspect', '--tls-verify=false', `--authfile=${theirs}`, '--raw', `docker://${auth.host}/pushed/hello:v1`]);
    expect(insp.code).toBe(0);
    expect(insp.stdout).toContain(hello.configDigest);
    expect((await ours(['logout', `--authfile=${ours1}`, auth.host])).code).toBe(0);
    expect((await skopeo(['login', '--get-login', `--authfile=${ours1}`, auth.host])).code).not.toBe(0);
    const nolog = await ours(['logout', `--authfile=${ours1}`, auth.host]);
    expect(nolog.code).toBe(1);
    // without credentials: a clear unauthorized error
    const anon = await ours(['inspect', '--tls-verify=false', '--raw', `docker://${auth.host}/pushed/hello:v1`]);
    expect(anon.code).toBe(1);
    expect(anon.stderr).toMatch(/401/);
    expect(anon.stderr).toMatch(/hint: .*login/);
  });

  it('login prompts for missing credentials on a terminal', async () => {
    const file = join(tmp.path, 'prompted.json');
    const cmd = [process.execPath, BIN, 'login', '--tls-verify=false', `--authfile=${file}`, auth.host].map((a) => `'${a}'`).join(' ');
    const r = await run('script', ['-qec', cmd, '/dev/null'], { input: `${auth.username}\n${auth.password}\n`, timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Username: /);
    expect(r.stdout).toMatch(/Password: /);
    expect(r.stdout).toMatch(/Login Succeeded!/);
    expect(await readFile(file, 'utf8')).toContain(Buffer.from(`${auth.username}:${auth.password}`).toString('base64'));
  });

  it('deletes an image', async () => {
    expect((await ours(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${plain.host}/fx/hello:latest`, `docker://${plain.host}/del/hello:x`])).code).toBe(0);
    const d = await ours(['delete', '--tls-verify=false', `docker://${plain.host}/del/hello:x`]);
    expect(d.stderr).toBe('');
    const i = await ours(['inspect', '--tls-verify=false', `docker://${plain.host}/del/hello:x`]);
    expect(i.code).toBe(1);
    expect(i.stderr).toMatch(/MANIFEST_UNKNOWN|manifest unknown/);
  });

  it('draws progress bars on a TTY and nothing without one', async () => {
    const dest = join(tmp.path, 'tty');
    const cmd = [process.execPath, BIN, 'copy', '--src-tls-verify=false', `docker://${plain.host}/fx/busybox:latest`, `oci:${dest}:t`]
      .map((a) => `'${a}'`).join(' ');
    const r = await run('script', ['-qec', cmd, '/dev/null'], { env: { REGISTRY_AUTH_FILE: '/nonexistent/auth.json' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Copying blob [0-9a-f]{12} \[/);
    expect(r.stdout).toMatch(/Writing manifest to image destination/);
    const again = await ours(['copy', '--src-tls-verify=false', `docker://${plain.host}/fx/busybox:latest`, `oci:${dest}:t2`]);
    expect(again.stdout + again.stderr).toBe('');
  });

  it('--format oci converts for a registry destination as skopeo does', async () => {
    const src = `docker://${plain.host}/fx/busybox:latest`;
    const a = await ours(['copy', '--format', 'oci', '--retry-times', '2', '--src-tls-verify=false', '--dest-tls-verify=false', `--digestfile=${join(tmp.path, 'fd1')}`, src, `docker://${plain.host}/fmt/ours:1`]);
    expect(a.stderr).toBe('');
    const b = await skopeo(['copy', '-q', '--format', 'oci', '--src-tls-verify=false', '--dest-tls-verify=false', `--digestfile=${join(tmp.path, 'fd2')}`, src, `docker://${plain.host}/fmt/theirs:1`]);
    expect(b.code).toBe(0);
    expect(await readFile(join(tmp.path, 'fd1'), 'utf8')).toBe(await readFile(join(tmp.path, 'fd2'), 'utf8'));
  });

  it('--dest-compress-format gzip keeps gzip layers; zstd recompresses them; bad formats and levels are usage errors', async () => {
    const df = join(tmp.path, 'gzdigest');
    const r = await ours(['copy', '--dest-compress-format', 'gzip', `--digestfile=${df}`, `oci:${hello.layout}:latest`, `oci:${join(tmp.path, 'gz')}:x`]);
    expect(r.stderr).toBe('');
    expect(await readFile(df, 'utf8')).toBe(hello.manifestDigest);
    const z = await ours(['copy', '--dest-compress-format', 'zstd', '--dest-compress-level', '19', `oci:${hello.layout}:latest`, `oci:${join(tmp.path, 'gz')}:y`]);
    expect(z.code, z.stderr).toBe(0);
    const s = await skopeo(['inspect', '--raw', `oci:${join(tmp.path, 'gz')}:y`]);
    expect(JSON.parse(s.stdout).layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+zstd']);
    for (const bad of [['--dest-compress-format', 'lz4'], ['--dest-compress-level', '3'], ['--dest-compress-format', 'gzip', '--dest-compress-level', '12']]) {
      const r2 = await ours(['copy', ...bad, `oci:${hello.layout}:latest`, `oci:${join(tmp.path, 'gz')}:z`]);
      expect(r2.code, bad.join(' ')).toBe(2);
    }
  });

  it('exits 2 on usage errors', async () => {
    for (const args of [['copy'], ['copy', 'x:y', 'oci:/tmp/z'], ['inspect', 'docker://UPPER'], ['frobnicate'], ['copy', '--bogus', 'a', 'b']]) {
      expect((await ours(args)).code).toBe(2);
    }
  });

  it('--override-arch picks from an index as skopeo does', async () => {
    const [a, b] = [join(tmp.path, 'arm-ours'), join(tmp.path, 'arm-skopeo')];
    expect((await ours(['copy', '--override-arch=arm64', '--src-tls-verify=false', `docker://${plain.host}/fx/hello-index:latest`, `oci:${a}:x`])).code).toBe(0);
    expect((await skopeo(['copy', '-q', '--override-arch=arm64', '--src-tls-verify=false', `docker://${plain.host}/fx/hello-index:latest`, `oci:${b}:x`])).code).toBe(0);
    const ia = JSON.parse(await readFile(join(a, 'index.json'), 'utf8'));
    const ib = JSON.parse(await readFile(join(b, 'index.json'), 'utf8'));
    expect(ia.manifests[0].digest).toBe(ib.manifests[0].digest);
    await writeFile(join(tmp.path, 'noop'), '');
  });
});
