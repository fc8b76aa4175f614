import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture, type FixtureInfo } from '@oci/fixtures';
import { Layout } from '@oci/layout';
import { startFaultProxy, startRedirectProxy, startRegistry, tmpDir, type FaultProxy, type RegistryHandle, type TmpDir } from '@oci/testkit';
import { copyImage, layoutDestination, parseReference, registrySource, RegistryClient, RegistryError, type LayoutLike } from '../src/index.js';

const asLayout = (l: Layout): LayoutLike => l; // a Layout is a LayoutLike (no cast)

async function collect(s: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('faults between us and the real registry', () => {
  let reg: RegistryHandle;
  let proxy: FaultProxy;
  let tmp: TmpDir;
  let busybox: FixtureInfo;
  let hello: FixtureInfo;
  const opts = (extra: Record<string, unknown> = {}) => ({ insecureRegistries: [proxy.host], anonymous: true, retryBaseMs: 10, certsDirs: [], ...extra });

  beforeAll(async () => {
    [reg, tmp, busybox, hello] = await Promise.all([startRegistry({ mode: 'plain' }), tmpDir('rc-faults-'), buildFixture('busybox'), buildFixture('hello')]);
    await pushFixture('busybox', reg, 'fx/busybox', { format: 'oci' });
    await pushFixture('hello', reg, 'fx/hello', { format: 'oci' });
    proxy = await startFaultProxy(reg.url);
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
    await tmp?.cleanup();
  });

  it('flipped byte: ERR_DIGEST_MISMATCH and nothing stored', async () => {
    const layer = hello.layers[0]!;
    proxy.setFaults([{ kind: 'flip-byte', path: new RegExp(`/blobs/${layer.digest}`), offset: 1000 }]);
    const client = new RegistryClient(opts());
    const dir = join(tmp.path, 'flip');
    try {
      const err = await copyImage(registrySource(client, parseReference(`${proxy.host}/fx/hello:latest`)),
        layoutDestination(asLayout(await Layout.init(dir)), 'latest')).catch((e: unknown) => e);
      expect(RegistryError.is(err, 'ERR_DIGEST_MISMATCH')).toBe(true);
      expect((err as RegistryError).expected).toBe(layer.digest);
      const blobs = await readdir(join(dir, 'blobs', 'sha256'));
      expect(blobs).not.toContain(layer.digest.slice(7));
      expect((await (await Layout.open(dir)).listRefs()).length).toBe(0);
    } finally {
      proxy.setFaults([]);
      await client.close();
    }
  });

  it('getBlob: a byte flipped near the end errors the stream before its last bytes reach the reader', async () => {
    const layer = busybox.layers[0]!;
    proxy.setFaults([{ kind: 'flip-byte', path: new RegExp(`/blobs/${layer.digest}`), offset: layer.size - 10 }]);
    const client = new RegistryClient(opts());
    try {
      const stream = await client.getBlob({ registry: proxy.host, repository: 'fx/busybox' }, layer.digest, { size: layer.size });
      let seen = 0;
      let ended = false;
      stream.on('end', () => { ended = true; });
      const err = await (async () => {
        for await (const c of stream) seen += (c as Buffer).length;
      })().catch((e: unknown) => e);
      expect(RegistryError.is(err, 'ERR_DIGEST_MISMATCH')).toBe(true);
      expect(ended).toBe(false);
      // the chunk holding the flipped byte was never handed out
      expect(seen).toBeLessThanOrEqual(layer.size - 10);
    } finally {
      proxy.setFaults([]);
      await client.close();
    }
  });

  it('getBlob: a slow reader pauses the download (bounded buffering) and still gets every byte', async () => {
    const blob = randomBytes(24 << 20);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const target = { registry: proxy.host, repository: 'fx/big' };
    const client = new RegistryClient(opts());
    try {
      await client.pushBlob(target, blob, { digest, size: blob.length });
      let received = 0;
      let consumed = 0;
      let maxAhead = 0;
      const stream = await client.getBlob(target, digest, { size: blob.length, onProgress: (n) => {
        received = n;
        maxAhead = Math.max(maxAhead, received - consumed);
      } });
      const hash = createHash('sha256');
      for await (const c of stream) {
        hash.update(c as Buffer);
        consumed += (c as Buffer).length;
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(`sha256:${hash.digest('hex')}`).toBe(digest);
      // without backpressure most of the 24 MiB would be received before the reader got far; with it, at most the
      // stream's buffer (< 1 MiB high-water mark + one read of up to 1 MiB), the chunk held back until the next
      // one arrives and the chunk the reader is on: < 4 MiB
      expect(maxAhead).toBeLessThan(4 << 20);
    } finally {
      await client.close();
    }
  });

  it('a connection cut mid-blob is resumed with a Range request', async () => {
    const layer = busybox.layers[0]!;
    proxy.setFaults([{ kind: 'cut', path: new RegExp(`/blobs/${layer.digest}`), method: 'GET', afterBytes: 200_000, times: 1 }]);
    proxy.stats.reset();
    const client = new RegistryClient(opts());
    try {
      const got = await collect(await client.getBlob({ registry: proxy.host, repository: 'fx/busybox' }, layer.digest, { size: layer.size }));
      expect(got.length).toBe(layer.size);
      const gets = proxy.stats.requests.filter((r) => r.path.includes(layer.digest) && r.method === 'GET');
      expect(gets.length).toBe(2);
      expect(gets[1]!.headers.range).toBe('bytes=200000-');
    } finally {
      proxy.setFaults([]);
      await client.close();
    }
  });

  it('a registry gone mid-copy: the re-run fetches only what is missing', async () => {
    const big = busybox.layers[0]!;
    // every GET of the big layer dies after 100 kB (as a registry that stopped would), beyond the client's retries
    proxy.setFaults([{ kind: 'cut', path: new RegExp(`/blobs/${big.digest}`), method: 'GET', afterBytes: 100_000, times: 100 }]);
    const dir = join(tmp.path, 'rerun');
    const client = new RegistryClient(opts({ retries: 2 }));
    try {
      const err = await copyImage(registrySource(client, parseReference(`${proxy.host}/fx/busybox:latest`)),
        layoutDestination(asLayout(await Layout.init(dir)), 'latest')).catch((e: unknown) => e);
      expect(RegistryError.is(err, 'ERR_NETWORK')).toBe(true);
      proxy.setFaults([]);
      proxy.stats.reset();
      const res = await copyImage(registrySource(client, parseReference(`${proxy.host}/fx/busybox:latest`)),
        layoutDestination(asLayout(await Layout.open(dir)), 'latest'));
      expect(res.digest).toBe(busybox.manifestDigest);
      const blobGets = proxy.stats.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/'));
      expect(blobGets.map((r) => r.path.split('/').at(-1))).toEqual([big.digest]);
    } finally {
      proxy.setFaults([]);
      await client.close();
    }
  });

  it('429 with Retry-After and a burst of 503s are retried and the copy succeeds', async () => {
    proxy.setFaults([
      { kind: 'status', status: 429, retryAfter: 1, path: /\/manifests\//, method: 'GET', times: 1 },
      { kind: 'status', status: 503, path: /\/blobs\//, method: 'GET', times: 3 },
    ]);
    proxy.stats.reset();
    const client = new RegistryClient(opts());
    const started = Date.now();
    try {
      const res = await copyImage(registrySource(client, parseReference(`${proxy.host}/fx/hello:latest`)),
        layoutDestination(asLayout(await Layout.init(join(tmp.path, 'retry'))), 'latest'));
      expect(res.digest).toBe(hello.manifestDigest);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(proxy.stats.requests.filter((r) => r.status === 503).length).toBe(3);
      expect(proxy.stats.requests.filter((r) => r.status === 429).length).toBe(1);
    } finally {
      proxy.setFaults([]);
      await client.close();
    }
  });

  it('a Retry-After longer than the limit fails with ERR_RATE_LIMITED and the wait', async () => {
    proxy.setFaults([{ kind: 'status', status: 429, retryAfter: 3600, path: /\/manifests\//, times: 1,
      body: JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }) }]);
    const client = new RegistryClient(opts());
    try {
      const err = await client.getManifest(parseReference(`${proxy.host}/fx/hello:latest`)).catch((e: unknown) => e);
      expect(RegistryError.is(err, 'ERR_RATE_LIMITED')).toBe(true);
      expect((err as RegistryError).retryAfter).toBe(3600);
      expect((err as RegistryError).hint).toMatch(/3600s/);
    } finally {
      proxy.setFaults([]);
      await client.close();
    }
  });

  it('a manifest fetched by digest is verified; oversized manifests are refused', async () => {
    proxy.setFaults([{ kind: 'flip-byte', path: /\/manifests\/sha256:/, offset: 10 }]);
    const client = new RegistryClient(opts());
    try {
      const err = await client.getManifest(parseReference(`${proxy.host}/fx/hello@${hello.manifestDigest}`)).catch((e: unknown) => e);
      expect(RegistryError.is(err, 'ERR_DIGEST_MISMATCH')).toBe(true);
    } finally {
      proxy.setFaults([]);
      await client.close();
    }
    const small = new RegistryClient(opts({ maxManifestSize: 100 }));
    try {
      await expect(small.getManifest(parseReference(`${proxy.host}/fx/hello:latest`))).rejects.toMatchObject({ code: 'ERR_TOO_LARGE' });
    } finally {
      await small.close();
    }
  });

  it('an upload whose connection dies is restarted from the source', async () => {
    const { randomBytes, createHash } = await import('node:crypto');
    const blob = randomBytes(200_000);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    proxy.setFaults([{ kind: 'reset', path: /\/blobs\/uploads\//, method: 'PUT', times: 1 }]);
    proxy.stats.reset();
    const client = new RegistryClient(opts());
    let opened = 0;
    try {
      const r = await client.pushBlob({ registry: proxy.host, repository: 'fx/up' }, () => {
        opened++;
        return (async function* () { yield blob; })();
      }, { digest, size: blob.length });
      expect(r.outcome).toBe('uploaded');
      expect(opened).toBe(2);
      expect(await client.hasBlob({ registry: proxy.host, repository: 'fx/up' }, digest)).toBe(true);
    } finally {
      proxy.setFaults([]);
      await client.close();
    }
  });

  it('a DELETE whose answer is lost: retried, answered 404, and reported as done since the manifest is gone', async () => {
    const client = new RegistryClient(opts());
    try {
      const doc = JSON.parse((await client.getManifest(parseReference(`${proxy.host}/fx/hello:latest`))).bytes.toString('utf8')) as Record<string, unknown>;
      const bytes = Buffer.from(JSON.stringify({ ...doc, annotations: { 'org.example.gone': 'soon' } }));
      const digest = await client.putManifest(parseReference(`${proxy.host}/fx/hello:doomed`), bytes, 'application/vnd.oci.image.manifest.v1+json');
      proxy.stats.reset();
      proxy.setFaults([{ kind: 'lose-answer', method: 'DELETE', path: /\/manifests\// }]);
      expect(await client.deleteManifest(parseReference(`${proxy.host}/fx/hello@${digest}`))).toBe(digest);
      // the first DELETE took effect upstream; its answer never came; the retry found nothing to delete
      const deletes = proxy.stats.requests.filter((r) => r.method === 'DELETE');
      expect(deletes.map((r) => r.faults)).toEqual([['lose-answer'], []]);
      expect(await client.headManifest(parseReference(`${proxy.host}/fx/hello@${digest}`))).toBeUndefined();
      // a manifest that was never there is still an error
      await expect(client.deleteManifest(parseReference(`${proxy.host}/fx/hello@sha256:${'1'.repeat(64)}`))).rejects.toMatchObject({ code: 'ERR_MANIFEST_UNKNOWN' });
    } finally {
      proxy.setFaults([]);
      await client.close();
    }
  });

  it('an aborted copy rejects with the signal reason', async () => {
    proxy.setFaults([{ kind: 'delay', ms: 300, path: /\/blobs\// }]);
    const client = new RegistryClient(opts());
    try {
      const ac = new AbortController();
      const reason = new Error('stop now');
      setTimeout(() => ac.abort(reason), 100);
      await expect(copyImage(registrySource(client, parseReference(`${proxy.host}/fx/hello:latest`)),
        layoutDestination(asLayout(await Layout.init(join(tmp.path, 'abort'))), 'latest'), { signal: ac.signal })).rejects.toBe(reason);
    } finally {
      proxy.setFaults([]);
      await client.close();
    }
  });
});

describe('redirects', () => {
  let reg: RegistryHandle;
  let tmp: TmpDir;
  let hello: FixtureInfo;
  beforeAll(async () => {
    [reg, tmp, hello] = await Promise.all([startRegistry({ mode: 'htpasswd' }), tmpDir('rc-redir-'), buildFixture('hello')]);
    await pushFixture('hello', reg, 'fx/hello', { format: 'oci' });
  });
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  it('follows a blob redirect to another host without the Authorization header', async () => {
    const rp = await startRedirectProxy(reg.url, { upstreamHeaders: { authorization: reg.basicAuth! } });
    const client = new RegistryClient({ insecureRegistries: [rp.host], credentials: { username: reg.username!, password: reg.password! }, certsDirs: [] });
    try {
      const res = await copyImage(registrySource(client, parseReference(`${rp.host}/fx/hello:latest`)),
        layoutDestination(asLayout(await Layout.init(join(tmp.path, 'redir'))), 'latest'));
      expect(res.digest).toBe(hello.manifestDigest);
      expect(rp.otherStats.requests.length).toBeGreaterThan(0);
      for (const r of rp.otherStats.requests) expect(r.headers.authorization).toBeUndefined();
      expect(rp.stats.requests.some((r) => r.headers.authorization)).toBe(true);
    } finally {
      await client.close();
      await rp.stop();
    }
  });
});
