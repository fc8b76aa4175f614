import { connect as netConnect, isIP, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { ConnectionOptions, SecureContext, TLSSocket } from 'node:tls';
import type { Dispatcher } from 'undici';

/**
 * @internal A small HTTP/1.1 client for requests without a body (GET, HEAD, DELETE): what a pull sends.
 *
 * Why not undici for these: a layer passes in ~64 KiB socket reads, and undici's parser (llhttp in
 * WebAssembly, each read copied into its memory, a 'readable' loop that stops the socket at every read)
 * spends more per read than the digest does; measured on a 48 MB layer from a loopback registry, with the
 * same hashing and writes: undici ~220 ms, this ~135 ms. Reads here land in one buffer per connection
 * (`onread`: headers, small bodies) or, for big bodies, straight into reused slabs (below), and body bytes are
 * pushed to the response body directly. It also keeps undici (and its WebAssembly parser) from being loaded at
 * all by a pull that sends no body.
 *
 * What it does: http and https (the caller's secure context and verification switch; TLS sessions
 * resumed), keep-alive connections pooled per origin and closed after 4 s idle (a pooled connection the
 * server closed meanwhile is replaced once, transparently: the requests are idempotent), Content-Length,
 * chunked and read-until-close bodies, 1xx skipped, headers limited to 64 KiB, timeouts (connect 10 s,
 * headers and body idle 300 s, as undici's defaults), abort signals. Errors carry undici's codes
 * (UND_ERR_SOCKET, UND_ERR_CONNECT_TIMEOUT, UND_ERR_HEADERS_TIMEOUT, UND_ERR_BODY_TIMEOUT,
 * UND_ERR_INVALID_ARG) or the socket's (ECONNREFUSED, ...), so the client's retry rules stay the same.
 * Not here: request bodies, proxies (the transport uses undici for those).
 */

const MAX_HEAD = 64 << 10;
const READ_BUFFER = 256 << 10;
const IDLE_MS = 4_000;
const CONNECT_TIMEOUT_MS = 10_000;
const IO_TIMEOUT_MS = 300_000;
const MAX_IDLE_PER_ORIGIN = 8;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\r\n\0]/;
const BAD_PATH = /[\s\0]/;

export interface LeanRequest {
  origin: string;
  path: string;
  method: string;
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
}

export interface LeanOptions {
  /** The secure context for https connections (made on first use). */
  secureContext: () => SecureContext;
  rejectUnauthorized: boolean;
}

/**
 * Memory for body bytes, reused when the consumer gives chunks back.
 *
 * Body bytes must outlive the read that brought them (the consumer hashes and writes them later). Into fresh
 * memory, every read would cost ~10x its memcpy: each new 256 KiB Buffer is a new mapping whose pages fault in
 * on first touch (measured: 54 MB in 256 KiB pieces, 30 ms into new Buffers, 3 ms into reused ones). So a
 * connection receiving a big body (or one of unknown length) reads it straight into 1 MiB slabs: the socket's
 * next read lands in the free tail of the connection's slab (net's `onread.buffer` as a function), and the
 * chunks handed to the consumer are views of it, with no copy at all (the bytes of the read that brought the
 * headers are copied once). Each chunk is counted against its slab; a consumer that is finished with a chunk
 * (written to disk, hashed) hands it to `releaseChunk`, and a slab that no connection fills any more and whose
 * chunks all came back is reused. A consumer that keeps its chunks loses nothing: the slab is never reused and
 * the garbage collector frees it with its last chunk. Each connection fills a slab of its own, so two sockets
 * never read into the same bytes.
 */
const SLAB = 1 << 20;
/** A slab with less room than this left is retired and the connection takes another for its next read. */
const MIN_READ_ROOM = 128 << 10;
const MAX_FREE_SLABS = 8;
/** Bodies at least this long (or of unknown length) go into slabs; smaller ones into plain Buffers. */
const POOLED_BODY = 256 << 10;

interface Slab {
  readonly buf: Buffer;
  /** Next free byte. */
  pos: number;
  /** Chunks handed out and not given back. */
  out: number;
  /** A connection is filling it. */
  filling: boolean;
}

const slabs = new WeakMap<ArrayBufferLike, Slab>();
/** Chunks given back already: a second release of one must not count twice. */
const released = new WeakSet<Uint8Array>();
const freeSlabs: Slab[] = [];

function takeSlab(): Slab {
  const slab = freeSlabs.pop();
  if (slab !== undefined) {
    slab.filling = true;
    return slab;
  }
  const buf = Buffer.allocUnsafeSlow(SLAB);
  const fresh: Slab = { buf, pos: 0, out: 0, filling: true };
  slabs.set(buf.buffer, fresh);
  return fresh;
}

/** The slab no connection fills any more: reused once its chunks are back. */
function retire(slab: Slab): void {
  slab.filling = false;
  if (slab.out === 0) recycle(slab);
}

function recycle(slab: Slab): void {
  slab.pos = 0;
  if (!slab.filling && freeSlabs.length < MAX_FREE_SLABS) freeSlabs.push(slab);
}

/** Drops the free slabs (a process image about to be saved, e.g. a V8 startup snapshot, should not carry them). */
export function dropFreeSlabs(): void {
  freeSlabs.length = 0;
}

/**
 * Gives back a body chunk the caller is finished with: nothing may read it afterwards, its memory is reused for
 * later bodies. Chunks that did not come from a pooled body are ignored.
 */
export function releaseChunk(chunk: Uint8Array): void {
  const slab = slabs.get(chunk.buffer);
  if (slab === undefined || released.has(chunk)) return;
  released.add(chunk);
  if (--slab.out === 0 && !slab.filling) recycle(slab);
}

function httpError(code: string, message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
}

/** The response body: a Readable with undici's dump(). */
export class LeanBody extends Readable {
  readonly #resume: () => void;
  readonly #destroyed: () => void;

  constructor(resume: () => void, destroyed: () => void) {
    super({ highWaterMark: 1 << 20 });
    this.#resume = resume;
    this.#destroyed = destroyed;
  }

  override _read(): void {
    this.#resume();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.#destroyed();
    cb(err);
  }

  /** Reads and drops the rest of the body (up to `limit` bytes, then gives up on it), as undici's dump(). */
  async dump(options: { limit?: number } = {}): Promise<void> {
    const limit = options.limit ?? 128 << 10;
    if (this.readableEnded || this.destroyed) return;
    await new Promise<void>((resolve) => {
      let n = 0;
      const done = (): void => {
        this.off('data', onData);
        this.off('end', done);
        this.off('error', done);
        this.off('close', done);
        resolve();
      };
      const onData = (chunk: Buffer): void => {
        n += chunk.length;
        if (n > limit) {
          done();
          this.destroy();
        }
      };
      this.on('data', onData);
      this.once('end', done);
      this.once('error', done);
      this.once('close', done);
    });
  }
}

type Framing =
  | { kind: 'none' }
  | { kind: 'length'; left: number }
  | { kind: 'close' }
  | { kind: 'chunked'; state: 'size' | 'data' | 'data-crlf' | 'trailer'; left: number; line: string };

interface Exchange {
  /** A big body (or one of unknown length) is being received: reads go into slabs. */
  pooled: boolean;
  /** Bytes of the socket (in the connection's own buffer or its slab: see keep()); false pauses the socket. */
  data(view: Buffer): boolean;
  /** The socket ended or failed. */
  closed(err: Error | undefined): void;
}

class Connection {
  readonly socket: Socket;
  exchange: Exchange | undefined;
  /** The slab this connection receives a pooled body into. */
  slab: Slab | undefined;
  /** Requests answered on this connection. */
  used = 0;
  dead = false;
  idleTimer: NodeJS.Timeout | undefined;
  onIdleClose: (() => void) | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  static open(url: URL, options: LeanOptions, sessions: Map<string, Buffer>): Connection {
    const own = Buffer.allocUnsafe(READ_BUFFER);
    let conn: Connection | undefined;
    const onread = {
      // where the next read lands (asked after every read): the free tail of the connection's slab while a
      // pooled body comes in, else the connection's own buffer (headers, small bodies)
      buffer: (): Buffer => {
        const c = conn;
        if (c === undefined || c.exchange?.pooled !== true) return own;
        let slab = c.slab;
        if (slab === undefined || SLAB - slab.pos < MIN_READ_ROOM) {
          if (slab !== undefined) retire(slab);
          slab = c.slab = takeSlab();
        }
        // a read takes what the slab has room for: up to 1 MiB per system call (a 48 MB layer in ~60 reads
        // instead of ~190 of 256 KiB: measured 10 ms faster); a paused consumer is at most one read past the
        // body's high-water mark
        return slab.buf.subarray(slab.pos);
      },
      callback: (n: number, buf: Buffer): boolean => {
        // bytes read into the slab are taken, whoever ends up with them
        const slab = conn?.slab;
        if (slab !== undefined && buf.buffer === slab.buf.buffer) slab.pos += n;
        const ex = conn?.exchange;
        if (ex === undefined) {
          // bytes nobody asked for: the connection cannot be trusted any more
          conn?.destroy();
          return false;
        }
        return ex.data(buf.subarray(0, n));
      },
    };
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    let socket: Socket;
    if (url.protocol === 'https:') {
      const tls = process.getBuiltinModule('node:tls') as typeof import('node:tls');
      const sessionKey = url.host;
      const opts: ConnectionOptions & { onread: typeof onread } = {
        host,
        port: Number(url.port || 443),
        secureContext: options.secureContext(),
        rejectUnauthorized: options.rejectUnauthorized,
        ALPNProtocols: ['http/1.1'],
        session: sessions.get(sessionKey),
        onread,
      };
      if (isIP(host) === 0) opts.servername = host;
      const t: TLSSocket = tls.connect(opts);
      t.on('session', (s: Buffer) => sessions.set(sessionKey, s));
      socket = t;
    } else {
      socket = netConnect({ host, port: Number(url.port || 80), onread });
    }
    socket.setNoDelay(true);
    conn = new Connection(socket);
    const c = conn;
    socket.on('error', (err) => c.gone(err));
    socket.on('end', () => c.gone(undefined));
    socket.on('close', () => c.gone(undefined));
    return conn;
  }

  gone(err: Error | undefined): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.idleTimer);
    this.socket.destroy();
    this.dropSlab();
    const ex = this.exchange;
    this.exchange = undefined;
    ex?.closed(err);
    this.onIdleClose?.();
  }

  destroy(): void {
    this.gone(undefined);
  }

  /** Body bytes as a chunk the consumer may keep: a view when they were read into the slab, else a copy into it. */
  keep(view: Buffer): Buffer {
    let slab = this.slab;
    if (slab !== undefined && view.buffer === slab.buf.buffer) {
      slab.out++;
      return view;
    }
    // a copy out of the connection's own buffer (READ_BUFFER, smaller than a slab): the body bytes read with the headers
    if (slab === undefined || slab.pos + view.length > SLAB) {
      if (slab !== undefined) retire(slab);
      slab = this.slab = takeSlab();
    }
    const chunk = slab.buf.subarray(slab.pos, slab.pos + view.length);
    chunk.set(view);
    slab.pos += view.length;
    slab.out++;
    return chunk;
  }

  /** The body is over (or the connection): the slab is no longer filled by it. */
  dropSlab(): void {
    if (this.slab === undefined) return;
    retire(this.slab);
    this.slab = undefined;
  }
}

/** Per-origin pools of keep-alive connections; one per Transport host entry. @internal */
export class LeanHttp {
  readonly #options: LeanOptions;
  readonly #idle = new Map<string, Connection[]>();
  readonly #sessions = new Map<string, Buffer>();
  #closed = false;

  constructor(options: LeanOptions) {
    this.#options = options;
  }

  /** Like undici's Dispatcher#request for a request without a body. */
  async request(req: LeanRequest): Promise<Dispatcher.ResponseData> {
    const { signal } = req;
    signal?.throwIfAborted();
    if (this.#closed) throw httpError('UND_ERR_CLOSED', 'the HTTP client is closed');
    const url = new URL(req.path, req.origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw httpError('UND_ERR_INVALID_ARG', `unsupported protocol ${url.protocol}`);
    }
    const head = requestHead(req, url);
    for (let attempt = 0; ; attempt++) {
      const pooled = attempt === 0 ? this.#take(url.origin) : undefined;
      const conn = pooled ?? Connection.open(url, this.#options, this.#sessions);
      try {
        return await this.#exchange(conn, url, head, req.method === 'HEAD', signal);
      } catch (err) {
        // a pooled connection the server had closed before it saw our request: once more on a new one
        if (pooled !== undefined && (err as { stale?: boolean }).stale === true && !signal?.aborted) continue;
        throw err;
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const list of this.#idle.values()) for (const c of list) c.destroy();
    this.#idle.clear();
  }

  #take(origin: string): Connection | undefined {
    const list = this.#idle.get(origin);
    while (list && list.length > 0) {
      const c = list.pop()!;
      if (c.dead) continue;
      clearTimeout(c.idleTimer);
      c.onIdleClose = undefined;
      c.socket.ref();
      return c;
    }
    return undefined;
  }

  #release(origin: string, conn: Connection): void {
    if (this.#closed || conn.dead) return conn.destroy();
    let list = this.#idle.get(origin);
    if (list === undefined) this.#idle.set(origin, (list = []));
    if (list.length >= MAX_IDLE_PER_ORIGIN) return conn.destroy();
    list.push(conn);
    conn.socket.unref();
    conn.socket.setTimeout(0);
    conn.onIdleClose = () => {
      const i = list.indexOf(conn);
      if (i !== -1) list.splice(i, 1);
    };
    conn.idleTimer = setTimeout(() => conn.destroy(), IDLE_MS);
    conn.idleTimer.unref();
  }

  #exchange(conn: Connection, url: URL, head: string, isHead: boolean, signal: AbortSignal | undefined): Promise<Dispatcher.ResponseData> {
    return new Promise((resolve, reject) => {
      const reused = conn.used > 0;
      let received = 0;
      let headBytes: Buffer | undefined;
      let framing: Framing | undefined;
      let body: LeanBody | undefined;
      let keepAlive = false;
      let finished = false;
      let paused = false;
      let connectTimer: NodeJS.Timeout | undefined;

      const cleanup = (): void => {
        finished = true;
        clearTimeout(connectTimer);
        signal?.removeEventListener('abort', onAbort);
        conn.socket.setTimeout(0);
        conn.socket.off('timeout', onTimeout);
        if (conn.exchange === exchange) conn.exchange = undefined;
        conn.dropSlab();
      };
      const fail = (err: Error): void => {
        if (finished) return;
        cleanup();
        conn.destroy();
        if (body === undefined) reject(err);
        else body.destroy(err);
      };
      const onAbort = (): void => fail(signal!.reason instanceof Error ? signal!.reason : httpError('ABORT_ERR', 'This operation was aborted'));
      const onTimeout = (): void => fail(body === undefined
        ? httpError('UND_ERR_HEADERS_TIMEOUT', `no response headers from ${url.host} in ${IO_TIMEOUT_MS / 1000} s`)
        : httpError('UND_ERR_BODY_TIMEOUT', `no response body bytes from ${url.host} in ${IO_TIMEOUT_MS / 1000} s`));
      const done = (): void => {
        if (finished) return;
        cleanup();
        conn.used++;
        body!.push(null);
        if (keepAlive) this.#release(url.origin, conn);
        else conn.destroy();
      };
      /** Pushes body bytes the consumer may keep; false when it wants no more for now. */
      const deliver = (view: Buffer): boolean => {
        if (view.length === 0) return true;
        const ok = body!.push(exchange.pooled ? conn.keep(view) : Buffer.from(view));
        if (!ok) paused = true;
        return ok;
      };
      const onBody = (view: Buffer): boolean => {
        const f = framing!;
        if (f.kind === 'close') return deliver(view);
        if (f.kind === 'length') {
          const take = Math.min(f.left, view.length);
          f.left -= take;
          const ok = deliver(view.subarray(0, take));
          if (take < view.length) keepAlive = false; // more bytes than announced: never reuse this connection
          if (f.left === 0) done();
          return ok;
        }
        if (f.kind === 'chunked') return onChunked(f, view);
        // no body expected: anything more means the connection is out of step
        if (view.length > 0) keepAlive = false;
        return true;
      };
      const onChunked = (f: Extract<Framing, { kind: 'chunked' }>, view: Buffer): boolean => {
        let ok = true;
        let i = 0;
        while (i < view.length && !finished) {
          if (f.state === 'data') {
            const take = Math.min(f.left, view.length - i);
            ok = deliver(view.subarray(i, i + take)) && ok;
            f.left -= take;
            i += take;
            if (f.left === 0) f.state = 'data-crlf';
            continue;
          }
          // line-oriented states: the size line, the CRLF after data, trailer lines
          const nl = view.indexOf(10, i);
          const end = nl === -1 ? view.length : nl + 1;
          f.line += view.toString('latin1', i, end);
          i = end;
          if (f.line.length > 8192) return fail(httpError('HPE_CHUNK_SIZE', `invalid chunked body from ${url.host}`)), false;
          if (nl === -1) break;
          const line = f.line.replace(/\r?\n$/, '');
          f.line = '';
          if (f.state === 'data-crlf') {
            if (line !== '') return fail(httpError('HPE_CHUNK_SIZE', `invalid chunked body from ${url.host}`)), false;
            f.state = 'size';
          } else if (f.state === 'size') {
            const m = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line);
            if (!m) return fail(httpError('HPE_CHUNK_SIZE', `invalid chunk size line from ${url.host}`)), false;
            f.left = parseInt(m[1]!, 16);
            f.state = f.left === 0 ? 'trailer' : 'data';
          } else if (line === '') {
            if (i < view.length) keepAlive = false;
            done();
          }
        }
        return ok;
      };
      const onHead = (text: string, rest: Buffer): boolean => {
        const lines = text.split('\r\n');
        const status = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0]!);
        if (!status) return fail(httpError('HPE_INVALID_CONSTANT', `${url.host} did not answer with HTTP/1.x`)), false;
        const code = Number(status[2]);
        const headers: Record<string, string | string[]> = {};
        for (let k = 1; k < lines.length; k++) {
          const line = lines[k]!;
          const colon = line.indexOf(':');
          const name = colon > 0 ? line.slice(0, colon) : '';
          if (!TOKEN.test(name)) return fail(httpError('HPE_INVALID_HEADER_TOKEN', `invalid header line from ${url.host}: ${JSON.stringify(line.slice(0, 80))}`)), false;
          const key = name.toLowerCase();
          const value = line.slice(colon + 1).trim();
          const prev = headers[key];
          headers[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
        }
        if (code >= 100 && code < 200) {
          if (code === 101) return fail(httpError('UND_ERR_SOCKET', `${url.host} switched protocols unasked`)), false;
          headBytes = undefined;
          return rest.length > 0 ? onBytes(rest) : true;
        }
        const connection = String(headers.connection ?? '').toLowerCase();
        keepAlive = status[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
        const te = headers['transfer-encoding'];
        const cl = headers['content-length'];
        if (isHead || code === 204 || code === 304) {
          framing = { kind: 'none' };
        } else if (te !== undefined) {
          const codings = String(te).toLowerCase().split(',').map((s) => s.trim());
          if (codings.at(-1) === 'chunked') framing = { kind: 'chunked', state: 'size', left: 0, line: '' };
          else framing = { kind: 'close' };
          if (cl !== undefined || framing.kind === 'close') keepAlive = false;
        } else if (cl !== undefined) {
          const values = (Array.isArray(cl) ? cl : [cl]).flatMap((v) => v.split(',').map((s) => s.trim()));
          if (!values.every((v) => /^\d{1,15}$/.test(v) && v === values[0])) {
            return fail(httpError('HPE_INVALID_CONTENT_LENGTH', `invalid Content-Length from ${url.host}`)), false;
          }
          framing = { kind: 'length', left: Number(values[0]) };
          exchange.pooled = framing.left >= POOLED_BODY;
        } else {
          framing = { kind: 'close' };
          keepAlive = false;
        }
        if (framing.kind === 'chunked' || framing.kind === 'close') exchange.pooled = true;
        body = new LeanBody(
          () => {
            if (paused && !finished) {
              paused = false;
              conn.socket.resume();
            }
          },
          () => {
            // the consumer gave up on the body (or it failed): the connection is out of step
            if (!finished) {
              cleanup();
              conn.destroy();
            }
          },
        );
        resolve({ statusCode: code, headers, body, trailers: {}, opaque: null, context: {} } as unknown as Dispatcher.ResponseData);
        if (framing.kind === 'none' || (framing.kind === 'length' && framing.left === 0)) {
          if (rest.length > 0) keepAlive = false;
          done();
          return true;
        }
        return onBody(rest);
      };
      const onBytes = (view: Buffer): boolean => {
        if (finished) return false;
        if (framing !== undefined) return onBody(view);
        headBytes = headBytes === undefined ? Buffer.from(view) : Buffer.concat([headBytes, view]);
        const end = headBytes.indexOf('\r\n\r\n');
        if (end === -1) {
          if (headBytes.length > MAX_HEAD) return fail(httpError('UND_ERR_HEADERS_OVERFLOW', `response headers from ${url.host} exceed ${MAX_HEAD} bytes`)), false;
          return true;
        }
        if (end > MAX_HEAD) return fail(httpError('UND_ERR_HEADERS_OVERFLOW', `response headers from ${url.host} exceed ${MAX_HEAD} bytes`)), false;
        const all = headBytes;
        headBytes = undefined;
        return onHead(all.toString('latin1', 0, end), all.subarray(end + 4));
      };
      const exchange: Exchange = {
        pooled: false,
        data: (view) => {
          received += view.length;
          onBytes(view);
          // false stops the socket's reads until the body's consumer asks for more (see LeanBody._read)
          return finished || !paused;
        },
        closed: (err) => {
          if (finished) return;
          if (framing?.kind === 'close' && err === undefined) {
            keepAlive = false;
            done();
            return;
          }
          const e = body !== undefined
            ? httpError('UND_ERR_SOCKET', `terminated: ${url.host} closed the connection before the end of the body`, err)
            : err ?? httpError('UND_ERR_SOCKET', `other side closed: ${url.host} closed the connection without an answer`);
          if (reused && received === 0 && body === undefined) Object.assign(e, { stale: true });
          fail(e);
        },
      };
      conn.exchange = exchange;
      if (signal !== undefined) signal.addEventListener('abort', onAbort, { once: true });
      conn.socket.setTimeout(IO_TIMEOUT_MS);
      conn.socket.on('timeout', onTimeout);
      if (!reused) {
        connectTimer = setTimeout(
          () => fail(httpError('UND_ERR_CONNECT_TIMEOUT', `connecting to ${url.host} timed out after ${CONNECT_TIMEOUT_MS / 1000} s`)),
          CONNECT_TIMEOUT_MS,
        );
        conn.socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      }
      conn.socket.write(head);
    });
  }
}

function requestHead(req: LeanRequest, url: URL): string {
  if (!TOKEN.test(req.method)) throw httpError('UND_ERR_INVALID_ARG', `invalid method ${JSON.stringify(req.method)}`);
  const target = `${url.pathname}${url.search}`;
  if (BAD_PATH.test(target)) throw httpError('UND_ERR_INVALID_ARG', `invalid request path ${JSON.stringify(target)}`);
  let head = `${req.method} ${target} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    if (!TOKEN.test(name) || BAD_VALUE.test(String(value))) {
      throw httpError('UND_ERR_INVALID_ARG', `invalid request header ${JSON.stringify(name)}`);
    }
    const key = name.toLowerCase();
    if (key === 'host' || key === 'content-length' || key === 'transfer-encoding' || key === 'connection') continue;
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}
