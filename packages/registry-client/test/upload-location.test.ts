import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryHandle } from '@oci/testkit';
import { RegistryClient } from '../src/index.js';

/** A reverse proxy to `target`; `rewrite` may change response headers; `extra` adds request headers. */
function proxyTo(target: URL, opts: { rewrite?: (h: Record<string, unknown>) => void; extra?: Record<string, string>; seen?: (req: IncomingMessage) => void }) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    opts.seen?.(req);
    const headers = { ...req.headers, host: target.host, ...opts.extra };
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (ur) => {
      const h = { ...ur.headers } as Record<string, unknown>;
      opts.rewrite?.(h);
      res.writeHead(ur.statusCode ?? 502, h as never);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
}

async function listen(server: Server, host: string): Promise<string> {
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return `${host}:${(server.address() as AddressInfo).port}`;
}

describe('security: upload Locations on another host get no credentials', () => {
  let reg: RegistryHandle;
  let front: Server;
  let other: Server;
  let frontHost: string;
  const otherAuth: (string | undefined)[] = [];

  beforeAll(async () => {
    reg = await startRegistry({ mode: 'htpasswd' });
    const target = new URL(reg.url);
    other = createServer(proxyTo(target, { extra: { authorization: reg.basicAuth! }, seen: (req) => otherAuth.push(req.headers.authorization) }));
    const otherHost = await listen(other, '127.0.0.2');
    front = createServer(proxyTo(target, {
      rewrite: (h) => {
        // send the client's upload to the "storage" host, as registries backed by object stores do
        if (typeof h.location === 'string' && h.location.includes('/blobs/uploads/')) {
          h.location = `http://${otherHost}${new URL(h.location, reg.url).pathname}${new URL(h.location, reg.url).search}`;
        }
      },
    }));
    frontHost = await listen(front, '127.0.0.1');
  });
  afterAll(async () => {
    front?.closeAllConnections();
    other?.closeAllConnections();
    await new Promise((r) => front?.close(r));
    await new Promise((r) => other?.close(r));
    await reg?.stop();
  });

  it('never sends the registry credentials there, and the upload still works', async () => {
    const blob = randomBytes(50_000);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const c = new RegistryClient({ insecureRegistries: [frontHost], credentials: { username: reg.username!, password: reg.password! }, certsDirs: [] });
    try {
      const r = await c.pushBlob({ registry: frontHost, repository: 'loc/x' }, blob, { digest, size: blob.length });
      expect(r.outcome).toBe('uploaded');
      expect(otherAuth.length).toBeGreaterThan(0);
      expect(otherAuth).toEqual(otherAuth.map(() => undefined)); // the client sent no credentials to the other host
      expect(await c.hasBlob({ registry: frontHost, repository: 'loc/x' }, digest)).toBe(true);
    } finally {
      await c.close();
    }
  });
});
