import { createPrivateKey, randomBytes, sign, timingSafeEqual, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A user the token server knows, and the actions it may be granted on repositories. */
export interface TokenUser {
  username: string;
  password: string;
  /** Actions this user may get on any repository, e.g. ['pull', 'push', 'delete'] or ['pull']. */
  actions: string[];
  /** Registry-level access (scope `registry:catalog:*`); default false. */
  catalog?: boolean;
}

export interface TokenServerOptions {
  service: string;
  issuer: string;
  users: TokenUser[];
  /** What a request without credentials gets: 'pull' (Docker Hub style, the default) or 'none' (401). */
  anonymous?: 'pull' | 'none';
  /** PEM EC P-256 private key that signs the tokens (ES256). */
  keyPem: string;
  /** base64 DER certificate of that key, sent in the JWT `x5c` header. */
  certDerBase64: string;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
}

export interface TokenRequestRecord {
  method: string;
  /** The authenticated user name, or null for anonymous / rejected requests. */
  user: string | null;
  /** Scopes asked for, as sent (`repository:NAME:pull,push`). */
  scopes: string[];
  /** Access granted in the token. */
  granted: { type: string; name: string; actions: string[] }[];
  status: number;
  time: number;
}

export interface TokenServer {
  /** Base URL, `http://127.0.0.1:PORT`. */
  url: string;
  /** The realm the registry advertises in WWW-Authenticate: `${url}/token`. */
  realm: string;
  service: string;
  issuer: string;
  /** Every token request answered so far (also served as JSON at GET /_testkit/requests). */
  readonly requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

interface ParsedScope {
  type: string;
  name: string;
  actions: string[];
}

/** `repository:library/busybox:pull,push` -> { type, name, actions }; names may hold ':' (ports). */
function parseScope(scope: string): ParsedScope | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

/** Sign a registry token (ES256, x5c header) for the given access. @internal */
export function signToken(
  key: KeyObject,
  certDerBase64: string,
  claims: { issuer: string; service: string; subject: string; access: ParsedScope[]; expiresIn: number; now?: number },
): string {
  const now = claims.now ?? Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'ES256', x5c: [certDerBase64] };
  const payload = {
    iss: claims.issuer,
    sub: claims.subject,
    aud: claims.service,
    exp: now + claims.expiresIn,
    nbf: now - 1,
    iat: now,
    jti: randomBytes(12).toString('hex'),
    access: claims.access,
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new Error('body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A small Docker-style token server (the `realm` of a registry configured with
 * auth.token): GET /token?service=S&scope=repository:NAME:pull,push with
 * optional Basic credentials, and the OAuth2 POST /token form
 * (grant_type=password | refresh_token). Grants only what the user may do.
 */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const key = createPrivateKey(options.keyPem);
  const expiresIn = options.expiresIn ?? 300;
  const anonymous = options.anonymous ?? 'pull';
  const requests: TokenRequestRecord[] = [];
  const refreshTokens = new Map<string, string>();

  function authenticate(username: string, password: string): TokenUser | undefined {
    const u = options.users.find((x) => x.username === username);
    return u && safeEqual(u.password, password) ? u : undefined;
  }

  function grant(user: TokenUser | null, scopes: string[]): ParsedScope[] {
    const out: ParsedScope[] = [];
    for (const s of scopes) {
      const p = parseScope(s);
      if (!p) continue;
      let allowed: string[];
      if (p.type === 'repository') allowed = user ? user.actions : anonymous === 'pull' ? ['pull'] : [];
      else if (p.type === 'registry' && p.name === 'catalog') allowed = user?.catalog ? ['*'] : [];
      else allowed = [];
      const actions = p.actions.filter((a) => allowed.includes(a) || (allowed.includes('*') && a === '*'));
      const existing = out.find((o) => o.type === p.type && o.name === p.name);
      if (existing) existing.actions = [...new Set([...existing.actions, ...actions])];
      else out.push({ type: p.type, name: p.name, actions });
    }
    return out;
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/_testkit/requests' && req.method === 'GET') {
      send(res, 200, requests);
      return;
    }
    if (url.pathname === '/_testkit/requests' && req.method === 'DELETE') {
      requests.length = 0;
      send(res, 200, {});
      return;
    }
    if (url.pathname !== '/token') {
      send(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] });
      return;
    }
    const record: TokenRequestRecord = { method: req.method ?? 'GET', user: null, scopes: [], granted: [], status: 0, time: Date.now() };
    requests.push(record);
    const fail = (status: number, message: string): void => {
      record.status = status;
      const headers: Record<string, string> = status === 401 ? { 'www-authenticate': `Basic realm="${options.service}"` } : {};
      send(res, status, { errors: [{ code: status === 401 ? 'UNAUTHORIZED' : 'DENIED', message }], details: message }, headers);
    };

    let params: URLSearchParams;
    if (req.method === 'GET') params = url.searchParams;
    else if (req.method === 'POST') params = new URLSearchParams(await readBody(req));
    else {
      fail(405, 'method not allowed');
      return;
    }
    const service = params.get('service');
    if (service !== null && service !== options.service) {
      fail(400, `unknown service ${service}`);
      return;
    }
    record.scopes = params.getAll('scope').flatMap((s) => s.split(' ').filter(Boolean));

    let user: TokenUser | null = null;
    let issueRefresh = false;
    const authz = req.headers.authorization;
    if (req.method === 'POST') {
      const grantType = params.get('grant_type');
      if (grantType === 'password') {
        const u = authenticate(params.get('username') ?? '', params.get('password') ?? '');
        if (!u) {
          fail(401, 'invalid username or password');
          return;
        }
        user = u;
        issueRefresh = params.get('access_type') === 'offline';
      } else if (grantType === 'refresh_token') {
        const name = refreshTokens.get(params.get('refresh_token') ?? '');
        const u = options.users.find((x) => x.username === name);
        if (!u) {
          fail(401, 'invalid refresh token');
          return;
        }
        user = u;
      } else {
        fail(400, 'unsupported grant_type');
        return;
      }
    } else if (authz !== undefined) {
      const m = /^Basic\s+(\S+)$/i.exec(authz);
      const decoded = m?.[1] ? Buffer.from(m[1], 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      const u = colon > 0 ? authenticate(decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined;
      if (!u) {
        fail(401, 'invalid username or password');
        return;
      }
      user = u;
      issueRefresh = params.get('offline_token') === 'true';
    } else if (anonymous === 'none') {
      fail(401, 'authentication required');
      return;
    }
    record.user = user?.username ?? null;
    const access = grant(user, record.scopes);
    record.granted = access;
    const now = Math.floor(Date.now() / 1000);
    const token = signToken(key, options.certDerBase64, {
      issuer: options.issuer,
      service: options.service,
      subject: user?.username ?? '',
      access,
      expiresIn,
      now,
    });
    const body: Record<string, unknown> = {
      token,
      access_token: token,
      expires_in: expiresIn,
      issued_at: new Date(now * 1000).toISOString(),
    };
    if (issueRefresh && user) {
      const rt = randomBytes(16).toString('hex');
      refreshTokens.set(rt, user.username);
      body['refresh_token'] = rt;
    }
    record.status = 200;
    send(res, 200, body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 400, { errors: [{ code: 'BAD_REQUEST', message: 'bad request' }] });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    realm: `${url}/token`,
    service: options.service,
    issuer: options.issuer,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
