import { createHash, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LeanHttp, releaseChunk } from '../src/lean-http.js';

// The lean client against servers on loopback: node:http for well-formed answers, a raw TCP server for
// hostile ones. The client's whole behaviour against the real registry (plain, TLS, token, htpasswd,
// restarts mid-blob) is covered by the other tests of this package, which all go through it.

const client = (): LeanHttp => new LeanHttp({
  secureContext: () => { throw new Error('no TLS here'); },
  rejectUnauthorized: true,
});

const servers: (Server | HttpServer)[] = [];
const clients: LeanHttp[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { (s as Server).close(r); (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.(); })));
});

async function listen<T extends Server | HttpServer>(s: T): Promise<string> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

/** A raw server that answers every connection with `answer` (bytes written as given), then does `after`. */
function raw(answer: (socket: Socket, request: string) => void): Server {
  return createServer((socket) => {
    let got = '';
    socket.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) answer(socket, got);
    });
    socket.on('error', () => {});
  });
}

async function text(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('LeanHttp', () => {
  it('reuses the memory of released body chunks, and never that of chunks still held', async () => {
    // two different payloads per request: a consumer that releases its chunks, then one that keeps them while
    // further downloads (which reuse the released slabs) run
    const payloads = [randomBytes(5 << 20), randomBytes(5 << 20), randomBytes(3 << 20), randomBytes(700 << 10)];
    const srv = createHttpServer((req, res) => {
      const p = payloads[Number(req.url!.slice(1))]!;
      res.setHeader('content-length', p.length);
      res.end(p);
    });
    const origin = await listen(srv);
    const c = client();
    clients.push(c);
    const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
    const buffers = new Set<ArrayBufferLike>();
    // released as soon as hashed: later reads land in the same few slabs
    for (const i of [0, 1]) {
      const res = await c.request({ origin, path: `/${i}`, method: 'GET' });
      const h = createHash('sha256');
      for await (const chunk of res.body) {
        h.update(chunk as Buffer);
        buffers.add((chunk as Buffer).buffer);
        releaseChunk(chunk as Buffer);
        releaseChunk(chunk as Buffer); // twice: counted once
      }
      expect(h.digest('hex')).toBe(sha(payloads[i]!));
    }
    expect(buffers.size).toBeLessThan(8); // 10 MB through a handful of 1 MiB slabs
    // held: their bytes must survive the next download
    const kept = await text((await c.request({ origin, path: '/2', method: 'GET' })).body);
    const keptChunks: Buffer[] = [];
    for await (const chunk of (await c.request({ origin, path: '/2', method: 'GET' })).body) keptChunks.push(chunk as Buffer);
    const after = await c.request({ origin, path: '/3', method: 'GET' });
    for await (const chunk of after.body) releaseChunk(chunk as Buffer);
    expect(sha(kept)).toBe(sha(payloads[2]!));
    expect(sha(Buffer.concat(keptChunks))).toBe(sha(payloads[2]!));
    // chunks of other origins (plain Buffers) are ignored
    releaseChunk(Buffer.from('not pooled'));
  });

  it('reads big bodies straight into slabs: concurrent downloads on several connections never share bytes', async () => {
    // four bodies at once, each on its own connection, released as they are hashed: every read lands in the
    // free tail of its connection's slab, and a slab is reused only once all its chunks came back
    const payloads = [0, 1, 2, 3].map((i) => randomBytes((4 << 20) + i * 12345));
    const srv = createHttpServer((req, res) => {
      const p = payloads[Number(req.url!.slice(1))]!;
      res.setHeader('content-length', p.length);
      // in pieces, so that reads of all four interleave
      let off = 0;
      const more = (): void => {
        while (off < p.length) {
          const end = Math.min(p.length, off + 200_000);
          const ok = res.write(p.subarray(off, end));
          off = end;
          if (!ok) return void res.once('drain', more);
          if (off % 400_000 < 200_000) return void setImmediate(more);
        }
        res.end();
      };
      more();
    });
    const origin = await listen(srv);
    const c = client();
    clients.push(c);
    const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
    const views = new Map<ArrayBufferLike, number>();
    const got = await Promise.all(payloads.map(async (_, i) => {
      const res = await c.request({ origin, path: `/${i}`, method: 'GET' });
      const h = createHash('sha256');
      let held: Buffer[] = [];
      for await (const chunk of res.body) {
        const b = chunk as Buffer;
        views.set(b.buffer, (views.get(b.buffer) ?? 0) + 1);
        // keep a few chunks a while (later reads must not land on them), hash them, then give them back, as a
        // consumer that writes in batches does
        held.push(b);
        if (held.length === 3) {
          for (const x of held) h.update(x);
          for (const x of held) releaseChunk(x);
          held = [];
        }
      }
      for (const x of held) h.update(x);
      for (const x of held) releaseChunk(x);
      return h.digest('hex');
    }));
    expect(got).toEqual(payloads.map(sha));
    // 16 MB through a few dozen reused 1 MiB slabs, most of them holding several reads each
    expect(views.size).toBeLessThan(40);
    expect([...views.values()].filter((n) => n > 1).length).toBeGreaterThan(views.size / 2);
  });

  it('reads Content-Length bodies byte for byte and reuses the connection', async () => {
    const payload = randomBytes(3 << 20);
    let connections = 0;
    const srv = createHttpServer((req, res) => {
      res.setHeader('content-length', payload.length);
      res.setHeader('x-twice', ['a', 'b']);
      res.end(payload);
    });
    srv.on('connection', () => connections++);
    const origin = await listen(srv);
    const c = client();
    clients.push(c);
    for (let i = 0; i < 3; i++) {
      const res = await c.request({ origin, path: '/blob?x=1', method: 'GET', headers: { accept: 'a/b' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-twice']).toEqual(['a', 'b']);
      const got = await text(res.body);
      expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    }
    expect(connections).toBe(1);
  });

  it('decodes chunked bodies (extensions, trailers) and reads HTTP/1.0 bodies until the close', async () => {
    const chunked = await listen(raw((s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n');
      setTimeout(() => s.end('1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: 1\r\n\r\n'), 20);
    }));
    const untilClose = await listen(raw((s) => s.end('HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n')));
    const c = client();
    clients.push(c);
    const a = await c.request({ origin: chunked, path: '/', method: 'GET' });
    expect((await text(a.body)).toString()).toBe('hello world!');
    const b = await c.request({ origin: untilClose, path: '/v2/', method: 'GET' });
    expect(b.statusCode).toBe(400);
    expect((await text(b.body)).toString()).toMatch(/HTTPS server/);
  });

  it('HEAD and 204 answers have no body even with a Content-Length', async () => {
    const origin = await listen(createHttpServer((req, res) => {
      res.setHeader('content-length', '1234');
      if (req.method === 'HEAD') res.end();
      else { res.statusCode = 204; res.end(); }
    }));
    const c = client();
    clients.push(c);
    const h = await c.request({ origin, path: '/', method: 'HEAD' });
    expect(h.headers['content-length']).toBe('1234');
    expect((await text(h.body)).length).toBe(0);
    const d = await c.request({ origin, path: '/', method: 'DELETE' });
    expect(d.statusCode).toBe(204);
    await d.body.dump();
  });

  it('a body cut short is an UND_ERR_SOCKET error (what the client resumes with Range)', async () => {
    const origin = await listen(raw((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
      s.end(Buffer.alloc(5000));
    }));
    const c = client();
    clients.push(c);
    const res = await c.request({ origin, path: '/', method: 'GET' });
    await expect(text(res.body)).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
  });

  it('refuses hostile answers: oversized headers, bad Content-Length, not HTTP, a close before any answer', async () => {
    const c = client();
    clients.push(c);
    const huge = await listen(raw((s) => s.end(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70 << 10)}\r\n\r\n`)));
    await expect(c.request({ origin: huge, path: '/', method: 'GET' })).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_OVERFLOW' });
    const twoLengths = await listen(raw((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!')));
    await expect(c.request({ origin: twoLengths, path: '/', method: 'GET' })).rejects.toMatchObject({ code: 'HPE_INVALID_CONTENT_LENGTH' });
    const notHttp = await listen(raw((s) => s.end('SSH-2.0-OpenSSH\r\n\r\n')));
    await expect(c.request({ origin: notHttp, path: '/', method: 'GET' })).rejects.toMatchObject({ code: 'HPE_INVALID_CONSTANT' });
    const badHeader = await listen(raw((s) => s.end('HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 0\r\n\r\n')));
    await expect(c.request({ origin: badHeader, path: '/', method: 'GET' })).rejects.toMatchObject({ code: 'HPE_INVALID_HEADER_TOKEN' });
    const hangUp = await listen(raw((s) => s.destroy()));
    await expect(c.request({ origin: hangUp, path: '/', method: 'GET' })).rejects.toMatchObject({ code: expect.stringMatching(/UND_ERR_SOCKET|ECONNRESET/) });
  });

  it('refuses request headers that would split the request, before connecting', async () => {
    let connections = 0;
    const srv = raw((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    srv.on('connection', () => connections++);
    const origin = await listen(srv);
    const c = client();
    clients.push(c);
    await expect(c.request({ origin, path: '/', method: 'GET', headers: { authorization: 'Bearer x\r\nX-Evil: 1' } }))
      .rejects.toMatchObject({ code: 'UND_ERR_INVALID_ARG' });
    await expect(c.request({ origin, path: '/', method: 'GET', headers: { 'bad name': 'x' } })).rejects.toMatchObject({ code: 'UND_ERR_INVALID_ARG' });
    expect(connections).toBe(0);
  });

  it('replaces a pooled connection the server closed while it was idle', async () => {
    let connections = 0;
    const srv = raw((s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      // close the kept-alive connection right after answering, as a server with a short idle timeout does
      setTimeout(() => s.destroy(), 10);
    });
    srv.on('connection', () => connections++);
    const origin = await listen(srv);
    const c = client();
    clients.push(c);
    expect((await text((await c.request({ origin, path: '/', method: 'GET' })).body)).toString()).toBe('ok');
    await new Promise((r) => setTimeout(r, 50));
    expect((await text((await c.request({ origin, path: '/', method: 'GET' })).body)).toString()).toBe('ok');
    expect(connections).toBe(2);
  });

  it('an abort stops the request and the body', async () => {
    const origin = await listen(raw((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nabc')));
    const c = client();
    clients.push(c);
    const ac = new AbortController();
    const res = await c.request({ origin, path: '/', method: 'GET', signal: ac.signal });
    const reading = text(res.body);
    ac.abort();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    const ac2 = new AbortController();
    const pending = c.request({ origin: await listen(raw(() => {})), path: '/', method: 'GET', signal: ac2.signal });
    setTimeout(() => ac2.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('a paused consumer pauses the socket and gets every byte after it resumes', async () => {
    const payload = randomBytes(8 << 20);
    const origin = await listen(createHttpServer((req, res) => res.end(payload)));
    const c = client();
    clients.push(c);
    const res = await c.request({ origin, path: '/', method: 'GET' });
    res.body.pause();
    await new Promise((r) => setTimeout(r, 100));
    // bounded: the socket stopped reading (body buffer ~1 MiB + one read + the kernel's socket buffers)
    expect(res.body.readableLength).toBeLessThan(3 << 20);
    const got = await text(res.body);
    expect(got.equals(payload)).toBe(true);
  });
});
