import { createHash, randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryHandle, type RegistryMode } from '@oci/testkit';
import { parseReference, RegistryClient, RegistryError, type RegistryClientOptions, type RequestDiagnostic } from '../src/index.js';

const sha = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function clientOptions(reg: RegistryHandle): RegistryClientOptions {
  const o: RegistryClientOptions = { retryBaseMs: 20, certsDirs: [] };
  if (!reg.tls) o.insecureRegistries = [reg.host];
  if (reg.caFile) o.caFile = reg.caFile;
  if (reg.username) o.credentials = { username: reg.username, password: reg.password ?? '' };
  else o.anonymous = true;
  return o;
}

async function collect(s: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function record(): { events: RequestDiagnostic[]; stop: () => void } {
  const events: RequestDiagnostic[] = [];
  const fn = (m: unknown): void => { events.push(m as RequestDiagnostic); };
  subscribe('oci:registry:request', fn);
  return { events, stop: () => unsubscribe('oci:registry:request', fn) };
}

const modes: RegistryMode[] = ['plain', 'htpasswd', 'tls', 'token'];

describe.each(modes)('against the real registry (%s)', (mode) => {
  let reg: RegistryHandle;
  let client: RegistryClient;
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = randomBytes(300_000);
  let manifestBytes: Buffer;

  beforeAll(async () => {
    reg = await startRegistry({ mode });
    client = new RegistryClient(clientOptions(reg));
    manifestBytes = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
    }));
  });
  afterAll(async () => {
    await client?.close();
    await reg?.stop();
  });

  it('pings', async () => {
    await client.ping(reg.host);
  });

  it('pushes (monolithic and chunked), pulls and verifies an image', async () => {
    const target = { registry: reg.host, repository: 'test/app' };
    const c = await client.pushBlob(target, config, { digest: sha(config), size: config.length });
    expect(c.outcome).toBe('uploaded');
    const progress: number[] = [];
    const l = await client.pushBlob(target, () => (async function* () { yield layer.subarray(0, 1000); yield layer.subarray(1000); })(), {
      digest: sha(layer), size: layer.length, chunkSize: 100_000, onProgress: (n) => progress.push(n),
    });
    expect(l.outcome).toBe('uploaded');
    expect(progress.at(-1)).toBe(layer.length);
    expect((await client.pushBlob(target, config, { digest: sha(config), size: config.length })).outcome).toBe('exists');
    const ref = parseReference(`${reg.host}/test/app:v1`);
    const digest = await client.putManifest(ref, manifestBytes, 'application/vnd.oci.image.manifest.v1+json');
    expect(digest).toBe(sha(manifestBytes));

    const m = await client.getManifest(ref);
    expect(m.digest).toBe(digest);
    expect(m.headerDigest).toBe(digest);
    expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(m.bytes.equals(manifestBytes)).toBe(true);
    const byDigest = await client.getManifest(parseReference(`${reg.host}/test/app@${digest}`));
    expect(byDigest.bytes.equals(manifestBytes)).toBe(true);
    const head = await client.headManifest(ref);
    expect(head).toEqual({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: manifestBytes.length });

    const got = await collect(await client.getBlob(target, sha(layer), { size: layer.length }));
    expect(got.equals(layer)).toBe(true);
    expect((await client.readBlob(target, sha(config))).equals(config)).toBe(true);
    expect(await client.statBlob(target, sha(layer))).toEqual({ size: layer.length });
  });

  it('mounts a blob across repositories', async () => {
    const rec = record();
    try {
      const r = await client.pushBlob({ registry: reg.host, repository: 'test/other' }, layer, {
        digest: sha(layer), size: layer.length, mountFrom: ['test/app'],
      });
      expect(r.outcome).toBe('mounted');
      expect(rec.events.some((e) => e.method === 'POST' && e.url.includes('mount=') && e.status === 201)).toBe(true);
      expect(rec.events.some((e) => e.method === 'PUT' || e.method === 'PATCH')).toBe(false);
    } finally {
      rec.stop();
    }
  });

  it('lists tags with pagination', async () => {
    const repo = parseReference(`${reg.host}/test/app:v2`);
    await client.putManifest(repo, manifestBytes, 'application/vnd.oci.image.manifest.v1+json');
    await client.putManifest({ ...repo, tag: 'v3' }, manifestBytes, 'application/vnd.oci.image.manifest.v1+json');
    const rec = record();
    try {
      const tags = await client.listTags({ registry: reg.host, repository: 'test/app' }, { pageSize: 1 });
      expect(tags.sort()).toEqual(['v1', 'v2', 'v3']);
      // docker-registry 2.8 ignores n=; Link parsing is covered by the unit tests of nextLink
      expect(rec.events.filter((e) => e.url.includes('/tags/list') && e.status === 200).length).toBeGreaterThanOrEqual(1);
    } finally {
      rec.stop();
    }
  });

  it('falls back to the referrers tag schema', async () => {
    const ref = parseReference(`${reg.host}/test/app:v1`);
    const idx = await client.referrers(ref, sha(manifestBytes));
    expect(idx.manifests).toEqual([]);
  });

  const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
  /** Pushes the empty blob to `repository`; `artifact` makes manifests of it whose subject is the test manifest. */
  async function referrerKit(repository: string): Promise<{ subject: string; artifact: (artifactType: string | undefined, extra?: object) => Buffer }> {
    const empty = Buffer.from('{}');
    await client.pushBlob({ registry: reg.host, repository }, empty, { digest: sha(empty), size: empty.length });
    const subject = sha(manifestBytes);
    const artifact = (artifactType: string | undefined, extra: object = {}): Buffer => Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST, ...(artifactType ? { artifactType } : {}),
      config: { mediaType: artifactType ? 'application/vnd.oci.empty.v1+json' : 'application/vnd.example.config+json', digest: sha(empty), size: 2 },
      layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: sha(empty), size: 2 }],
      subject: { mediaType: OCI_MANIFEST, digest: subject, size: manifestBytes.length },
      ...extra,
    }));
    return { subject, artifact };
  }

  it('keeps the tag-schema referrers list when manifests with a subject are pushed and deleted (no referrers API)', async () => {
    const target = { registry: reg.host, repository: 'test/app' };
    const { subject, artifact } = await referrerKit('test/app');
    const sbom = artifact('application/vnd.example.sbom', { annotations: { 'org.example.note': 'a' } });
    const sig = artifact(undefined, { annotations: { 'org.example.note': 'b' } });
    const put = (b: Buffer): Promise<string> => client.putManifest(parseReference(`${reg.host}/test/app@${sha(b)}`), b, OCI_MANIFEST);
    await put(sbom);
    await put(sig);
    await put(sbom); // pushed again: listed once
    const ref = parseReference(`${reg.host}/test/app:v1`);
    const listed = await client.referrers(ref, subject);
    expect(listed.manifests).toEqual([
      { mediaType: OCI_MANIFEST, digest: sha(sbom), size: sbom.length, artifactType: 'application/vnd.example.sbom', annotations: { 'org.example.note': 'a' } },
      // no artifactType: the config's media type (distribution-spec 1.1)
      { mediaType: OCI_MANIFEST, digest: sha(sig), size: sig.length, artifactType: 'application/vnd.example.config+json', annotations: { 'org.example.note': 'b' } },
    ]);
    expect((await client.referrers(ref, subject, { artifactType: 'application/vnd.example.sbom' })).manifests.map((d) => d.digest)).toEqual([sha(sbom)]);
    // the list is the tag <alg>-<hex>, an OCI index any client reads (skopeo too)
    const [, hex] = subject.split(':');
    expect(await client.listTags(target)).toContain(`sha256-${hex}`);
    const idx = await client.getManifest(parseReference(`${reg.host}/test/app:sha256-${hex}`));
    expect(idx.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    // deleting a referrer takes it out of the list
    await client.deleteManifest(parseReference(`${reg.host}/test/app@${sha(sbom)}`));
    expect((await client.referrers(ref, subject)).manifests.map((d) => d.digest)).toEqual([sha(sig)]);
    // a manifest without a subject leaves every list alone
    const before = (await client.getManifest(parseReference(`${reg.host}/test/app:sha256-${hex}`))).digest;
    await client.putManifest(parseReference(`${reg.host}/test/app:plain`), manifestBytes, OCI_MANIFEST);
    expect((await client.getManifest(parseReference(`${reg.host}/test/app:sha256-${hex}`))).digest).toBe(before);
  });

  it('keeps every referrer in the tag-schema list when several clients push and delete them at once', async () => {
    const { subject, artifact } = await referrerKit('test/race');
    const artifacts = Array.from({ length: 6 }, (_, i) => artifact(`application/vnd.example.a${i}`));
    // each its own client, as separate processes would be
    const clients = artifacts.map(() => new RegistryClient(clientOptions(reg)));
    await Promise.all(artifacts.map((b, i) => clients[i]!.putManifest(parseReference(`${reg.host}/test/race@${sha(b)}`), b, OCI_MANIFEST)));
    const ref = parseReference(`${reg.host}/test/race:v1`);
    expect((await client.referrers(ref, subject)).manifests.map((d) => d.digest).sort()).toEqual(artifacts.map(sha).sort());
    const [gone, kept] = [artifacts.slice(0, 3), artifacts.slice(3)];
    await Promise.all(gone.map((b, i) => clients[i]!.deleteManifest(parseReference(`${reg.host}/test/race@${sha(b)}`))));
    expect((await client.referrers(ref, subject)).manifests.map((d) => d.digest).sort()).toEqual(kept.map(sha).sort());
  });

  it('maps unknown manifests and blobs to stable codes', async () => {
    await expect(client.getManifest(parseReference(`${reg.host}/test/app:nope`))).rejects.toMatchObject({ code: 'ERR_MANIFEST_UNKNOWN' });
    await expect(client.getManifest(parseReference(`${reg.host}/test/none:nope`))).rejects.toSatisfy(
      (e: unknown) => RegistryError.is(e) && ['ERR_MANIFEST_UNKNOWN', 'ERR_NAME_UNKNOWN'].includes(e.code));
    await expect(client.getBlob({ registry: reg.host, repository: 'test/app' }, `sha256:${'0'.repeat(64)}`)).rejects.toMatchObject({ code: 'ERR_BLOB_UNKNOWN' });
    expect(await client.headManifest(parseReference(`${reg.host}/test/app:nope`))).toBeUndefined();
  });

  it('deletes a manifest', async () => {
    const other = Buffer.from(JSON.stringify({ ...JSON.parse(manifestBytes.toString()), annotations: { x: 'y' } }));
    const ref = parseReference(`${reg.host}/test/app:gone`);
    await client.putManifest(ref, other, 'application/vnd.oci.image.manifest.v1+json');
    const d = await client.deleteManifest(ref);
    expect(d).toBe(sha(other));
    await expect(client.getManifest(parseReference(`${reg.host}/test/app@${d}`))).rejects.toMatchObject({ code: 'ERR_MANIFEST_UNKNOWN' });
  });

  if (mode === 'htpasswd' || mode === 'token') {
    it('fails clearly on a wrong password, without a retry storm, and never leaks the password', async () => {
      const bad = new RegistryClient({ ...clientOptions(reg), credentials: { username: reg.username!, password: 'wrong-secret-pw' } });
      const rec = record();
      try {
        const err = await bad.getManifest(parseReference(`${reg.host}/test/app:v1`)).catch((e: unknown) => e);
        expect(RegistryError.is(err, 'ERR_UNAUTHORIZED')).toBe(true);
        expect(JSON.stringify({ m: (err as Error).message, h: (err as RegistryError).hint })).not.toContain('wrong-secret-pw');
        expect(rec.events.length).toBeLessThanOrEqual(4);
      } finally {
        rec.stop();
        await bad.close();
      }
    });
  }

  if (mode === 'token') {
    it('reports a missing push scope as unauthorized/denied, once', async () => {
      const reader = new RegistryClient({ ...clientOptions(reg), credentials: { username: reg.readerUsername!, password: reg.readerPassword! } });
      const rec = record();
      try {
        // pull works
        await reader.getManifest(parseReference(`${reg.host}/test/app:v1`));
        const err = await reader.putManifest(parseReference(`${reg.host}/test/app:v9`), manifestBytes, 'application/vnd.oci.image.manifest.v1+json').catch((e: unknown) => e);
        expect(RegistryError.is(err)).toBe(true);
        expect(['ERR_UNAUTHORIZED', 'ERR_DENIED']).toContain((err as RegistryError).code);
        expect(rec.events.filter((e) => e.method === 'PUT').length).toBeLessThanOrEqual(2);
      } finally {
        rec.stop();
        await reader.close();
      }
    });

    it('refreshes the token once when the registry answers 401 to a cached one', async () => {
      const { startFaultProxy } = await import('@oci/testkit');
      const fresh = new RegistryClient(clientOptions(reg));
      // the proxy in front of the registry keeps the same realm (the token server is separate)
      const px = await startFaultProxy(reg.url, [], reg.caFile ? { ca: (await import('node:fs')).readFileSync(reg.caFile, 'utf8') } : {});
      const c = new RegistryClient({ ...clientOptions(reg), insecureRegistries: [px.host] });
      const rec = record();
      try {
        await c.headManifest(parseReference(`${px.host}/test/app:v1`));
        px.setFaults([{ kind: 'status', status: 401, path: /\/manifests\//, times: 1,
          headers: { 'www-authenticate': `Bearer realm="${reg.tokenServer!.realm}",service="${reg.tokenServer!.service}",scope="repository:test/app:pull"` } }]);
        const head = await c.headManifest(parseReference(`${px.host}/test/app:v1`));
        expect(head?.digest).toMatch(/^sha256:/);
        expect(rec.events.filter((e) => e.url.includes('/token')).length).toBe(2);
      } finally {
        rec.stop();
        await c.close();
        await fresh.close();
        await px.stop();
      }
    });

    it('reuses one token per scope', async () => {
      const fresh = new RegistryClient(clientOptions(reg));
      const rec = record();
      try {
        for (let i = 0; i < 3; i++) await fresh.headManifest(parseReference(`${reg.host}/test/app:v1`));
        expect(rec.events.filter((e) => e.url.includes('/token')).length).toBe(1);
      } finally {
        rec.stop();
        await fresh.close();
      }
    });
  }
});
