import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RegistryHandle } from '@oci/testkit';
import { RegistryClient } from '../src/index.js';

describe('HTTP(S)_PROXY / NO_PROXY', () => {
  let reg: RegistryHandle;
  let proxy: Server;
  let proxyUrl: string;
  const tunnels: string[] = [];

  beforeAll(async () => {
    reg = await startRegistry({ mode: 'plain' });
    proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req, socket, head) => {
      tunnels.push(String(req.url));
      const [host, port] = String(req.url).split(':');
      const up = connect(Number(port), host!, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) up.write(head);
        up.pipe(socket);
        socket.pipe(up);
      });
      up.on('error', () => socket.destroy());
      socket.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    proxy?.closeAllConnections();
    await new Promise((r) => proxy?.close(r));
    await reg?.stop();
  });

  it('goes through the proxy named in the environment', async () => {
    const c = new RegistryClient({ insecureRegistries: [reg.host], anonymous: true, certsDirs: [], env: { HTTP_PROXY: proxyUrl } });
    try {
      await c.ping(reg.host);
      expect(tunnels).toContain(reg.host);
    } finally {
      await c.close();
    }
  });

  it('bypasses it for NO_PROXY hosts', async () => {
    tunnels.length = 0;
    const c = new RegistryClient({ insecureRegistries: [reg.host], anonymous: true, certsDirs: [], env: { HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' } });
    try {
      await c.ping(reg.host);
      expect(tunnels).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
