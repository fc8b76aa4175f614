// --dest-compress-format zstd (and zstd -> gzip) through the `zstd` command; skopeo 1.9 as the oracle for what
// gets recompressed and the media types written. Compressed bytes differ between encoders: what must match is
// the decompressed content (the config's diff_ids).
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, type FixtureInfo } from '@oci/fixtures';
import { Layout } from '@oci/layout';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';
import { copyImage, layoutDestination, layoutSource, parseReference, registryDestination, RegistryClient, RegistryError, type LayoutLike } from '../src/index.js';

const asLayout = (l: Layout): LayoutLike => l;
type Manifest = { mediaType: string; config: { digest: string }; layers: { mediaType: string; digest: string; size: number }[] };

async function manifestOf(dir: string, ref: string): Promise<Manifest> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const d = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref)!;
  return JSON.parse(await readFile(join(dir, 'blobs', 'sha256', d.digest.slice(7)), 'utf8')) as Manifest;
}

/** sha256 of each layer's decompressed bytes (zstd -dc / gzip -dc / as is). */
async function diffIds(dir: string, m: Manifest): Promise<string[]> {
  const out: string[] = [];
  for (const l of m.layers) {
    const file = join(dir, 'blobs', 'sha256', l.digest.slice(7));
    const cmd = l.mediaType.endsWith('zstd') ? 'zstd -dc' : l.mediaType.endsWith('gzip') ? 'gzip -dc' : 'cat';
    const r = await run('sh', ['-c', `${cmd} < "$1" | sha256sum`, 'sh', file]);
    out.push(`sha256:${r.stdout.split(' ')[0]}`);
  }
  return out;
}

describe('zstd recompression', () => {
  let tmp: TmpDir;
  let reg: RegistryHandle;
  let tricky: FixtureInfo;
  let busybox: FixtureInfo;
  beforeAll(async () => {
    [tmp, reg, tricky, busybox] = await Promise.all([tmpDir('rc-zstd-'), startRegistry({ mode: 'plain' }), buildFixture('tricky'), buildFixture('busybox')]);
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  for (const format of ['zstd', 'gzip'] as const) {
    it(`--dest-compress-format ${format}: the same layers recompressed, the same media types and content as skopeo`, async () => {
      for (const fx of [tricky, busybox]) {
        const peer = join(tmp.path, `${fx.name}-${format}-skopeo`);
        const s = await run('skopeo', ['copy', '-q', '--dest-compress-format', format, `oci:${fx.layout}:latest`, `oci:${peer}:x`]);
        expect(s.code, s.stderr).toBe(0);
        const ours = join(tmp.path, `${fx.name}-${format}-ours`);
        await copyImage(layoutSource(asLayout(await Layout.open(fx.layout)), 'latest'), layoutDestination(asLayout(await Layout.init(ours)), 'x'), { compressFormat: format });
        const [a, b] = [await manifestOf(peer, 'x'), await manifestOf(ours, 'x')];
        expect(b.mediaType).toBe(a.mediaType);
        expect(b.layers.map((l) => l.mediaType)).toEqual(a.layers.map((l) => l.mediaType));
        expect(b.config.digest).toBe(a.config.digest);
        const config = JSON.parse(await readFile(join(ours, 'blobs', 'sha256', b.config.digest.slice(7)), 'utf8')) as { rootfs: { diff_ids: string[] } };
        expect(await diffIds(ours, b)).toEqual(config.rootfs.diff_ids);
        // layers skopeo left alone we left alone, byte for byte
        a.layers.forEach((l, i) => {
          if (fx.layers.some((src) => src.digest === l.digest)) expect(b.layers[i]!.digest).toBe(l.digest);
        });
        // and skopeo reads ours
        const back = await run('skopeo', ['copy', '-q', `oci:${ours}:x`, `oci:${join(tmp.path, `${fx.name}-${format}-back`)}:y`]);
        expect(back.code, back.stderr).toBe(0);
      }
    }, 120_000);
  }

  it('a Docker v2s2 manifest becomes OCI when its layers become zstd (also pushed to a registry)', async () => {
    const client = new RegistryClient({ insecureRegistries: [reg.host], anonymous: true, certsDirs: [] });
    try {
      const { dirSource } = await import('../src/index.js');
      const res = await copyImage(dirSource(busybox.dockerDir), registryDestination(client, parseReference(`${reg.host}/z/busybox:1`)), { compressFormat: 'zstd', compressLevel: 19 });
      expect(res.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
      const s = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/z/busybox:1`]);
      const m = JSON.parse(s.stdout) as Manifest;
      expect(m.layers.map((l) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+zstd']);
    } finally {
      await client.close();
    }
  });

  it('bad levels, a corrupt zstd layer and a missing zstd command fail with codes and store nothing', async () => {
    const open = async () => layoutSource(asLayout(await Layout.open(tricky.layout)), 'latest');
    for (const [format, level] of [['zstd', 0], ['zstd', 20], ['gzip', 10], ['gzip', 1.5]] as const) {
      const err = await copyImage(await open(), layoutDestination(asLayout(await Layout.init(join(tmp.path, `lvl-${format}-${level}`))), 'x'), { compressFormat: format, compressLevel: level }).catch((e: unknown) => e);
      expect(RegistryError.is(err, 'ERR_UNSUPPORTED'), `${format} ${level}`).toBe(true);
    }
    // a copy of tricky whose zstd layer is corrupt but keeps its digest: the layout is rebuilt around the bad bytes
    const bad = join(tmp.path, 'bad-src');
    await run('cp', ['-a', tricky.layout, bad]);
    const m = await manifestOf(bad, 'latest');
    const zl = m.layers.find((l) => l.mediaType.endsWith('zstd'))!;
    const junk = Buffer.alloc(zl.size, 0x42);
    const junkDigest = `sha256:${createHash('sha256').update(junk).digest('hex')}`;
    await writeFile(join(bad, 'blobs', 'sha256', junkDigest.slice(7)), junk);
    const layout = await Layout.open(bad);
    const newManifest = { ...m, layers: m.layers.map((l) => (l === zl ? { ...l, digest: junkDigest } : l)) };
    const d = await layout.putJson(newManifest, m.mediaType);
    await layout.tag('corrupt', d);
    const outDir = join(tmp.path, 'bad-out');
    const err = await copyImage(layoutSource(asLayout(layout), 'corrupt'), layoutDestination(asLayout(await Layout.init(outDir)), 'x'), { compressFormat: 'gzip' }).catch((e: unknown) => e);
    expect(RegistryError.is(err, 'ERR_ZSTD')).toBe(true);
    await expect((await Layout.open(outDir)).listRefs()).resolves.toEqual([]);
    // no zstd on PATH
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const e2 = await copyImage(await open(), layoutDestination(asLayout(await Layout.init(join(tmp.path, 'nozstd'))), 'x'), { compressFormat: 'zstd' }).catch((e: unknown) => e);
      expect(RegistryError.is(e2, 'ERR_ZSTD_UNAVAILABLE'), String(e2)).toBe(true);
    } finally {
      process.env.PATH = path;
    }
  });
});
