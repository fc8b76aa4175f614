import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isValidRefName, Layout, LayoutError } from '../src/index.js';
import { buildTinyImage, cleanupTempDirs, codeOf, sha256, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

describe('init and open', () => {
  it('init creates oci-layout, index.json and blobs/, and open reads it back', async () => {
    const dir = join(await tempDir(), 'new', 'layout');
    const l = await Layout.init(dir);
    expect(l.dir).toBe(dir);
    expect(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [],
    });
    const again = await Layout.open(dir);
    expect(await again.listRefs()).toEqual([]);
    // init on an existing layout opens it and keeps its refs
    const img = await buildTinyImage(l, await tempDir());
    await l.tag('v1', img.manifest);
    expect((await (await Layout.init(dir)).listRefs()).map((r) => r.name)).toEqual(['v1']);
  });

  it('ERR_INVALID_LAYOUT: missing directory, missing oci-layout, wrong version, bad JSON, no blobs/', async () => {
    const base = await tempDir();
    const e1 = await Layout.open(join(base, 'nope')).catch((e: unknown) => e);
    expect(LayoutError.is(e1, 'ERR_INVALID_LAYOUT')).toBe(true);
    expect((e1 as LayoutError).hint).toMatch(/does not exist/);

    const dir = join(base, 'l');
    await Layout.init(dir);
    await rm(join(dir, 'oci-layout'));
    const e2 = await Layout.open(dir).catch((e: unknown) => e);
    expect(LayoutError.is(e2, 'ERR_INVALID_LAYOUT')).toBe(true);
    expect((e2 as Error).message).toMatch(/oci-layout file is missing/);

    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    const e3 = await Layout.open(dir).catch((e: unknown) => e);
    expect((e3 as LayoutError).code).toBe('ERR_INVALID_LAYOUT');
    expect((e3 as Error).message).toMatch(/unsupported imageLayoutVersion "2.0.0"/);

    await writeFile(join(dir, 'oci-layout'), '{not json');
    expect(await codeOf(Layout.open(dir))).toBe('ERR_INVALID_LAYOUT');
    await writeFile(join(dir, 'oci-layout'), '{}');
    expect(await codeOf(Layout.open(dir))).toBe('ERR_INVALID_LAYOUT');

    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await Layout.open(dir);
    await rm(join(dir, 'blobs'), { recursive: true });
    expect(await codeOf(Layout.open(dir))).toBe('ERR_INVALID_LAYOUT');
    await mkdir(join(dir, 'blobs'));
    await rm(join(dir, 'index.json'));
    expect(await codeOf(Layout.open(dir))).toBe('ERR_INVALID_LAYOUT');
  });

  it('ERR_INVALID_INDEX: malformed index.json (not JSON, wrong shape, bad descriptor digest)', async () => {
    const dir = join(await tempDir(), 'l');
    await Layout.init(dir);
    for (const bad of [
      '{"schemaVersion":2,"manifests":[',
      '[]',
      '{"schemaVersion":1,"manifests":[]}',
      '{"schemaVersion":2}',
      `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../x","size":1}]}`,
      `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${sha256('x')}","size":-1}]}`,
    ]) {
      await writeFile(join(dir, 'index.json'), bad);
      const err = await Layout.open(dir).catch((e: unknown) => e);
      expect(LayoutError.is(err, 'ERR_INVALID_INDEX'), bad).toBe(true);
      expect((err as LayoutError).hint).toBeTruthy();
    }
  });
});

describe('refs', () => {
  it('tag / listRefs / untag through the ref.name annotation, replacing an existing name', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const work = await tempDir();
    const a = await buildTinyImage(l, work, { text: 'a' });
    const b = await buildTinyImage(l, work, { text: 'b' });
    await l.tag('latest', a.manifest);
    await l.tag('v1.0', a.manifest);
    await l.tag('latest', b.manifest);
    const refs = await l.listRefs();
    expect(refs.map((r) => [r.name, r.descriptor.digest])).toEqual([
      ['v1.0', a.manifest.digest],
      ['latest', b.manifest.digest],
    ]);
    const index = JSON.parse(await readFile(join(l.dir, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    expect(index.manifests[1]?.annotations['org.opencontainers.image.ref.name']).toBe('latest');
    await l.untag('v1.0');
    expect((await l.listRefs()).map((r) => r.name)).toEqual(['latest']);
    expect(await codeOf(l.untag('v1.0'))).toBe('ERR_REF_UNKNOWN');
    expect(await codeOf(l.resolve('v1.0'))).toBe('ERR_REF_UNKNOWN');
  });

  it('validates ref names against the image-spec grammar', async () => {
    for (const ok of ['latest', 'v1.0.0', 'a--b', 'foo/bar:1', 'x@y', 'A+B', 'docker.io/library/busybox:1.36']) expect(isValidRefName(ok), ok).toBe(true);
    for (const bad of ['', '-x', 'x-', 'a..b', 'a/', '/a', '../x', 'a b', 'a/../b', 'a---b', 'ü']) expect(isValidRefName(bad), bad).toBe(false);
    const l = await Layout.init(join(await tempDir(), 'l'));
    const img = await buildTinyImage(l, await tempDir());
    expect(await codeOf(l.tag('../evil', img.manifest))).toBe('ERR_INVALID_REF_NAME');
    expect(await codeOf(l.resolve('../evil'))).toBe('ERR_INVALID_REF_NAME');
  });

  it('tag refuses a descriptor with a bad digest, a blob not in the layout, or a wrong size', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const img = await buildTinyImage(l, await tempDir());
    expect(await codeOf(l.tag('x', { ...img.manifest, digest: 'sha256:../../x' }))).toBe('ERR_INVALID_DIGEST');
    expect(await codeOf(l.tag('x', { ...img.manifest, digest: 'sha256:nothex' }))).toBe('ERR_INVALID_DIGEST');
    expect(await codeOf(l.tag('x', { ...img.manifest, digest: sha256('absent') }))).toBe('ERR_BLOB_UNKNOWN');
    expect(await codeOf(l.tag('x', { ...img.manifest, size: img.manifest.size + 1 }))).toBe('ERR_SIZE_MISMATCH');
    expect(await codeOf(l.tag('x', { ...img.manifest, size: -1 }))).toBe('ERR_INVALID_DESCRIPTOR');
    expect(await l.listRefs()).toEqual([]);
  });
});

describe('resolve', () => {
  it('ref -> manifest + config; also by digest', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const img = await buildTinyImage(l, await tempDir());
    await l.tag('latest', img.manifest);
    const r = await l.resolve('latest');
    expect(r.descriptor.digest).toBe(img.manifest.digest);
    expect(r.configDescriptor).toEqual(img.config);
    expect(r.config.rootfs.diff_ids).toEqual([img.diffId]);
    expect(r.manifest.layers[0]).toEqual(img.layer);
    expect((await l.resolve(img.manifest.digest)).descriptor.digest).toBe(img.manifest.digest);
    // an untagged manifest blob is reachable by digest too; a non-manifest blob is not
    const other = await buildTinyImage(l, await tempDir(), { text: 'untagged' });
    const byDigest = await l.resolve(other.manifest.digest);
    expect(byDigest.descriptor).toEqual(other.manifest);
    expect(await codeOf(l.resolve(other.layer.digest))).toBe('ERR_REF_UNKNOWN');
  });

  it('follows an index to the manifest for the requested platform', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const work = await tempDir();
    const amd = await buildTinyImage(l, work, { text: 'amd64' });
    const arm = await buildTinyImage(l, work, { text: 'arm64', arch: 'arm64', variant: 'v8' });
    const index = await l.putJson(
      {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          { ...amd.manifest, platform: { os: 'linux', architecture: 'amd64' } },
          { ...arm.manifest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        ],
      },
      'application/vnd.oci.image.index.v1+json',
    );
    await l.tag('multi', index);
    expect((await l.resolve('multi', { platform: 'linux/amd64' })).descriptor.digest).toBe(amd.manifest.digest);
    const r = await l.resolve('multi', { platform: { os: 'linux', architecture: 'arm64' } });
    expect(r.descriptor.digest).toBe(arm.manifest.digest);
    expect(r.chain.map((d) => d.digest)).toEqual([index.digest, arm.manifest.digest]);
    expect(await codeOf(l.resolve('multi', { platform: 'linux/s390x' }))).toBe('ERR_PLATFORM_UNKNOWN');
  });

  it('reads the legacy pre-1.0 refs/NAME layout (no index.json)', async () => {
    const dir = join(await tempDir(), 'legacy');
    const l = await Layout.init(dir);
    const img = await buildTinyImage(l, await tempDir());
    await rm(join(dir, 'index.json'));
    await mkdir(join(dir, 'refs'));
    await writeFile(join(dir, 'refs', 'latest'), JSON.stringify(img.manifest));
    await writeFile(join(dir, 'refs', 'bad name'), JSON.stringify(img.manifest));
    await writeFile(join(dir, 'refs', 'broken'), '{');
    const opened = await Layout.open(dir);
    expect(await opened.listRefs()).toEqual([{ name: 'latest', descriptor: img.manifest, legacy: true }]);
    const r = await opened.resolve('latest');
    expect(r.descriptor.digest).toBe(img.manifest.digest);
    expect(r.config.architecture).toBe('amd64');
    expect((await opened.verify()).ok).toBe(true);
    // tagging a legacy layout writes an index.json; the legacy ref stays readable
    await opened.tag('new', img.manifest);
    expect((await opened.listRefs()).map((x) => x.name)).toEqual(['new', 'latest']);
    await opened.untag('latest');
    expect((await opened.listRefs()).map((x) => x.name)).toEqual(['new']);
  });

  it('a manifest whose layer descriptor has a bad digest string is reported', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const img = await buildTinyImage(l, await tempDir());
    const badManifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: img.config,
      layers: [{ ...img.layer, digest: 'sha256:../../../etc/passwd' }],
    };
    const d = await l.putJson(badManifest, 'application/vnd.oci.image.manifest.v1+json', { validate: false });
    await l.tag('bad', d);
    expect(await codeOf(l.resolve('bad'))).toBe('ERR_INVALID_DIGEST');
    const v = await l.verify();
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => p.code)).toContain('ERR_INVALID_DIGEST');
  });
});
