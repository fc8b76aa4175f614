import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

interface FaultBase {
  /** Which requests: a regex tested against the request path with query (default: every request). */
  path?: RegExp;
  /** Only this method (e.g. 'GET'); default any. */
  method?: string;
  /** How many matching requests get the fault; after that they pass through. */
  times?: number;
}

/** XOR one byte of the response body with 0x01 (default every matching request). */
export interface FlipByteFault extends FaultBase {
  kind: 'flip-byte';
  /** Body offset of the byte to flip (default 0; negative counts from the end when Content-Length is known). */
  offset?: number;
}
/** Send the headers and the first `afterBytes` body bytes, then destroy the connection (default once). */
export interface CutFault extends FaultBase {
  kind: 'cut';
  afterBytes: number;
}
/** Answer with this status without asking the upstream (default once), e.g. 429 + Retry-After or a burst of 503s. */
export interface StatusFault extends FaultBase {
  kind: 'status';
  status: number;
  /** Retry-After header value (seconds or an HTTP date). */
  retryAfter?: number | string;
  headers?: Record<string, string>;
  body?: string;
}
/** Destroy the connection before any response (default once). */
export interface ResetFault extends FaultBase {
  kind: 'reset';
}
/** Forward the request, then destroy the connection instead of passing the answer on (default once): the request
 * took effect upstream, and the client never learns how. */
export interface LoseAnswerFault extends FaultBase {
  kind: 'lose-answer';
}
/** Wait `ms` before forwarding (default every matching request). */
export interface DelayFault extends FaultBase {
  kind: 'delay';
  ms: number;
}

export type Fault = FlipByteFault | CutFault | StatusFault | ResetFault | LoseAnswerFault | DelayFault;

export interface ProxyRequestRecord {
  method: string;
  /** Path with query, as received. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Status sent to the client (0 if the connection was destroyed before). */
  status: number;
  /** Kinds of faults applied to this request. */
  faults: Fault['kind'][];
  /** Body bytes sent to the client. */
  bytes: number;
  time: number;
}

export interface ProxyStats {
  /** Every request in arrival order. */
  readonly requests: ProxyRequestRecord[];
  /** Number of requests, optionally only those whose path matches and/or method equals. */
  count(path?: RegExp, method?: string): number;
  /** Forget the recorded requests (fault counters are kept). */
  reset(): void;
}

export interface FaultProxy {
  /** 'http://127.0.0.1:PORT' */
  url: string;
  /** '127.0.0.1:PORT' — use it in image references instead of the registry's host. */
  host: string;
  stats: ProxyStats;
  /** Replace the fault list (counters start again). */
  setFaults(faults: Fault[]): void;
  stop(): Promise<void>;
}

export interface ProxyOptions {
  /** Upstream TLS: CA certificate PEM to trust (else upstream certs are not verified). */
  ca?: string;
  /** Headers added to every upstream request (e.g. authorization for a 'CDN'). */
  upstreamHeaders?: Record<string, string>;
  /** Listen address (default 127.0.0.1). */
  hostname?: string;
}

function makeStats(): ProxyStats & { requests: ProxyRequestRecord[] } {
  const requests: ProxyRequestRecord[] = [];
  return {
    requests,
    count(path?: RegExp, method?: string) {
      return requests.filter((r) => (!path || path.test(r.path)) && (!method || r.method === method)).length;
    },
    reset() {
      requests.length = 0;
    },
  };
}

function defaultTimes(f: Fault): number {
  return f.kind === 'flip-byte' || f.kind === 'delay' ? Infinity : 1;
}

async function listen(server: Server, hostname: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, hostname, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
}

function track(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

interface ForwardPlan {
  flip?: FlipByteFault;
  cut?: CutFault;
  lose?: boolean;
}

/** Forward req to target and stream the answer back, applying body faults. */
function forward(
  target: URL,
  req: IncomingMessage,
  res: ServerResponse,
  record: ProxyRequestRecord,
  plan: ForwardPlan,
  options: ProxyOptions,
  rewriteLocation?: (loc: string) => string,
): void {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = v;
  // Keep Host (so the registry builds upload URLs that point back at us) and say we speak http.
  headers['x-forwarded-proto'] = 'http';
  for (const [k, v] of Object.entries(options.upstreamHeaders ?? {})) headers[k.toLowerCase()] = v;
  const isTls = target.protocol === 'https:';
  const upstream = (isTls ? httpsRequest : httpRequest)(
    {
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      ...(isTls ? (options.ca ? { ca: options.ca, servername: target.hostname } : { rejectUnauthorized: false }) : {}),
    },
    (up) => {
      if (plan.lose) {
        up.resume();
        req.socket.destroy();
        return;
      }
      const status = up.statusCode ?? 502;
      const outHeaders: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined) outHeaders[k] = v;
      if (rewriteLocation && typeof outHeaders['location'] === 'string') outHeaders['location'] = rewriteLocation(outHeaders['location']);
      record.status = status;
      res.writeHead(status, outHeaders);
      if (plan.cut && plan.cut.afterBytes <= 0) {
        record.bytes = 0;
        up.destroy();
        res.flushHeaders();
        setImmediate(() => res.destroy());
        return;
      }
      const length = Number(up.headers['content-length'] ?? NaN);
      let flipAt = plan.flip ? (plan.flip.offset ?? 0) : -1;
      if (plan.flip && flipAt < 0) flipAt = Number.isFinite(length) ? length + flipAt : -1;
      let pos = 0;
      let cutDone = false;
      up.on('data', (chunk: Buffer) => {
        if (cutDone) return;
        let out = chunk;
        if (flipAt >= pos && flipAt < pos + chunk.length) {
          out = Buffer.from(chunk);
          out[flipAt - pos] = (out[flipAt - pos] ?? 0) ^ 0x01;
        }
        if (plan.cut && pos + out.length >= plan.cut.afterBytes) {
          cutDone = true;
          const keep = out.subarray(0, Math.max(0, plan.cut.afterBytes - pos));
          pos += keep.length;
          record.bytes = pos;
          up.destroy();
          if (keep.length > 0) res.write(keep, () => res.destroy());
          else res.flushHeaders();
          setImmediate(() => res.destroy());
          return;
        }
        pos += out.length;
        record.bytes = pos;
        if (!res.write(out)) {
          up.pause();
          res.once('drain', () => up.resume());
        }
      });
      up.on('end', () => res.end());
      up.on('error', () => res.destroy());
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) {
      record.status = 502;
      res.writeHead(502, { 'content-type': 'text/plain' }).end('fault proxy: upstream error');
    } else res.destroy();
  });
  req.pipe(upstream);
}

/**
 * An HTTP reverse proxy on 127.0.0.1 (port 0) in front of `targetUrl` (a
 * registry) that injects faults into matching requests and counts every
 * request. Faults are checked in order; the first matching fault of each
 * kind that still has `times` left applies.
 */
export async function startFaultProxy(targetUrl: string, faults: Fault[] = [], options: ProxyOptions = {}): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const stats = makeStats();
  let active: { fault: Fault; left: number }[] = [];
  const setFaults = (list: Fault[]): void => {
    active = list.map((fault) => ({ fault, left: fault.times ?? defaultTimes(fault) }));
  };
  setFaults(faults);

  const take = (kind: Fault['kind'], method: string, path: string): Fault | undefined => {
    for (const a of active) {
      if (a.fault.kind !== kind || a.left <= 0) continue;
      if (a.fault.method && a.fault.method.toUpperCase() !== method) continue;
      if (a.fault.path && !a.fault.path.test(path)) continue;
      a.left--;
      return a.fault;
    }
    return undefined;
  };

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const record: ProxyRequestRecord = { method, path, headers: { ...req.headers }, status: 0, faults: [], bytes: 0, time: Date.now() };
    stats.requests.push(record);
    const go = (): void => {
      const reset = take('reset', method, path);
      if (reset) {
        record.faults.push('reset');
        req.socket.destroy();
        return;
      }
      const status = take('status', method, path) as StatusFault | undefined;
      if (status) {
        record.faults.push('status');
        record.status = status.status;
        const body = status.body ?? JSON.stringify({ errors: [{ code: status.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: 'injected by fault proxy' }] });
        const h: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...status.headers };
        if (status.retryAfter !== undefined) h['retry-after'] = String(status.retryAfter);
        req.resume();
        res.writeHead(status.status, h).end(body);
        return;
      }
      const flip = take('flip-byte', method, path) as FlipByteFault | undefined;
      const cut = take('cut', method, path) as CutFault | undefined;
      const lose = take('lose-answer', method, path) !== undefined;
      if (flip) record.faults.push('flip-byte');
      if (cut) record.faults.push('cut');
      if (lose) record.faults.push('lose-answer');
      forward(target, req, res, record, { ...(flip ? { flip } : {}), ...(cut ? { cut } : {}), ...(lose ? { lose } : {}) }, options);
    };
    const delay = take('delay', method, path) as DelayFault | undefined;
    if (delay) {
      record.faults.push('delay');
      setTimeout(go, delay.ms);
    } else go();
  });
  const sockets = track(server);
  const hostname = options.hostname ?? '127.0.0.1';
  const port = await listen(server, hostname);
  return { url: `http://${hostname}:${port}`, host: `${hostname}:${port}`, stats, setFaults, stop: closer(server, sockets) };
}

export interface RedirectProxyOptions extends ProxyOptions {
  /** Requests answered with a 307 to the other host (default: GET/HEAD of /v2/.../blobs/...). */
  redirect?: RegExp;
  /** Host name of the second server (default 127.0.0.2: another host as far as a client can tell). */
  otherHostname?: string;
  /** Status of the redirect (default 307). */
  status?: 301 | 302 | 303 | 307 | 308;
}

export interface RedirectProxy {
  /** 'http://127.0.0.1:PORT' — the front server: proxies to the registry, redirects blob GETs. */
  url: string;
  host: string;
  /** 'http://127.0.0.2:PORT2' — the other host ('CDN') that redirected requests land on. */
  otherUrl: string;
  otherHost: string;
  /** Requests seen by the front server. */
  stats: ProxyStats;
  /** Requests seen by the other host, with the headers they carried (check for authorization here). */
  otherStats: ProxyStats;
  stop(): Promise<void>;
}

/**
 * Two servers for redirect tests: the front one proxies to the registry but
 * answers matching requests with a redirect to the same path on a second
 * server on another loopback address (127.0.0.2), which records the headers it
 * received and serves the content from the registry (with
 * `upstreamHeaders`, e.g. the registry's credentials, like a pre-signed CDN URL).
 */
export async function startRedirectProxy(targetUrl: string, options: RedirectProxyOptions = {}): Promise<RedirectProxy> {
  const target = new URL(targetUrl);
  const redirect = options.redirect ?? /^\/v2\/.+\/blobs\/[a-z0-9]+:[a-f0-9]+/;
  const otherHostname = options.otherHostname ?? '127.0.0.2';
  const stats = makeStats();
  const otherStats = makeStats();

  const other = createServer((req, res) => {
    const record: ProxyRequestRecord = { method: req.method ?? 'GET', path: req.url ?? '/', headers: { ...req.headers }, status: 0, faults: [], bytes: 0, time: Date.now() };
    otherStats.requests.push(record);
    // The upstream must not see the client's credentials: a CDN would not have them.
    delete req.headers['authorization'];
    forward(target, req, res, record, {}, options);
  });
  const otherSockets = track(other);
  const otherPort = await listen(other, otherHostname);
  const otherUrl = `http://${otherHostname}:${otherPort}`;

  const front = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const record: ProxyRequestRecord = { method, path, headers: { ...req.headers }, status: 0, faults: [], bytes: 0, time: Date.now() };
    stats.requests.push(record);
    if ((method === 'GET' || method === 'HEAD') && redirect.test(path)) {
      record.status = options.status ?? 307;
      req.resume();
      res.writeHead(record.status, { location: `${otherUrl}${path}`, 'content-length': '0' }).end();
      return;
    }
    forward(target, req, res, record, {}, { ...options, upstreamHeaders: {} });
  });
  const frontSockets = track(front);
  const hostname = options.hostname ?? '127.0.0.1';
  const port = await listen(front, hostname);
  const stopFront = closer(front, frontSockets);
  const stopOther = closer(other, otherSockets);
  return {
    url: `http://${hostname}:${port}`,
    host: `${hostname}:${port}`,
    otherUrl,
    otherHost: `${otherHostname}:${otherPort}`,
    stats,
    otherStats,
    stop: async () => {
      await Promise.all([stopFront(), stopOther()]);
    },
  };
}
