import { spawnSync } from 'node:child_process';
import { mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Layout } from '../src/index.js';
import { buildTinyImage, cleanupTempDirs, codeOf, sha256, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('gc', () => {
  it('removes unreferenced blobs and keeps everything reachable (index -> manifests -> config, layers, subject)', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const work = await tempDir();
    const a = await buildTinyImage(l, work, { text: 'a' });
    const b = await buildTinyImage(l, work, { text: 'b' });
    const index = await l.putJson(
      { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ ...a.manifest, platform: { os: 'linux', architecture: 'amd64' } }] },
      'application/vnd.oci.image.index.v1+json',
    );
    // an artifact whose subject is b's manifest, tagged: keeps b alive through `subject`
    const empty = await l.putJson({}, 'application/vnd.oci.empty.v1+json');
    const referrer = await l.putJson(
      { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/x-test', config: empty, layers: [empty], subject: b.manifest },
      'application/vnd.oci.image.manifest.v1+json',
    );
    const junk = await l.putBlob(Buffer.from('junk'));
    await l.tag('multi', index);
    await l.tag('sig', referrer);
    // junk was put by this process and never tagged: kept unless includePending (see the pin test)
    expect((await l.gc({ dryRun: true })).removed).toEqual([]);
    const dry = await l.gc({ dryRun: true, includePending: true });
    expect(dry.removed).toEqual([junk.digest]);
    expect(await l.hasBlob(junk.digest)).toBe(true);
    const r = await l.gc({ includePending: true });
    expect(r).toMatchObject({ removed: [junk.digest], freedBytes: 4 });
    for (const d of [index, a.manifest, a.config, a.layer, b.manifest, b.config, b.layer, referrer, empty]) expect(await l.hasBlob(d.digest)).toBe(true);

    await l.untag('sig');
    const r2 = await l.gc();
    expect(r2.removed.sort()).toEqual([referrer.digest, empty.digest, b.manifest.digest, b.config.digest, b.layer.digest].sort());
    expect((await l.verify()).ok).toBe(true);
  });

  it('honours a grace period for fresh blobs', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const fresh = await l.putBlob(Buffer.from('fresh'));
    const old = await l.putBlob(Buffer.from('old'));
    const past = new Date(Date.now() - 3600_000);
    await utimes(l.blobPath(old.digest), past, past);
    expect((await l.gc({ gracePeriodMs: 60_000, includePending: true })).removed).toEqual([old.digest]);
    expect(await l.hasBlob(fresh.digest)).toBe(true);
  });

  it('removes temp files of dead writers, keeps those of live ones', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const ingest = join(l.dir, '.oci-ts', 'ingest');
    await mkdir(ingest, { recursive: true });
    const dead = `b-${deadPid()}.0.abcdef.tmp`;
    const live = `b-${process.pid}.0.abcdef.tmp`;
    await writeFile(join(ingest, dead), 'partial');
    await writeFile(join(ingest, live), 'in progress');
    const r = await l.gc();
    expect(r.tempFilesRemoved).toEqual([dead]);
    expect(await readdir(ingest)).toEqual([live]);
  });

  it('refuses to run when a reachable manifest cannot be read (its children would be unknown)', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const img = await buildTinyImage(l, await tempDir());
    await l.tag('latest', img.manifest);
    await writeFile(l.blobPath(img.manifest.digest), '{"schemaVersion":2, "broken": true}');
    expect(await codeOf(l.gc())).toBe('ERR_DIGEST_MISMATCH');
    expect(await l.hasBlob(img.layer.digest)).toBe(true);
  });
});

describe('verify', () => {
  it('ok for a sound layout; reports missing, truncated, tampered and invalid blobs with codes', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const work = await tempDir();
    const a = await buildTinyImage(l, work, { text: 'a' });
    await l.tag('a', a.manifest);
    expect(await l.verify()).toMatchObject({ ok: true, problems: [] });

    // missing layer
    await rm(l.blobPath(a.layer.digest));
    let v = await l.verify();
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([expect.objectContaining({ code: 'ERR_BLOB_UNKNOWN', digest: a.layer.digest })]);

    // a layer whose content does not match its name
    await writeFile(l.blobPath(a.layer.digest), 'not the layer');
    v = await l.verify();
    expect(v.problems).toEqual([expect.objectContaining({ code: 'ERR_DIGEST_MISMATCH', digest: a.layer.digest })]);
  });

  it('reports a descriptor size that disagrees with the blob, and a config that is not schema-valid', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const badConfig = await l.putJson({ hello: 'world' }, 'application/vnd.oci.image.config.v1+json', { validate: false });
    const layer = await l.putBlob(Buffer.from('layer'));
    const m = await l.putJson(
      {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: badConfig,
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: 999 }],
      },
      'application/vnd.oci.image.manifest.v1+json',
    );
    await l.tag('x', m);
    const v = await l.verify();
    expect(v.problems.map((p) => p.code).sort()).toEqual(['ERR_INVALID_DOCUMENT', 'ERR_SIZE_MISMATCH']);
    expect(await codeOf(l.resolve('x'))).toBe('ERR_INVALID_DOCUMENT');
  });

  it('hashes unreferenced blobs too, and warns about stray files in blobs/', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const x = await l.putBlob(Buffer.from('x'));
    await writeFile(l.blobPath(x.digest), 'y');
    await writeFile(join(l.dir, 'blobs', 'sha256', 'not-a-digest'), '');
    const v = await l.verify();
    expect(v.problems).toEqual([expect.objectContaining({ code: 'ERR_DIGEST_MISMATCH', digest: x.digest })]);
    expect(v.warnings.map((w) => w.code)).toContain('ERR_INVALID_DIGEST');
    expect((await l.verify({ unreferenced: false })).ok).toBe(true);
    expect(sha256('y')).not.toBe(x.digest);
  });

  it('reports a malformed index.json instead of throwing', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    await writeFile(join(l.dir, 'index.json'), '{');
    const v = await l.verify();
    expect(v).toMatchObject({ ok: false, problems: [expect.objectContaining({ code: 'ERR_INVALID_INDEX' })] });
  });

  it('aborts with signal.reason', async () => {
    const l = await Layout.init(join(await tempDir(), 'l'));
    const ac = new AbortController();
    ac.abort(new Error('halt'));
    await expect(l.verify({ signal: ac.signal })).rejects.toThrow('halt');
    await expect(l.gc({ signal: ac.signal })).rejects.toThrow('halt');
  });
});
