import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRegistry, httpRequest, startFaultProxy, startRedirectProxy, type RegistryHandle } from '../src/index.js';

let reg: RegistryHandle;
const blob = Buffer.alloc(200_000);
for (let i = 0; i < blob.length; i++) blob[i] = (i * 31 + 7) & 0xff;
const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
const blobPath = `/v2/tk/faults/blobs/${digest}`;

beforeAll(async () => {
  reg = await getRegistry('plain');
  // monolithic upload of one blob straight to the registry
  const start = await fetch(`${reg.url}/v2/tk/faults/blobs/uploads/`, { method: 'POST' });
  expect(start.status).toBe(202);
  const loc = new URL(start.headers.get('location')!, reg.url);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } });
  expect(put.status).toBe(201);
});

async function getBytes(url: string): Promise<{ status: number; body: Buffer; error?: unknown; headers: Headers | undefined }> {
  let res: Response | undefined;
  try {
    res = await fetch(url);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
  } catch (error) {
    return { status: res?.status ?? 0, body: Buffer.alloc(0), error, headers: res?.headers };
  }
}

describe('startFaultProxy', () => {
  let proxies: { stop(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
  });

  it('passes requests through untouched and counts them', async () => {
    const p = await startFaultProxy(reg.url);
    proxies.push(p);
    expect(p.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const r = await getBytes(`${p.url}${blobPath}`);
    expect(r.status).toBe(200);
    expect(r.body.equals(blob)).toBe(true);
    expect(p.stats.count(/\/blobs\//)).toBe(1);
    expect(p.stats.requests[0]).toMatchObject({ method: 'GET', status: 200, bytes: blob.length, faults: [] });
  });

  it('flips one byte of a matching response body', async () => {
    const p = await startFaultProxy(reg.url, [{ kind: 'flip-byte', path: /\/blobs\/sha256:/, offset: 1000 }]);
    proxies.push(p);
    const r = await getBytes(`${p.url}${blobPath}`);
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(blob.length);
    const diff = [...r.body.keys()].filter((i) => r.body[i] !== blob[i]);
    expect(diff).toEqual([1000]);
    expect(r.body[1000]).toBe(blob[1000]! ^ 1);
  });

  it('cuts the connection after N bytes the first K times, and lets Range requests resume', async () => {
    const p = await startFaultProxy(reg.url, [{ kind: 'cut', path: /\/blobs\//, afterBytes: 50_000, times: 2 }]);
    proxies.push(p);
    const c1 = await httpRequest(`${p.url}${blobPath}`);
    expect(c1.status).toBe(200);
    expect(c1.error).toBeDefined();
    expect(c1.body.length).toBe(50_000);
    expect(c1.body.equals(blob.subarray(0, 50_000))).toBe(true);
    const range = { headers: { range: 'bytes=50000-' } };
    const c2 = await httpRequest(`${p.url}${blobPath}`, range);
    expect(c2.error).toBeDefined();
    const ok = await httpRequest(`${p.url}${blobPath}`, range);
    expect(ok.status).toBe(206);
    expect(ok.error).toBeUndefined();
    expect(ok.body.equals(blob.subarray(50_000))).toBe(true);
    expect(p.stats.requests.map((r) => r.headers['range'] ?? null)).toEqual([null, 'bytes=50000-', 'bytes=50000-']);
    expect(p.stats.requests.map((r) => r.faults)).toEqual([['cut'], ['cut'], []]);
  });

  it('answers 429 with Retry-After, then a burst of 503s, then passes', async () => {
    const p = await startFaultProxy(reg.url, [
      { kind: 'status', status: 429, retryAfter: 2, path: /\/manifests\/|\/blobs\// },
      { kind: 'status', status: 503, times: 3, path: /\/blobs\// },
    ]);
    proxies.push(p);
    const a = await fetch(`${p.url}${blobPath}`);
    expect(a.status).toBe(429);
    expect(a.headers.get('retry-after')).toBe('2');
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${p.url}${blobPath}`);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    expect(statuses).toEqual([503, 503, 503, 200]);
    expect(p.stats.count(/\/blobs\//, 'GET')).toBe(5);
  });

  it('resets connections and keeps upload Location headers pointing at itself', async () => {
    const p = await startFaultProxy(reg.url, [{ kind: 'reset', path: /\/v2\/$/ }]);
    proxies.push(p);
    await expect(fetch(`${p.url}/v2/`)).rejects.toThrow();
    expect((await fetch(`${p.url}/v2/`)).status).toBe(200);
    const start = await fetch(`${p.url}/v2/tk/faults/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    const loc = start.headers.get('location')!;
    expect(new URL(loc, p.url).host).toBe(p.host);
    expect(loc.startsWith('https:')).toBe(false);
  });
});

describe('startRedirectProxy', () => {
  it('redirects blob GETs to another host and records what that host received', async () => {
    const r = await startRedirectProxy(reg.url);
    try {
      expect(r.otherHost).toMatch(/^127\.0\.0\.2:\d+$/);
      const auth = { headers: { authorization: 'Basic dXNlcjpzZWNyZXQ=' } };
      const first = await httpRequest(`${r.url}${blobPath}`, auth);
      expect(first.status).toBe(307);
      const location = String(first.headers['location']);
      expect(location).toBe(`${r.otherUrl}${blobPath}`);
      expect(r.stats.requests[0]).toMatchObject({ status: 307 });
      expect(r.stats.requests[0]!.headers['authorization']).toMatch(/^Basic /);
      // a careful client drops the credentials for the other host ...
      const safe = await httpRequest(location);
      expect(safe.status).toBe(200);
      expect(safe.body.equals(blob)).toBe(true);
      expect(r.otherStats.requests[0]!.headers['authorization']).toBeUndefined();
      // ... a leaky one is caught in the act
      await httpRequest(location, auth);
      expect(r.otherStats.requests[1]!.headers['authorization']).toBe('Basic dXNlcjpzZWNyZXQ=');
      // fetch (undici) follows the redirect and strips Authorization across origins
      const viaFetch = await fetch(`${r.url}${blobPath}`, auth);
      expect(Buffer.from(await viaFetch.arrayBuffer()).equals(blob)).toBe(true);
      expect(r.otherStats.requests[2]!.headers['authorization']).toBeUndefined();
      // other paths are proxied
      expect((await fetch(`${r.url}/v2/`)).status).toBe(200);
    } finally {
      await r.stop();
    }
  });
});
