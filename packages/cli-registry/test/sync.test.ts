// oci-registry sync against the real registry, skopeo sync (1.9) as the oracle for naming and content.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture } from '@oci/fixtures';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';
import { dirSuffix, parseSyncYaml, syncDestination, yamlRefSuffix } from '../src/sync-plan.js';

const BIN = fileURLToPath(new URL('../bin/oci-registry.js', import.meta.url));
const ENV = { ...process.env, REGISTRY_AUTH_FILE: '/nonexistent/auth.json' };
const ours = (args: string[]) => run(process.execPath, [BIN, ...args], { env: ENV } as never);
const skopeo = (args: string[]) => run('skopeo', args, { env: ENV } as never);

describe('sync naming (skopeo sync rules)', () => {
  it('joins the destination with the last part of the suffix, or all of it with --scoped', () => {
    expect(syncDestination('dir', '/media/usb', 'registry.example.com/busybox:1-glibc', false)).toEqual({ transport: 'dir', dir: '/media/usb/busybox:1-glibc' });
    expect(syncDestination('dir', '/media/usb', 'registry.example.com/busybox:1-glibc', true)).toEqual({ transport: 'dir', dir: '/media/usb/registry.example.com/busybox:1-glibc' });
    expect(syncDestination('docker', 'my-registry.local.lan/repo', 'registry.example.com/repo/busybox:latest', false)).toEqual({ transport: 'docker', reference: 'my-registry.local.lan/repo/busybox:latest' });
    expect(syncDestination('oci', '/srv/l', 'quay.io/ns/app:v1', true)).toEqual({ transport: 'oci', dir: '/srv/l/quay.io/ns/app', ref: 'v1' });
    expect(syncDestination('oci', '/srv/l', '127.0.0.1:5000/app:v1', true)).toEqual({ transport: 'oci', dir: '/srv/l/127.0.0.1:5000/app', ref: 'v1' });
    expect(syncDestination('oci', '/srv/l', 'app', false)).toEqual({ transport: 'oci', dir: '/srv/l/app', ref: undefined });
  });

  it('names dir-source images by their path below the source, or by the source when it is the image', () => {
    expect(dirSuffix('/media/usb', '/media/usb/busybox:1-glibc')).toBe('/busybox:1-glibc');
    expect(dirSuffix('/media/usb/busybox:1-glibc', '/media/usb/busybox:1-glibc')).toBe('busybox:1-glibc');
    expect(yamlRefSuffix('r.io', 'a/b', 'v1')).toBe('r.io/a/b:v1');
    expect(yamlRefSuffix('r.io', 'a/b', `sha256:${'c'.repeat(64)}`)).toBe(`r.io/a/b@sha256:${'c'.repeat(64)}`);
  });

  it('parses the YAML source strictly', () => {
    const repos = parseSyncYaml('r.io:\n  images:\n    busybox: []\n    redis: ["1.0", 2]\n  images-by-tag-regex:\n    nginx: ^1\\.\n  tls-verify: false\n  credentials: { username: u, password: p }\n', 'f.yaml');
    expect(repos.map((r) => [r.repository, r.refs, r.tagRegex?.source])).toEqual([['busybox', undefined, undefined], ['redis', ['1.0', '2'], undefined], ['nginx', undefined, '^1\\.']]);
    expect(repos[0]!.access).toEqual({ username: 'u', password: 'p', tlsVerify: false });
    for (const bad of ['- a\n- b\n', 'r.io:\n  imagez: {}\n', 'r.io:\n  images: [a]\n', 'r.io:\n  tls-verify: maybe\n', 'r.io:\n  images-by-tag-regex: { a: "(" }\n', 'r.io: [\n']) {
      expect(() => parseSyncYaml(bad, 'f.yaml'), bad).toThrow(expect.objectContaining({ code: 'ERR_SYNC_YAML' }));
    }
  });
});

describe('oci-registry sync against the real registry', () => {
  let reg: RegistryHandle;
  let tmp: TmpDir;
  let host: string;

  beforeAll(async () => {
    [reg, tmp] = await Promise.all([startRegistry({ mode: 'plain' }), tmpDir('cli-sync-')]);
    host = reg.host;
    await buildFixture('busybox');
    await buildFixture('hello');
    await pushFixture('busybox', reg, 'mirror/busybox', { format: 'v2s2' });
    await pushFixture('hello', reg, 'mirror/hello', { format: 'oci' });
    const tag = await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${host}/mirror/hello:latest`, `docker://${host}/mirror/hello:v1`]);
    expect(tag.code, tag.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  const tree = async (dir: string): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const d of (await readdir(dir)).sort()) out[d] = await readFile(join(dir, d, 'manifest.json'), 'utf8');
    return out;
  };

  it('docker -> dir: every tag, named and written as skopeo sync does (also --scoped)', async () => {
    for (const scoped of [[], ['--scoped']]) {
      const a = join(tmp.path, `s-${scoped.length}`);
      const b = join(tmp.path, `o-${scoped.length}`);
      const s = await skopeo(['sync', '--src', 'docker', '--dest', 'dir', '--src-tls-verify=false', ...scoped, `${host}/mirror/hello`, a]);
      expect(s.code, s.stderr).toBe(0);
      const o = await ours(['sync', '--src', 'docker', '--dest', 'dir', '--src-tls-verify=false', ...scoped, `${host}/mirror/hello`, b]);
      expect(o.code, o.stderr).toBe(0);
      const base = scoped.length ? join(host, 'mirror') : '';
      expect(await tree(join(b, base))).toEqual(await tree(join(a, base)));
      expect(Object.keys(await tree(join(b, base)))).toEqual(['hello:latest', 'hello:v1']);
    }
  });

  it('dir -> docker: the same repositories and manifests as skopeo sync; a re-run is a no-op', async () => {
    const src = join(tmp.path, 'o-0');
    const s = await skopeo(['sync', '--src', 'dir', '--dest', 'docker', '--dest-tls-verify=false', src, `${host}/by-skopeo`]);
    expect(s.code, s.stderr).toBe(0);
    const df = join(tmp.path, 'digests');
    const o = await ours(['sync', '--src', 'dir', '--dest', 'docker', '--dest-tls-verify=false', '--digestfile', df, src, `${host}/by-ours`]);
    expect(o.code, o.stderr).toBe(0);
    for (const tag of ['latest', 'v1']) {
      const a = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${host}/by-skopeo/hello:${tag}`]);
      const b = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${host}/by-ours/hello:${tag}`]);
      expect(b.stdout).toBe(a.stdout);
    }
    const lines = (await readFile(df, 'utf8')).trim().split('\n');
    expect(lines.map((l) => l.split(' ')[1])).toEqual([`docker://${host}/by-ours/hello:latest`, `docker://${host}/by-ours/hello:v1`]);
    expect(lines.every((l) => /^sha256:[0-9a-f]{64} /.test(l))).toBe(true);
    const again = await ours(['sync', '--src', 'dir', '--dest', 'docker', '--dest-tls-verify=false', src, `${host}/by-ours`]);
    expect(again.code, again.stderr).toBe(0);
  });

  it('yaml -> dir matches skopeo sync (explicit tags, tag regex, per-registry tls-verify)', async () => {
    const yaml = join(tmp.path, 'images.yaml');
    await writeFile(yaml, `${host}:\n  tls-verify: false\n  images:\n    mirror/busybox: ["latest"]\n  images-by-tag-regex:\n    mirror/hello: ^v\\d+$\n`);
    const a = join(tmp.path, 'y-s');
    const b = join(tmp.path, 'y-o');
    const s = await skopeo(['sync', '--src', 'yaml', '--dest', 'dir', yaml, a]);
    expect(s.code, s.stderr).toBe(0);
    const o = await ours(['sync', '--src', 'yaml', '--dest', 'dir', yaml, b]);
    expect(o.code, o.stderr).toBe(0);
    expect(await tree(b)).toEqual(await tree(a));
    expect(Object.keys(await tree(b))).toEqual(['busybox:latest', 'hello:v1']);
  });

  it('docker -> oci: one layout per repository, one ref per tag; --dry-run copies nothing', async () => {
    const out = join(tmp.path, 'layouts');
    const dry = await ours(['sync', '-s', 'docker', '-d', 'oci', '--src-tls-verify=false', '--dry-run', `${host}/mirror/hello`, out]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain(`Would copy image 1/2 from docker://${host}/mirror/hello:latest to oci:${out}/hello:latest`);
    await expect(readdir(out)).rejects.toMatchObject({ code: 'ENOENT' });
    const o = await ours(['sync', '-s', 'docker', '-d', 'oci', '--src-tls-verify=false', '-q', `${host}/mirror/hello`, out]);
    expect(o.code, o.stderr).toBe(0);
    expect(o.stderr).toBe('');
    const refs = await skopeo(['inspect', '--raw', `oci:${join(out, 'hello')}:v1`]);
    expect(refs.code, refs.stderr).toBe(0);
  });

  it('refuses bad usage (exit 2), reports an empty or missing source (exit 1), and --keep-going goes on', async () => {
    expect((await ours(['sync', '--src', 'dir', '--dest', 'dir', tmp.path, join(tmp.path, 'x')])).code).toBe(2);
    expect((await ours(['sync', '--src', 'ftp', '--dest', 'dir', 'a', 'b'])).code).toBe(2);
    const empty = await ours(['sync', '--src', 'docker', '--dest', 'dir', '--src-tls-verify=false', `${host}/mirror/none`, join(tmp.path, 'none')]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/ERR_NAME_UNKNOWN|ERR_SYNC_EMPTY/);
    const yaml = join(tmp.path, 'partly.yaml');
    await writeFile(yaml, `${host}:\n  tls-verify: false\n  images:\n    mirror/hello: ["latest", "missing"]\n`);
    const kept = await ours(['sync', '--src', 'yaml', '--dest', 'dir', '--keep-going', yaml, join(tmp.path, 'partly')]);
    expect(kept.code).toBe(1);
    expect(kept.stderr).toContain('ERR_SYNC_FAILED');
    expect(Object.keys(await tree(join(tmp.path, 'partly')))).toEqual(['hello:latest']);
    // without --keep-going the first failure stops the sync
    const stop = await ours(['sync', '--src', 'yaml', '--dest', 'dir', yaml, join(tmp.path, 'nokeep')]);
    expect(stop.code).toBe(1);
    expect(stop.stderr).toContain('ERR_MANIFEST_UNKNOWN');
    const missing = await ours(['sync', '--src', 'yaml', '--dest', 'dir', join(tmp.path, 'no.yaml'), join(tmp.path, 'nokeep2')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ERR_SYNC_YAML');
  });
});
