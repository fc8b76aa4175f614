// The pre-1.0 layout the tutorials show (skopeo of 2017): oci-layout, blobs/, refs/latest holding
// a descriptor, no index.json, and a manifest with "annotations": null.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Layout } from '../src/index.js';
import { cleanupTempDirs, fixturesDir, have, sha256, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

async function writeBlob(dir: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
  return digest;
}

async function tutorialLayout(): Promise<{ dir: string; manifestDigest: string; configDigest: string; layerDigest: string }> {
  const work = await tempDir();
  const dir = join(work, 'busybox-oci');
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion": "1.0.0"}');
  // The config exactly as the tutorial prints it (docker 1.12 era, with null fields).
  const config = await readFile(join(fixturesDir, 'legacy-busybox-config.json'));
  const configDigest = await writeBlob(dir, config);
  await mkdir(join(work, 'root', 'bin'), { recursive: true });
  await writeFile(join(work, 'root', 'bin', 'sh'), '#!/bin/true\n');
  execFileSync('sh', ['-c', `tar -C ${work}/root -cf - . | gzip -n > ${work}/layer.tgz`]);
  const layer = await readFile(join(work, 'layer.tgz'));
  const layerDigest = await writeBlob(dir, layer);
  // Go's encoding of the rc-era manifest struct: "annotations": null included.
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
      annotations: null,
    }),
  );
  const manifestDigest = await writeBlob(dir, manifest);
  await mkdir(join(dir, 'refs'));
  await writeFile(
    join(dir, 'refs', 'latest'),
    JSON.stringify({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length }),
  );
  return { dir, manifestDigest, configDigest, layerDigest };
}

describe('legacy refs/ layout of the tutorials', () => {
  it('opens, lists refs/latest, resolves it (null fields read as absent), verifies and gc keeps it', async () => {
    const t = await tutorialLayout();
    const layout = await Layout.open(t.dir);
    expect((await layout.listRefs()).map((r) => [r.name, r.descriptor.digest, r.legacy])).toEqual([['latest', t.manifestDigest, true]]);
    const r = await layout.resolve('latest');
    expect(r.descriptor.digest).toBe(t.manifestDigest);
    expect(r.configDescriptor.digest).toBe(t.configDigest);
    expect(t.configDigest).toBe('sha256:e02e811dd08fd49e7f6032625495118e63f597eb150403d02e3238af1df240ba'); // as in the tutorial
    expect(r.manifest.layers.map((l) => l.digest)).toEqual([t.layerDigest]);
    expect(r.config.config?.Cmd).toEqual(['sh']);
    expect(r.config.rootfs.diff_ids).toEqual(['sha256:e88b3f82283bc59d5e0df427c824e9f95557e661fcb0ea15fb0fb6f97760f9d9']);
    const v = await layout.verify();
    expect(v.problems).toEqual([]);
    expect(v.warnings.map((w) => w.code)).toContain('WARN_NULL_FIELDS');
    expect((await layout.gc()).removed).toEqual([]);
  });

  it.skipIf(!have('umoci'))('after we tag it, umoci (which needs index.json) reads it too', async () => {
    const t = await tutorialLayout();
    const layout = await Layout.open(t.dir);
    const { descriptor } = await layout.resolve('latest');
    await layout.tag('latest', descriptor);
    const out = execFileSync('umoci', ['ls', '--layout', t.dir]).toString();
    expect(out.trim()).toBe('latest');
  });
});
