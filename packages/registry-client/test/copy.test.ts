import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture, type FixtureInfo } from '@oci/fixtures';
import { Layout } from '@oci/layout';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';
import {
  copyImage, dirDestination, dirSource, layoutDestination, layoutSource, parseReference, registryDestination, registrySource, RegistryClient,
  type CopyEvent, type LayoutLike,
} from '../src/index.js';
import { clientOptions, indexJson, layoutBlobs, skopeoFlags } from './helpers.js';

const asLayout = (l: Layout): LayoutLike => l; // a Layout is a LayoutLike (no cast)

describe('copy against the real registry, skopeo as the oracle', () => {
  let reg: RegistryHandle;
  let reg2: RegistryHandle;
  let client: RegistryClient;
  let tmp: TmpDir;
  let hello: FixtureInfo;
  let busybox: FixtureInfo;

  beforeAll(async () => {
    [reg, reg2, tmp, hello, busybox] = await Promise.all([
      startRegistry({ mode: 'plain' }), startRegistry({ mode: 'token' }), tmpDir('rc-copy-'), buildFixture('hello'), buildFixture('busybox'),
    ]);
    client = new RegistryClient({ ...clientOptions(reg), credentials: undefined, anonymous: undefined,
      insecureRegistries: [reg.host, reg2.host], authfile: reg2.authFile });
    await pushFixture('busybox', reg, 'fx/busybox-oci', { format: 'oci' });
    await pushFixture('busybox', reg, 'fx/busybox-v2s2', { format: 'v2s2' });
    await pushFixture('hello', reg, 'fx/hello-index', { format: 'index' });
  });
  afterAll(async () => {
    await client?.close();
    await reg?.stop();
    await reg2?.stop();
    await tmp?.cleanup();
  });

  async function skopeo(args: string[]): Promise<void> {
    const r = await run('skopeo', args);
    if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')}: ${r.stderr}`);
  }

  it('pulls an OCI image byte-identical to skopeo', async () => {
    const ours = join(tmp.path, 'ours-oci');
    const theirs = join(tmp.path, 'theirs-oci');
    const events: CopyEvent[] = [];
    const res = await copyImage(registrySource(client, parseReference(`${reg.host}/fx/busybox-oci:latest`)),
      layoutDestination(asLayout(await Layout.init(ours)), 'latest'), { onProgress: (e) => events.push(e) });
    await skopeo(['copy', '-q', ...skopeoFlags(reg, 'src'), `docker://${reg.host}/fx/busybox-oci:latest`, `oci:${theirs}:latest`]);
    expect(res.digest).toBe(busybox.manifestDigest);
    const [a, b] = [await layoutBlobs(ours), await layoutBlobs(theirs)];
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [k, v] of a) expect(v.equals(b.get(k)!)).toBe(true);
    expect((await indexJson(ours)).manifests[0]!.digest).toBe((await indexJson(theirs)).manifests[0]!.digest);
    expect(events.some((e) => e.type === 'blob-done' && e.outcome === 'uploaded')).toBe(true);
    // skopeo reads our layout
    await skopeo(['inspect', '--raw', `oci:${ours}:latest`]);
    // re-copy: everything present, nothing transferred
    const again = await copyImage(registrySource(client, parseReference(`${reg.host}/fx/busybox-oci:latest`)),
      layoutDestination(asLayout(await Layout.open(ours)), 'latest'));
    expect(again.blobs.every((b) => b.outcome === 'skipped')).toBe(true);
  });

  it('a layout still opening: the registry request starts first, the copy equals skopeo\'s; a layout that fails to open closes the source', async () => {
    const dir = join(tmp.path, 'deferred');
    let open!: (l: LayoutLike) => void;
    const opening = new Promise<LayoutLike>((r) => { open = r; });
    const dest = layoutDestination(opening, 'latest', { dir, created: true });
    expect(dest.name).toBe(`oci:${dir}:latest`);
    const src = registrySource(client, parseReference(`${reg.host}/fx/busybox-oci:latest`));
    let gets = 0;
    const counting = { ...src, getBlob: (...a: Parameters<typeof src.getBlob>) => { gets++; return src.getBlob(...a); } };
    const copying = copyImage(counting, dest);
    // the blob downloads are asked for while the layout does not exist yet
    for (let i = 0; i < 200 && gets === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(gets).toBeGreaterThan(0);
    open(asLayout(await Layout.init(dir)));
    const result = await copying;
    const theirs = join(tmp.path, 'deferred-skopeo');
    await skopeo(['copy', '-q', ...skopeoFlags(reg, 'src'), `docker://${reg.host}/fx/busybox-oci:latest`, `oci:${theirs}:latest`]);
    expect(await layoutBlobs(dir)).toEqual(await layoutBlobs(theirs));
    expect(result.digest).toBe(busybox.manifestDigest);
    // a layout that cannot be opened: the put fails with its error and the source stream is closed
    const failing = layoutDestination(Promise.reject(Object.assign(new Error('cannot create the layout'), { code: 'EACCES' })), undefined, { dir: '/nonexistent', created: true });
    const { Readable } = await import('node:stream');
    const body = new Readable({ read() {} });
    await expect(failing.putBlob({ digest: busybox.configDigest, size: busybox.configSize }, async () => body)).rejects.toThrow('cannot create the layout');
    await new Promise((r) => setImmediate(r));
    expect(body.destroyed).toBe(true);
  });

  it('a re-copy of a present image leaves index.json alone; a changed tag or a missing blob rewrites it', async () => {
    const dir = join(tmp.path, 'recopy-index');
    const src = () => registrySource(client, parseReference(`${reg.host}/fx/busybox-oci:latest`));
    await copyImage(src(), layoutDestination(asLayout(await Layout.init(dir)), 'latest'));
    const before = await stat(join(dir, 'index.json'));
    await copyImage(src(), layoutDestination(asLayout(await Layout.open(dir)), 'latest'));
    const same = await stat(join(dir, 'index.json'));
    expect([same.ino, same.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    // another ref name: written
    await copyImage(src(), layoutDestination(asLayout(await Layout.open(dir)), 'other'));
    const refs = (await indexJson(dir)).manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).sort();
    expect(refs).toEqual(['latest', 'other']);
    // a blob missing: stored again and the index rewritten (after the blob directory is synced)
    const after = await stat(join(dir, 'index.json'));
    await rm(join(dir, 'blobs', 'sha256', busybox.layers[0]!.digest.slice('sha256:'.length)));
    const res = await copyImage(src(), layoutDestination(asLayout(await Layout.open(dir)), 'latest'));
    expect(res.blobs.filter((b) => b.outcome === 'uploaded').map((b) => b.digest)).toEqual([busybox.layers[0]!.digest]);
    expect((await stat(join(dir, 'index.json'))).ino).not.toBe(after.ino);
    // an untagged copy of an image already listed untagged: nothing written either
    await copyImage(src(), layoutDestination(asLayout(await Layout.open(dir))));
    const untagged = await stat(join(dir, 'index.json'));
    await copyImage(src(), layoutDestination(asLayout(await Layout.open(dir))));
    expect((await stat(join(dir, 'index.json'))).ino).toBe(untagged.ino);
  });

  it('converts a Docker v2s2 image exactly as skopeo does', async () => {
    const ours = join(tmp.path, 'ours-v2s2');
    const theirs = join(tmp.path, 'theirs-v2s2');
    const res = await copyImage(registrySource(client, parseReference(`${reg.host}/fx/busybox-v2s2:latest`)),
      layoutDestination(asLayout(await Layout.init(ours)), 'latest'));
    await skopeo(['copy', '-q', ...skopeoFlags(reg, 'src'), `docker://${reg.host}/fx/busybox-v2s2:latest`, `oci:${theirs}:latest`]);
    const theirIndex = await indexJson(theirs);
    expect(res.digest).toBe(theirIndex.manifests[0]!.digest);
    expect(res.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    const [a, b] = [await layoutBlobs(ours), await layoutBlobs(theirs)];
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [k, v] of a) expect(v.equals(b.get(k)!)).toBe(true);
  });

  it('refuses to convert with preserveDigests', async () => {
    const dir = join(tmp.path, 'preserve');
    await expect(copyImage(registrySource(client, parseReference(`${reg.host}/fx/busybox-v2s2:latest`)),
      layoutDestination(asLayout(await Layout.init(dir)), 'latest'), { preserveDigests: true })).rejects.toMatchObject({ code: 'ERR_CONVERSION_REQUIRED' });
  });

  it('round-trips layout -> registry -> layout with the same digests (token registry)', async () => {
    const src = layoutSource(asLayout(await Layout.open(hello.layout)), 'latest');
    const pushed = await copyImage(src, registryDestination(client, parseReference(`${reg2.host}/rt/hello:v1`)));
    expect(pushed.digest).toBe(hello.manifestDigest);
    const back = join(tmp.path, 'back');
    const pulled = await copyImage(registrySource(client, parseReference(`${reg2.host}/rt/hello:v1`)), layoutDestination(asLayout(await Layout.init(back)), 'x'));
    expect(pulled.digest).toBe(hello.manifestDigest);
    const orig = await layoutBlobs(hello.layout);
    for (const [k, v] of await layoutBlobs(back)) expect(v.equals(orig.get(k)!)).toBe(true);
  });

  it('copies docker:// -> docker:// with a cross-repository mount, and between registries', async () => {
    const r = await copyImage(registrySource(client, parseReference(`${reg.host}/fx/busybox-oci:latest`)),
      registryDestination(client, parseReference(`${reg.host}/other/busybox:copy`)));
    expect(r.blobs.map((b) => b.outcome).sort()).toEqual(r.blobs.map(() => 'mounted'));
    const r2 = await copyImage(registrySource(client, parseReference(`${reg.host}/fx/busybox-oci:latest`)),
      registryDestination(client, parseReference(`${reg2.host}/other/busybox:copy`)));
    expect(r2.digest).toBe(busybox.manifestDigest);
    expect(r2.blobs.every((b) => b.outcome === 'uploaded')).toBe(true);
  });

  it('copies a whole index with all, and one platform otherwise, like skopeo', async () => {
    const ours = join(tmp.path, 'idx-ours');
    const theirs = join(tmp.path, 'idx-theirs');
    const src = registrySource(client, parseReference(`${reg.host}/fx/hello-index:latest`));
    const all = await copyImage(src, layoutDestination(asLayout(await Layout.init(ours)), 'all'), { all: true });
    await skopeo(['copy', '-q', '--all', ...skopeoFlags(reg, 'src'), `docker://${reg.host}/fx/hello-index:latest`, `oci:${theirs}:all`]);
    expect(all.digest).toBe((await indexJson(theirs)).manifests[0]!.digest);
    const one = await copyImage(src, layoutDestination(asLayout(await Layout.init(ours)), 'arm64'), { platform: { os: 'linux', architecture: 'arm64' } });
    await skopeo(['copy', '-q', '--override-arch=arm64', ...skopeoFlags(reg, 'src'), `docker://${reg.host}/fx/hello-index:latest`, `oci:${theirs}:arm64`]);
    const theirArm = (await indexJson(theirs)).manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'arm64');
    expect(one.digest).toBe(theirArm!.digest);
    await expect(copyImage(src, layoutDestination(asLayout(await Layout.init(ours)), 'x'), { platform: { os: 'plan9', architecture: 'mips' } }))
      .rejects.toMatchObject({ code: 'ERR_PLATFORM_UNKNOWN' });
  });

  it('converts a Docker manifest list with --all exactly as skopeo does', async () => {
    // a Docker list over two v2s2 images in one repository (pushed by skopeo), put by us
    await pushFixture('hello', reg, 'fx/dlist', { format: 'v2s2', tag: 'hello' });
    await pushFixture('busybox', reg, 'fx/dlist', { format: 'v2s2', tag: 'busybox' });
    const entries = [];
    for (const [tag, arch] of [['hello', 'amd64'], ['busybox', 'arm64']] as const) {
      const m = await client.getManifest(parseReference(`${reg.host}/fx/dlist:${tag}`));
      entries.push({ mediaType: m.mediaType, size: m.size, digest: m.digest, platform: { architecture: arch, os: 'linux', ...(arch === 'arm64' ? { variant: 'v8' } : {}) } });
    }
    const list = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: entries }, null, 3));
    await client.putManifest(parseReference(`${reg.host}/fx/dlist:list`), list, 'application/vnd.docker.distribution.manifest.list.v2+json');
    const ours = join(tmp.path, 'dlist-ours');
    const theirs = join(tmp.path, 'dlist-theirs');
    const res = await copyImage(registrySource(client, parseReference(`${reg.host}/fx/dlist:list`)), layoutDestination(asLayout(await Layout.init(ours)), 'l'), { all: true });
    await skopeo(['copy', '-q', '--all', ...skopeoFlags(reg, 'src'), `docker://${reg.host}/fx/dlist:list`, `oci:${theirs}:l`]);
    const theirIndex = (await indexJson(theirs)).manifests[0]!;
    const [a, b] = [await layoutBlobs(ours), await layoutBlobs(theirs)];
    expect({ digest: res.digest, keys: [...a.keys()].sort() }).toEqual({ digest: theirIndex.digest, keys: [...b.keys()].sort() });
    expect(theirIndex.mediaType).toBe('application/vnd.oci.image.index.v1+json');
  });

  it('reads and writes skopeo dir: directories', async () => {
    const out = join(tmp.path, 'dir-out');
    const r = await copyImage(dirSource(hello.dockerDir), dirDestination(out));
    expect((await readFile(join(out, 'manifest.json'))).equals(await readFile(join(hello.dockerDir, 'manifest.json')))).toBe(true);
    expect(await readFile(join(out, 'version'), 'utf8')).toBe(await readFile(join(hello.dockerDir, 'version'), 'utf8'));
    // skopeo reads what we wrote
    await skopeo(['inspect', '--raw', `dir:${out}`]);
    expect(r.blobs.length).toBe(2);
  });
});
