// --format v2s2 (manifestFormat: 'v2s2'): OCI manifests and indexes written as Docker v2 schema 2 manifests and
// manifest lists, byte for byte as skopeo 1.9 writes them.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, type FixtureInfo } from '@oci/fixtures';
import { Layout } from '@oci/layout';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';
import {
  copyImage, dirDestination, layoutDestination, layoutSource, parseReference, registryDestination, RegistryClient, RegistryError, type LayoutLike,
} from '../src/index.js';

const asLayout = (l: Layout): LayoutLike => l;

async function manifests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('manifest.json')).sort()) out[f] = await readFile(join(dir, f), 'utf8');
  return out;
}

describe('--format v2s2 against skopeo', () => {
  let tmp: TmpDir;
  let reg: RegistryHandle;
  let hello: FixtureInfo;
  let tricky: FixtureInfo;
  let busybox: FixtureInfo;
  beforeAll(async () => {
    [tmp, reg, hello, tricky, busybox] = await Promise.all([tmpDir('rc-v2s2-'), startRegistry({ mode: 'plain' }), buildFixture('hello'), buildFixture('tricky'), buildFixture('busybox')]);
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  it('writes the same manifests and lists as skopeo to dir: (one image, --all)', async () => {
    const cases: { name: string; layout: string; all: boolean }[] = [
      { name: 'hello', layout: hello.layout, all: false },
      { name: 'busybox', layout: busybox.layout, all: false },
      { name: 'index', layout: hello.indexLayout, all: true },
    ];
    for (const c of cases) {
      const peer = join(tmp.path, `${c.name}-skopeo`);
      const s = await run('skopeo', ['copy', '-q', '--format', 'v2s2', ...(c.all ? ['--all'] : []), `oci:${c.layout}:latest`, `dir:${peer}`]);
      expect(s.code, s.stderr).toBe(0);
      const ours = join(tmp.path, `${c.name}-ours`);
      await copyImage(layoutSource(asLayout(await Layout.open(c.layout)), 'latest'), dirDestination(ours), { manifestFormat: 'v2s2', all: c.all });
      expect(await manifests(ours)).toEqual(await manifests(peer));
    }
  }, 120_000);

  it('pushes v2s2 to a registry as skopeo does', async () => {
    const s = await run('skopeo', ['copy', '-q', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${hello.layout}:latest`, `docker://${reg.host}/v2s2/skopeo:1`]);
    expect(s.code, s.stderr).toBe(0);
    const client = new RegistryClient({ insecureRegistries: [reg.host], anonymous: true, certsDirs: [] });
    try {
      const res = await copyImage(layoutSource(asLayout(await Layout.open(hello.layout)), 'latest'), registryDestination(client, parseReference(`${reg.host}/v2s2/ours:1`)), { manifestFormat: 'v2s2' });
      expect(res.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    } finally {
      await client.close();
    }
    const [a, b] = await Promise.all(['skopeo', 'ours'].map((r) => run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/v2s2/${r}:1`])));
    expect(b!.stdout).toBe(a!.stdout);
  });

  it('refuses what v2s2 cannot hold, with codes, writing nothing', async () => {
    const src = async () => layoutSource(asLayout(await Layout.open(tricky.layout)), 'latest');
    // a zstd layer: skopeo refuses too, even with --dest-compress-format gzip (it converts before recompressing)
    for (const compress of [[], ['--dest-compress-format', 'gzip']]) {
      const s = await run('skopeo', ['copy', '-q', '--format', 'v2s2', ...compress, `oci:${tricky.layout}:latest`, `dir:${join(tmp.path, `skopeo-zstd-${compress.length}`)}`]);
      expect(s.code).not.toBe(0);
      const zstd = await copyImage(await src(), dirDestination(join(tmp.path, 'no-zstd')), { manifestFormat: 'v2s2', compressFormat: compress.length ? 'gzip' : undefined }).catch((e: unknown) => e);
      expect(RegistryError.is(zstd, 'ERR_UNSUPPORTED')).toBe(true);
    }
    const toLayout = await copyImage(await src(), layoutDestination(asLayout(await Layout.init(join(tmp.path, 'no-layout'))), 'x'), { manifestFormat: 'v2s2' }).catch((e: unknown) => e);
    expect(RegistryError.is(toLayout, 'ERR_UNSUPPORTED')).toBe(true);
    const both = await copyImage(await src(), dirDestination(join(tmp.path, 'no-both')), { manifestFormat: 'v2s2', compressFormat: 'zstd' }).catch((e: unknown) => e);
    expect(RegistryError.is(both, 'ERR_UNSUPPORTED')).toBe(true);
    const keep = await copyImage(layoutSource(asLayout(await Layout.open(hello.layout)), 'latest'), dirDestination(join(tmp.path, 'no-keep')), { manifestFormat: 'v2s2', preserveDigests: true }).catch((e: unknown) => e);
    expect(RegistryError.is(keep, 'ERR_CONVERSION_REQUIRED')).toBe(true);
    for (const d of ['no-zstd', 'no-both', 'no-keep']) {
      const files = await readdir(join(tmp.path, d)).catch(() => [] as string[]);
      expect(files.filter((f) => f.endsWith('manifest.json')), d).toEqual([]);
    }
  });
});
