import { channel } from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { request } from './undici.js';
import { parseChallenges, repositoryScope, type Challenge } from './challenge.js';
import { findCredentials, type Credentials } from './credentials.js';
import { digestBytes, hasherFor, mismatch, splitDigest, verifyBytes } from './digest.js';
import { RegistryError, redactUrl } from './errors.js';
import { MANIFEST_ACCEPT, MT, sniffManifestType } from './media.js';
import { apiHost, formatReference, manifestSelector, type Reference } from './reference.js';
import { releaseChunk } from './lean-http.js';
import { Transport, type TransportOptions } from './transport.js';
import { noteExchange, noting, type NotedExchange } from './record.js';

/** Published on diagnostics_channel 'oci:registry:request' after every HTTP exchange (URLs redacted). */
export interface RequestDiagnostic {
  method: string;
  url: string;
  status: number | undefined;
  attempt: number;
  durationMs: number;
  error?: string | undefined;
}

export const requestChannel = channel('oci:registry:request');

export type CredentialSource =
  | Credentials
  | ((registry: string, repository: string | undefined) => Promise<Credentials | undefined> | Credentials | undefined);

export interface RegistryClientOptions extends TransportOptions {
  /** Credentials for every registry, or a function choosing them. Default: the auth files (see authfile). */
  credentials?: CredentialSource | undefined;
  /** Read credentials only from this file (like --authfile). */
  authfile?: string | undefined;
  /** Never send credentials (anonymous tokens are still fetched). */
  anonymous?: boolean | undefined;
  /**
   * Registries reached without TLS verification, falling back to plain HTTP (like
   * --tls-verify=false). `tlsVerify: false` makes every registry insecure.
   */
  insecureRegistries?: string[] | undefined;
  /** Retries on 429, 5xx and connection errors (default 5). */
  retries?: number | undefined;
  /** First backoff delay in ms (default 200), doubled per attempt, with jitter. */
  retryBaseMs?: number | undefined;
  /** A Retry-After longer than this (ms, default 60000) fails with ERR_RATE_LIMITED instead of waiting. */
  maxRetryAfterMs?: number | undefined;
  /** Manifest size limit in bytes (default 4 MiB). */
  maxManifestSize?: number | undefined;
  userAgent?: string | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface ManifestResult {
  /** The exact bytes served (hash these, store these). */
  bytes: Buffer;
  mediaType: string;
  /** Digest of `bytes` (verified against the reference's digest when it has one). */
  digest: string;
  size: number;
  /** The Docker-Content-Digest header, if the registry sent one. */
  headerDigest: string | undefined;
}

export interface ManifestHead {
  mediaType: string;
  digest: string | undefined;
  size: number | undefined;
}

export interface BlobTarget {
  registry: string;
  repository: string;
}

/** A blob download (see `RegistryClient.getBlob`). */
export interface BlobStream extends Readable {
  /** Gives back a chunk this stream emitted that the caller will not read again; its memory may be reused. */
  release(chunk: Uint8Array): void;
}

export interface GetBlobOptions extends CallOptions {
  /** Expected size; exceeding it fails early with ERR_SIZE_MISMATCH. */
  size?: number | undefined;
  /** Resume attempts after a broken connection (default: the client's retries). */
  resumeAttempts?: number | undefined;
  /**
   * Hash and check the digest while streaming (default true). Turn it off only when the consumer
   * verifies the digest itself (a layout putBlob with a digest, a registry upload), to hash once.
   */
  verify?: boolean | undefined;
  onProgress?: ((bytes: number, total: number | undefined) => void) | undefined;
}

export type BlobSource = Uint8Array | Readable | AsyncIterable<Uint8Array> | (() => Readable | AsyncIterable<Uint8Array> | Promise<Readable | AsyncIterable<Uint8Array>>);

export interface PushBlobOptions extends CallOptions {
  digest: string;
  size: number;
  /** Upload in PATCH chunks of this many bytes; default: one monolithic PUT. */
  chunkSize?: number | undefined;
  /** Repositories (same registry) to try a cross-repository mount from. */
  mountFrom?: string[] | undefined;
  /** Skip the existence check. */
  skipExistsCheck?: boolean | undefined;
  onProgress?: ((bytes: number, total: number) => void) | undefined;
}

export interface PushBlobResult {
  digest: string;
  size: number;
  /** 'exists': already there; 'mounted': cross-repository mount; 'uploaded': bytes sent. */
  outcome: 'exists' | 'mounted' | 'uploaded';
}

interface RegistryState {
  registry: string;
  host: string;
  base?: string | undefined;
  probe?: Promise<string> | undefined;
  insecure: boolean;
  challenge?: Challenge | undefined;
  tokens: Map<string, { token: string; expiresAt: number }>;
  credentials?: Promise<Credentials | undefined> | undefined;
}

interface SendInit {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below the registry base (/v2/...) or an absolute URL (Location headers). */
  path: string;
  headers?: Record<string, string> | undefined;
  body?: Uint8Array | Readable | AsyncIterable<Uint8Array> | string | undefined;
  /** Whether the body can be sent again (retries, auth). */
  replayable?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Scope actions on `repository` (default ['pull']). */
  actions?: readonly string[] | undefined;
  repository?: string | undefined;
  extraScopes?: string[] | undefined;
  /** Do not follow redirects. */
  noRedirect?: boolean | undefined;
  /** Filled in with the final request and answer while a recorder is on (record.ts). */
  noted?: NotedExchange | undefined;
}

/** Bytes a blob stream buffers before it pauses the response (the consumer writes ~1 MiB at a time). */
const BLOB_HIGH_WATER_MARK = 1 << 20;
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const NET_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);
const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|EPROTO/;

/** The error codes along an error's cause chain (undici wraps socket errors). */
function errCodes(err: unknown): string[] {
  const codes: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') codes.push(c);
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

function errCode(err: unknown): string {
  return errCodes(err)[0] ?? '';
}

function isNetworkError(err: unknown): boolean {
  if (RegistryError.is(err)) return false;
  if (errCodes(err).some((c) => NET_CODES.has(c))) return true;
  const msg = String((err as Error)?.message ?? '');
  return /terminated|other side closed|socket hang up|ECONNRESET/i.test(msg);
}

function isTlsError(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string' && TLS_CODES.test(c)) return true;
    if (/wrong version number|self.signed|certificate/i.test(String((e as Error).message ?? ''))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Destroys a response body without an unhandled 'error' (undici emits an AbortError on destroy()). */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Parses Retry-After (seconds or HTTP date) to milliseconds. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

async function readLimited(body: Dispatcher.ResponseData['body'], limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    n += (chunk as Buffer).length;
    if (n > limit) {
      discard(body);
      throw new RegistryError('ERR_TOO_LARGE', `${what} is larger than the ${limit}-byte limit`, {
        hint: 'Raise the limit (maxManifestSize) if this registry legitimately serves such documents.',
      });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

interface RegistryErrorBody {
  errors?: { code?: string; message?: string; detail?: unknown }[];
}

const HINTS: Record<string, string> = {
  ERR_MANIFEST_UNKNOWN: 'Check the repository name and the tag or digest (list tags with `oci-registry list-tags`).',
  ERR_BLOB_UNKNOWN: 'The registry does not have this blob; the image may be incomplete or garbage-collected.',
  ERR_NAME_UNKNOWN: 'Check the repository name; it does not exist on this registry.',
  ERR_UNAUTHORIZED: 'Log in with `oci-registry login REGISTRY`, pass --creds/--authfile, or check that the credentials have access to this repository.',
  ERR_DENIED: 'The credentials are valid but lack permission for this operation on this repository.',
  ERR_RATE_LIMITED: 'The registry is rate limiting requests; wait and retry, or log in for a higher limit.',
  ERR_UNSUPPORTED: 'The registry does not support this operation (e.g. deletion may be disabled).',
  ERR_REGISTRY_UNAVAILABLE: 'The registry answered with a server error; retry later.',
  ERR_DIGEST_MISMATCH: 'The content does not match its digest; nothing was stored.',
};

const CODE_MAP: Record<string, string> = {
  MANIFEST_UNKNOWN: 'ERR_MANIFEST_UNKNOWN',
  BLOB_UNKNOWN: 'ERR_BLOB_UNKNOWN',
  NAME_UNKNOWN: 'ERR_NAME_UNKNOWN',
  UNAUTHORIZED: 'ERR_UNAUTHORIZED',
  DENIED: 'ERR_DENIED',
  TOOMANYREQUESTS: 'ERR_RATE_LIMITED',
  UNSUPPORTED: 'ERR_UNSUPPORTED',
  DIGEST_INVALID: 'ERR_DIGEST_MISMATCH',
  SIZE_INVALID: 'ERR_SIZE_MISMATCH',
  MANIFEST_INVALID: 'ERR_MANIFEST_INVALID',
  MANIFEST_UNVERIFIED: 'ERR_MANIFEST_INVALID',
  MANIFEST_BLOB_UNKNOWN: 'ERR_MANIFEST_BLOB_UNKNOWN',
  BLOB_UPLOAD_UNKNOWN: 'ERR_BLOB_UPLOAD_UNKNOWN',
  BLOB_UPLOAD_INVALID: 'ERR_BLOB_UPLOAD_INVALID',
  NAME_INVALID: 'ERR_NAME_INVALID',
  TAG_INVALID: 'ERR_TAG_INVALID',
  PAGINATION_NUMBER_INVALID: 'ERR_INVALID_REQUEST',
  RANGE_INVALID: 'ERR_INVALID_REQUEST',
};

/** Maps a registry error response to a RegistryError with a stable code. */
export async function errorFromResponse(
  res: Dispatcher.ResponseData,
  context: { what: string; url: string; notFound?: string },
): Promise<RegistryError> {
  let body: RegistryErrorBody | undefined;
  try {
    const buf = await readLimited(res.body, 64 * 1024, 'error body');
    body = JSON.parse(buf.toString('utf8')) as RegistryErrorBody;
  } catch {
    discard(res.body);
  }
  const regCodes = (body?.errors ?? []).map((e) => String(e.code ?? '')).filter(Boolean);
  const messages = (body?.errors ?? []).map((e) => e.message).filter(Boolean).join('; ');
  let code: string | undefined;
  for (const rc of regCodes) {
    code = CODE_MAP[rc];
    if (code) break;
  }
  const status = res.statusCode;
  if (!code) {
    if (status === 401) code = 'ERR_UNAUTHORIZED';
    else if (status === 403) code = 'ERR_DENIED';
    else if (status === 404) code = context.notFound ?? 'ERR_NOT_FOUND';
    else if (status === 405) code = 'ERR_UNSUPPORTED';
    else if (status === 429) code = 'ERR_RATE_LIMITED';
    else if (status >= 500) code = 'ERR_REGISTRY_UNAVAILABLE';
    else code = 'ERR_HTTP';
  }
  if (status === 404 && code === 'ERR_NAME_UNKNOWN' && context.notFound === 'ERR_MANIFEST_UNKNOWN') code = 'ERR_MANIFEST_UNKNOWN';
  const retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after'));
  const retryAfter = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
  let hint = HINTS[code];
  if (code === 'ERR_RATE_LIMITED' && retryAfter !== undefined) hint = `The registry asks to wait ${retryAfter}s before retrying.`;
  const detail = messages ? `: ${messages}` : '';
  return new RegistryError(code, `${context.what} failed with HTTP ${status}${regCodes.length ? ` ${regCodes.join(',')}` : ''}${detail}`, {
    status, registryCodes: regCodes.length ? regCodes : undefined, retryAfter, hint, url: context.url,
  });
}

/** How many times a tag-schema referrers list is written while other clients keep changing it. */
const REFERRERS_ATTEMPTS = 6;

/**
 * A distribution-spec client. One instance keeps connections, TLS settings and tokens per registry;
 * call close() when done.
 */
export class RegistryClient {
  readonly #opts: RegistryClientOptions;
  readonly #transport: Transport;
  readonly #states = new Map<string, RegistryState>();
  readonly #retries: number;
  readonly #baseMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #maxManifest: number;
  /** Responses that were still 401 after a fresh token: the credentials lack the scope. */
  readonly #scopeDenied = new WeakSet<object>();

  constructor(options: RegistryClientOptions = {}) {
    this.#opts = options;
    this.#transport = new Transport(options);
    this.#retries = options.retries ?? 5;
    this.#baseMs = options.retryBaseMs ?? 200;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.#maxManifest = options.maxManifestSize ?? 4 * 1024 * 1024;
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }

  #state(registry: string): RegistryState {
    let s = this.#states.get(registry);
    if (!s) {
      const host = apiHost(registry);
      const insecure = this.#opts.tlsVerify === false || (this.#opts.insecureRegistries ?? []).includes(registry) ||
        (this.#opts.insecureRegistries ?? []).includes(host);
      s = { registry, host, insecure, tokens: new Map() };
      this.#states.set(registry, s);
    }
    return s;
  }

  #credentials(state: RegistryState, repository: string | undefined): Promise<Credentials | undefined> {
    if (this.#opts.anonymous) return Promise.resolve(undefined);
    if (!state.credentials) {
      const src = this.#opts.credentials;
      if (typeof src === 'function') state.credentials = Promise.resolve(src(state.registry, repository));
      else if (src) state.credentials = Promise.resolve(src);
      else state.credentials = findCredentials(state.registry, repository, { authfile: this.#opts.authfile });
      state.credentials.catch(() => undefined);
    }
    return state.credentials;
  }

  /**
   * Decides https vs http for an insecure registry; concurrent callers share the probe. With an explicit port,
   * that port speaks either TLS or plain HTTP: it is asked over plain HTTP first, and when a registry answers
   * (200 or 401 to GET /v2/, or the Docker-Distribution-API-Version header) no TLS is set up at all (no tls
   * module, context or handshake: ~15 ms of CPU per command); otherwise (a TLS port answers plain HTTP with
   * 400, or closes) https is used when it answers at all, as skopeo does. Without a port (80 vs 443: two
   * servers) both are asked at once and https wins when it answers.
   */
  async #base(state: RegistryState, signal?: AbortSignal): Promise<string> {
    if (state.base) return state.base;
    const https = `https://${state.host}`;
    if (!state.insecure) {
      state.base = https;
      return https;
    }
    state.probe ??= (async () => {
      /** undefined: no HTTP answer; true: a registry answered; false: something else answered. */
      const probe = async (base: string): Promise<boolean | undefined> => {
        const noted: NotedExchange = { method: 'GET', url: `${base}/v2/`, accept: undefined, userAgent: this.#ua(), status: undefined, plain: true };
        try {
          const res = await request(noted.url, {
            method: 'GET', dispatcher: this.#transport.dispatcher(state.host, true, 'GET'),
            headers: { 'user-agent': noted.userAgent },
          });
          await res.body.dump();
          noted.status = res.statusCode;
          return res.statusCode === 200 || res.statusCode === 401 || header(res.headers, 'docker-distribution-api-version') !== undefined;
        } catch {
          return undefined;
        } finally {
          noteExchange(noted);
        }
      };
      const http = `http://${state.host}`;
      if (/:\d+$/.test(state.host)) {
        if (await probe(http) === true) {
          state.base = http;
        } else {
          state.base = await probe(https) === undefined ? http : https;
        }
        return state.base;
      }
      const plain = probe(http);
      const secure = await probe(https);
      await plain;
      state.base = secure === undefined ? http : https;
      return state.base;
    })();
    if (!signal) return await state.probe;
    signal.throwIfAborted();
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([state.probe, new Promise<never>((_, reject) => {
        onAbort = () => reject(abortReason(signal));
        signal.addEventListener('abort', onAbort, { once: true });
      })]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  #ua(): string {
    return this.#opts.userAgent ?? 'oci-ts-registry-client/0.1';
  }

  #scopes(init: SendInit): string[] {
    const scopes: string[] = [];
    if (init.repository) scopes.push(repositoryScope(init.repository, init.actions ?? ['pull']));
    if (init.extraScopes) scopes.push(...init.extraScopes);
    return scopes;
  }

  async #authHeader(state: RegistryState, scopes: string[], signal?: AbortSignal, force = false): Promise<string | undefined> {
    const ch = state.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') {
      const creds = await this.#credentials(state, undefined);
      if (!creds || (!creds.username && !creds.password)) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    if (ch.scheme !== 'bearer') return undefined;
    const key = [...scopes].sort().join(' ');
    const cached = state.tokens.get(key);
    if (!force && cached && cached.expiresAt > Date.now() + 5_000) return `Bearer ${cached.token}`;
    const token = await this.#fetchToken(state, ch, scopes, signal);
    state.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  async #fetchToken(state: RegistryState, ch: Challenge, scopes: string[], signal?: AbortSignal):
    Promise<{ token: string; expiresAt: number }> {
    const realm = ch.params.realm;
    if (!realm) {
      throw new RegistryError('ERR_UNAUTHORIZED', `registry ${state.registry} sent a Bearer challenge without a realm`, {
        hint: 'The registry is misconfigured; report it to its operator.',
      });
    }
    let url: URL;
    try {
      url = new URL(realm);
    } catch (err) {
      throw new RegistryError('ERR_UNAUTHORIZED', `registry ${state.registry} sent an invalid token realm`, { cause: err });
    }
    const creds = await this.#credentials(state, undefined);
    const service = ch.params.service;
    const allScopes = [...scopes];
    if (ch.params.scope) for (const s of ch.params.scope.split(' ')) if (s && !allScopes.includes(s)) allScopes.push(s);
    const headers: Record<string, string> = { 'user-agent': this.#ua() };
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    if (creds?.identityToken) {
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'oci-ts' });
      if (service) form.set('service', service);
      if (allScopes.length) form.set('scope', allScopes.join(' '));
      body = form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (service) url.searchParams.set('service', service);
      for (const s of allScopes) url.searchParams.append('scope', s);
      if (creds && (creds.username || creds.password)) {
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
        url.searchParams.set('account', creds.username);
      }
    }
    const insecure = state.insecure && url.host === state.host;
    let res: Dispatcher.ResponseData;
    const started = Date.now();
    try {
      res = await request(url, { method, headers, body, signal, dispatcher: this.#transport.dispatcher(url.host, insecure, method, body !== undefined) });
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      publish({ method, url: url.href, status: undefined, attempt: 0, durationMs: Date.now() - started, error: errCode(err) });
      throw new RegistryError('ERR_NETWORK', `cannot reach the token server ${url.origin}`, { cause: err, hint: 'Check the network and proxy settings.' });
    }
    publish({ method, url: url.href, status: res.statusCode, attempt: 0, durationMs: Date.now() - started });
    if (res.statusCode !== 200) {
      const e = await errorFromResponse(res, { what: `token request to ${url.origin}`, url: url.href });
      if (res.statusCode === 401 || res.statusCode === 403) {
        throw new RegistryError(res.statusCode === 401 ? 'ERR_UNAUTHORIZED' : 'ERR_DENIED',
          `authentication to ${state.registry} failed: the token server refused ${creds ? 'the credentials' : 'anonymous access'} (HTTP ${res.statusCode})`,
          { status: res.statusCode, hint: creds ? 'Check the username and password (oci-registry login).' : HINTS.ERR_UNAUTHORIZED, cause: e });
      }
      throw e;
    }
    const doc = JSON.parse((await readLimited(res.body, 1 << 20, 'token response')).toString('utf8')) as
      { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    const token = doc.token ?? doc.access_token;
    if (!token) throw new RegistryError('ERR_UNAUTHORIZED', `token server for ${state.registry} returned no token`);
    const expiresIn = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
    return { token, expiresAt: Date.now() + expiresIn * 1000 };
  }

  /**
   * Sends one request with auth, retries (429/5xx/connection errors, Retry-After honoured) and
   * redirects (Authorization dropped when the host changes). Returns the final response; its body
   * must be consumed by the caller.
   */
  async #send(registry: string, init: SendInit): Promise<Dispatcher.ResponseData> {
    const { signal } = init;
    signal?.throwIfAborted();
    const state = this.#state(registry);
    const base = await this.#base(state, signal);
    const scopes = this.#scopes(init);
    const replayable = init.replayable ?? (init.body === undefined || typeof init.body === 'string' || init.body instanceof Uint8Array);
    let authRetried = false;
    let attempt = 0;
    for (;;) {
      let url = new URL(init.path, base);
      let auth = await this.#authHeader(state, scopes, signal);
      let res: Dispatcher.ResponseData | undefined;
      let redirects = 0;
      // Location headers (uploads) may point elsewhere: credentials go only to the registry's own origin
      let sameHost = url.origin === new URL(base).origin;
      const started = Date.now();
      try {
        for (;;) {
          const headers: Record<string, string> = { 'user-agent': this.#ua(), ...init.headers };
          if (auth && sameHost) headers.authorization = auth;
          res = await request(url, {
            method: init.method,
            headers,
            body: init.body as Dispatcher.DispatchOptions['body'],
            signal,
            dispatcher: this.#transport.dispatcher(url.host, sameHost ? state.insecure : false, init.method, init.body !== undefined),
          });
          publish({ method: init.method, url: url.href, status: res.statusCode, attempt, durationMs: Date.now() - started });
          const loc = header(res.headers, 'location');
          if (!init.noRedirect && [301, 302, 303, 307, 308].includes(res.statusCode) && loc && (init.method === 'GET' || init.method === 'HEAD')) {
            await res.body.dump();
            if (++redirects > 10) throw new RegistryError('ERR_HTTP', `too many redirects for ${url.href}`);
            const next = new URL(loc, url);
            if (next.host !== url.host || next.protocol !== url.protocol) sameHost = false;
            url = next;
            continue;
          }
          break;
        }
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        if (RegistryError.is(err)) throw err;
        publish({ method: init.method, url: url.href, status: undefined, attempt, durationMs: Date.now() - started, error: errCode(err) || String(err) });
        if (isTlsError(err)) {
          throw new RegistryError('ERR_TLS', `TLS connection to ${url.host} failed: ${(err as Error).message}`, {
            cause: err, url: url.href,
            hint: `Trust the registry's CA (put it in /etc/containers/certs.d/${url.host}/ca.crt, or pass --cert-dir DIR / the caFile option), or use --tls-verify=false for a registry you trust.`,
          });
        }
        if (isNetworkError(err) && replayable && attempt < this.#retries) {
          await sleep(this.#backoff(attempt++), undefined, { signal });
          continue;
        }
        throw new RegistryError('ERR_NETWORK', `${init.method} ${url.href} failed: ${(err as Error).message ?? err}`, {
          cause: err, url: url.href, hint: 'Check that the registry is running and reachable (network, proxy, port).',
        });
      }
      const r = res;
      if (r.statusCode === 401 && sameHost) {
        const challenges = parseChallenges(r.headers['www-authenticate']);
        const ch = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
        if (ch && !authRetried && replayable) {
          await r.body.dump();
          authRetried = true;
          const hadScheme = state.challenge?.scheme;
          state.challenge = ch;
          // A 401 with a token in hand: the token expired or lacks the scope; refresh it once.
          auth = await this.#authHeader(state, scopes, signal, hadScheme === 'bearer');
          continue;
        }
        if (ch && !state.challenge) state.challenge = ch;
        if (authRetried && ch?.scheme === 'bearer' && (await this.#credentials(state, undefined).catch(() => undefined))) this.#scopeDenied.add(r);
      }
      if (RETRY_STATUS.has(r.statusCode) && replayable && attempt < this.#retries) {
        const ra = parseRetryAfter(header(r.headers, 'retry-after'));
        if (ra !== undefined && ra > this.#maxRetryAfterMs) return r;
        await r.body.dump();
        const delay = Math.max(ra ?? 0, this.#backoff(attempt++));
        await sleep(delay, undefined, { signal });
        continue;
      }
      if (init.noted) {
        Object.assign(init.noted, {
          method: init.method, url: url.href, accept: init.headers?.accept, userAgent: this.#ua(), status: r.statusCode,
          plain: attempt === 0 && redirects === 0 && !authRetried && auth === undefined,
        });
      }
      return r;
    }
  }

  #backoff(attempt: number): number {
    const cap = 10_000;
    const exp = Math.min(cap, this.#baseMs * 2 ** attempt);
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  }

  async #fail(res: Dispatcher.ResponseData, what: string, url: string, notFound?: string): Promise<never> {
    const err = await errorFromResponse(res, { what, url, notFound });
    if (this.#scopeDenied.has(res) && err.code === 'ERR_UNAUTHORIZED') {
      throw new RegistryError('ERR_UNAUTHORIZED', `${err.message} (the token server gave a token without the access this needs)`, {
        status: err.status, registryCodes: err.registryCodes, url,
        hint: 'The credentials were accepted but do not allow this operation on this repository (push needs push access; delete needs delete). Use an account with that access.',
      });
    }
    throw err;
  }

  /** GET /v2/: checks that the registry answers and that we can authenticate. */
  async ping(registry: string, options: CallOptions = {}): Promise<void> {
    const res = await this.#send(registry, { method: 'GET', path: '/v2/', signal: options.signal });
    if (res.statusCode === 200) {
      await res.body.dump();
      return;
    }
    // A 401 from /v2/ with a Bearer challenge: get a scope-less token to prove the credentials.
    await this.#fail(res, `ping ${registry}`, `/v2/`);
  }

  /** Checks the credentials against a registry the way `login` does: a token (or Basic) that the registry accepts. */
  async checkLogin(registry: string, options: CallOptions = {}): Promise<void> {
    const state = this.#state(registry);
    state.tokens.clear();
    await this.ping(registry, options);
  }

  #manifestPath(ref: Reference, selector?: string): string {
    return `/v2/${ref.repository}/manifests/${selector ?? manifestSelector(ref)}`;
  }

  /** GET a manifest or index (digest-verified when the reference has a digest). */
  async getManifest(ref: Reference, options: CallOptions & { accept?: string[] | undefined } = {}): Promise<ManifestResult> {
    const path = this.#manifestPath(ref);
    // #send fills in the request and its answer, getManifest what it takes from the body
    const noted = noting() ? ({} as NotedExchange) : undefined;
    const res = await this.#send(ref.registry, {
      method: 'GET', path, repository: ref.repository, signal: options.signal,
      headers: { accept: (options.accept ?? MANIFEST_ACCEPT).join(', ') }, noted,
    });
    if (noted) noteExchange(noted);
    if (res.statusCode !== 200) await this.#fail(res, `GET manifest ${formatReference(ref)}`, path, 'ERR_MANIFEST_UNKNOWN');
    const len = Number(header(res.headers, 'content-length') ?? NaN);
    if (len > this.#maxManifest) {
      discard(res.body);
      throw new RegistryError('ERR_TOO_LARGE', `manifest ${formatReference(ref)} is ${len} bytes, over the ${this.#maxManifest}-byte limit`, {
        hint: 'Raise maxManifestSize if this is expected.',
      });
    }
    const bytes = await readLimited(res.body, this.#maxManifest, `manifest ${formatReference(ref)}`);
    const headerDigest = header(res.headers, 'docker-content-digest');
    let digest: string;
    if (ref.digest) {
      verifyBytes(bytes, ref.digest);
      digest = ref.digest;
    } else {
      let alg = 'sha256';
      if (headerDigest) {
        try {
          alg = splitDigest(headerDigest).algorithm;
        } catch {
          alg = 'sha256';
        }
      }
      digest = digestBytes(bytes, alg);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new RegistryError('ERR_MANIFEST_INVALID', `manifest ${formatReference(ref)} is not valid JSON`, { cause: err });
    }
    const mediaType = sniffManifestType(doc, header(res.headers, 'content-type'));
    if (noted) {
      noted.contentType = header(res.headers, 'content-type');
      noted.dockerContentDigest = headerDigest;
      noted.sha256 = digest.startsWith('sha256:') ? digest.slice(7) : digestBytes(bytes).slice(7);
    }
    return { bytes, mediaType, digest, size: bytes.length, headerDigest };
  }

  /** HEAD a manifest: undefined when it does not exist. */
  async headManifest(ref: Reference, options: CallOptions = {}): Promise<ManifestHead | undefined> {
    const path = this.#manifestPath(ref);
    const res = await this.#send(ref.registry, {
      method: 'HEAD', path, repository: ref.repository, signal: options.signal,
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
    });
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) await this.#fail(res, `HEAD manifest ${formatReference(ref)}`, path, 'ERR_MANIFEST_UNKNOWN');
    const len = header(res.headers, 'content-length');
    return {
      mediaType: (header(res.headers, 'content-type') ?? '').split(';')[0]!.trim(),
      digest: header(res.headers, 'docker-content-digest') ?? ref.digest,
      size: len === undefined ? undefined : Number(len),
    };
  }

  /** PUT a manifest under a tag or digest (the reference's tag wins; else its digest). Returns the digest. */
  async putManifest(ref: Reference, bytes: Uint8Array, mediaType: string, options: CallOptions = {}): Promise<string> {
    const digest = digestBytes(bytes);
    const selector = ref.tag ?? ref.digest ?? digest;
    const path = this.#manifestPath(ref, selector);
    const res = await this.#send(ref.registry, {
      method: 'PUT', path, repository: ref.repository, actions: ['pull', 'push'], signal: options.signal,
      headers: { 'content-type': mediaType }, body: bytes,
    });
    if (res.statusCode !== 201 && res.statusCode !== 200 && res.statusCode !== 202) {
      await this.#fail(res, `PUT manifest ${formatReference(ref)}`, path, 'ERR_NAME_UNKNOWN');
    }
    await res.body.dump();
    // a manifest with a subject on a registry without the referrers API (no OCI-Subject in the answer): the
    // client keeps the referrers list under the tag schema (distribution-spec 1.1, "Pushing Manifests with Subject")
    const referrer = referrerOf(bytes, mediaType, digest);
    if (referrer !== undefined && res.headers['oci-subject'] === undefined) {
      await this.#updateReferrersTag(ref, referrer.subject, (list) =>
        list.some((d) => d.digest === digest) ? undefined : [...list, referrer.descriptor], options);
    }
    return digest;
  }

  /**
   * Changes the referrers list kept under the tag `<alg>-<hex>` of `subject` (the tag-schema fallback):
   * `change` gets the current list (empty when there is none) and returns the new one, or undefined for no change.
   */
  async #updateReferrersTag(ref: Reference, subject: string, change: (list: Record<string, unknown>[]) => Record<string, unknown>[] | undefined,
    options: CallOptions): Promise<void> {
    const { algorithm, encoded } = splitDigest(subject);
    const tagRef: Reference = { ...ref, tag: `${algorithm}-${encoded}`, digest: undefined };
    const read = async (): Promise<Record<string, unknown>[]> => {
      try {
        const m = await this.getManifest(tagRef, { ...options, accept: [MT.OciIndex] });
        const doc = JSON.parse(m.bytes.toString('utf8')) as { manifests?: unknown };
        return Array.isArray(doc.manifests) ? doc.manifests.filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null) : [];
      } catch (err) {
        if (!RegistryError.is(err, 'ERR_MANIFEST_UNKNOWN') && !RegistryError.is(err, 'ERR_NAME_UNKNOWN')) throw err;
        return [];
      }
    };
    // Registries have no conditional PUT: a client that read the list before our write and writes after it drops
    // our change (and we drop theirs the same way). So after each write the list is read again once a few of our
    // own read-and-write times have passed (longer than another client's read-to-write), and while our change is
    // not in it (`change` asks for one again) it is made again on what is there now. Each writer watching for its
    // own change, the list ends with all of them once the writes stop.
    // A registry may refuse a list naming a manifest that is gone (deleted by another client or tool, whose own
    // update of the list may still be on its way): then the entries whose manifests are gone are left out.
    let prune = false;
    const existing = async (list: Record<string, unknown>[]): Promise<Record<string, unknown>[]> => {
      const keep = await Promise.all(list.map((d) => typeof d.digest !== 'string' ? true
        : this.headManifest({ ...ref, tag: undefined, digest: d.digest }, options).then((h) => h !== undefined, () => true)));
      return list.filter((_, i) => keep[i]);
    };
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const stored = await read();
      const list = prune ? await existing(stored) : stored;
      // our change is there; a list with gone manifests is written without them all the same
      const next = change(list) ?? (list.length === stored.length ? undefined : list);
      if (next === undefined) return;
      if (attempt > REFERRERS_ATTEMPTS) {
        throw new RegistryError('ERR_REFERRERS_CONFLICT', `the referrers list ${formatReference(tagRef)} kept changing under other clients' writes`, {
          hint: 'Push (or delete) again when the other clients are done: the manifest itself is stored.',
        });
      }
      const index = { schemaVersion: 2, mediaType: MT.OciIndex, manifests: next };
      try {
        await this.putManifest(tagRef, Buffer.from(JSON.stringify(index), 'utf8'), MT.OciIndex, options);
      } catch (err) {
        if (!RegistryError.is(err, 'ERR_MANIFEST_BLOB_UNKNOWN')) throw err;
        prune = true;
        continue;
      }
      const took = performance.now() - started;
      await sleep(Math.max(50, 3 * took) * (1 + Math.random()), undefined, { signal: options.signal });
    }
  }

  /** DELETE a manifest (a tag is resolved to its digest first, as registries require). */
  async deleteManifest(ref: Reference, options: CallOptions = {}): Promise<string> {
    let digest = ref.digest;
    if (!digest) {
      const head = await this.headManifest(ref, options);
      if (!head) throw new RegistryError('ERR_MANIFEST_UNKNOWN', `manifest ${formatReference(ref)} not found`, { hint: HINTS.ERR_MANIFEST_UNKNOWN });
      digest = head.digest ?? (await this.getManifest(ref, options)).digest;
    }
    // a manifest with a subject is also taken out of the tag-schema referrers list, when the registry keeps none
    // itself (distribution-spec 1.1, "Deleting Manifests"): its subject is read before it is gone
    const byDigest: Reference = { ...ref, tag: undefined, digest };
    const before = await this.getManifest(byDigest, options).catch(() => undefined);
    const referrer = before && referrerOf(before.bytes, before.mediaType, digest);
    const path = this.#manifestPath(ref, digest);
    const res = await this.#send(ref.registry, {
      method: 'DELETE', path, repository: ref.repository, actions: ['delete'], extraScopes: [repositoryScope(ref.repository, ['pull', 'push'])],
      signal: options.signal,
    });
    // A 404 for a manifest that was there a moment ago: our DELETE was sent again after its answer was lost (or
    // another client deleted it meanwhile). Gone is what was asked for.
    const gone = res.statusCode === 404 && before !== undefined && (await this.headManifest(byDigest, options).then((h) => h === undefined, () => false));
    if (!gone && res.statusCode !== 202 && res.statusCode !== 200) await this.#fail(res, `DELETE manifest ${formatReference(ref)}`, path, 'ERR_MANIFEST_UNKNOWN');
    await res.body.dump();
    if (referrer !== undefined && !(await this.#hasReferrersApi(ref, referrer.subject, options))) {
      const gone = digest;
      await this.#updateReferrersTag(ref, referrer.subject, (list) =>
        list.some((d) => d.digest === gone) ? list.filter((d) => d.digest !== gone) : undefined, options);
    }
    return digest;
  }

  /** Whether the registry answers the referrers API for `subject` (a 404 means it has none). */
  async #hasReferrersApi(ref: Reference, subject: string, options: CallOptions): Promise<boolean> {
    const path = `/v2/${ref.repository}/referrers/${subject}`;
    const res = await this.#send(ref.registry, { method: 'GET', path, repository: ref.repository, signal: options.signal, headers: { accept: MT.OciIndex } });
    await res.body.dump();
    return res.statusCode === 200;
  }

  /** HEAD a blob: its size, or undefined when absent. */
  async statBlob(target: BlobTarget, digest: string, options: CallOptions = {}): Promise<{ size: number | undefined } | undefined> {
    splitDigest(digest);
    const path = `/v2/${target.repository}/blobs/${digest}`;
    const res = await this.#send(target.registry, { method: 'HEAD', path, repository: target.repository, signal: options.signal });
    await res.body.dump();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) await this.#fail(res, `HEAD blob ${digest}`, path, 'ERR_BLOB_UNKNOWN');
    const len = header(res.headers, 'content-length');
    return { size: len === undefined ? undefined : Number(len) };
  }

  async hasBlob(target: BlobTarget, digest: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.statBlob(target, digest, options)) !== undefined;
  }

  /**
   * Streams a blob, verifying size and digest as bytes pass: the stream errors with ERR_DIGEST_MISMATCH /
   * ERR_SIZE_MISMATCH before it ends if the content is wrong. A broken connection is resumed with a
   * Range request (or by skipping already-received bytes when the server ignores Range).
   * The stream's `release(chunk)` gives a chunk back once the caller is finished with it (written, hashed, and
   * not read again): its memory is then reused for later downloads, which spares the page faults of fresh
   * memory (see lean-http.ts). Optional: chunks never given back are simply garbage collected.
   */
  async getBlob(target: BlobTarget, digest: string, options: GetBlobOptions = {}): Promise<BlobStream> {
    const hasher = options.verify === false ? undefined : hasherFor(digest);
    const path = `/v2/${target.repository}/blobs/${digest}`;
    const { signal } = options;
    const open = async (offset: number): Promise<Dispatcher.ResponseData> => {
      const res = await this.#send(target.registry, {
        method: 'GET', path, repository: target.repository, signal,
        headers: offset > 0 ? { range: `bytes=${offset}-` } : undefined,
      });
      if (res.statusCode !== 200 && res.statusCode !== 206) await this.#fail(res, `GET blob ${digest}`, path, 'ERR_BLOB_UNKNOWN');
      // errors reach the reader through iteration; this keeps an abandoned body from crashing the process
      res.body.on('error', () => {});
      return res;
    };
    const first = await open(0);
    const size = options.size;
    const resumeAttempts = options.resumeAttempts ?? this.#retries;
    const backoff = (n: number): number => this.#backoff(n);
    // Event-driven on purpose: the bytes of a large layer pass here in ~64 KiB socket reads, and an async
    // iterator (or a generator behind Readable.from) costs a few promise turns per read; this is a plain
    // 'data' handler with backpressure: push() false pauses the response, read() resumes it.
    let res = first;
    let received = 0;
    let resumes = 0;
    // bytes of the current response to drop (a server that ignored our Range answered from the start)
    let skip = 0;
    // the newest chunk, handed out only when the next one arrives or the digest is checked: a consumer
    // never sees the end of wrong content
    let held: Buffer | undefined;
    let done = false;
    const out: BlobStream = Object.assign(new Readable({
      highWaterMark: BLOB_HIGH_WATER_MARK,
      read() {
        if (!done) res.body.resume();
      },
      destroy(err, cb) {
        done = true;
        held = undefined;
        discard(res.body);
        cb(err);
      },
    }), { release: releaseChunk });
    const fail = (err: unknown): void => {
      if (done) return;
      out.destroy(err as Error);
    };
    const onData = (raw: Buffer): void => {
      if (done) return;
      let chunk = raw;
      if (skip > 0) {
        if (chunk.length <= skip) {
          skip -= chunk.length;
          return;
        }
        chunk = chunk.subarray(skip);
        skip = 0;
      }
      received += chunk.length;
      if (size !== undefined && received > size) {
        fail(new RegistryError('ERR_SIZE_MISMATCH', `blob ${digest} is larger than its descriptor's ${size} bytes`, {
          digest, expected: size, actual: received, hint: HINTS.ERR_DIGEST_MISMATCH,
        }));
        return;
      }
      hasher?.update(chunk);
      options.onProgress?.(received, size);
      const previous = held;
      held = chunk;
      if (previous !== undefined && !out.push(previous)) res.body.pause();
    };
    const onEnd = (): void => {
      if (done) return;
      if (size !== undefined && received !== size) {
        fail(new RegistryError('ERR_SIZE_MISMATCH', `blob ${digest} has ${received} bytes, expected ${size}`, {
          digest, expected: size, actual: received, hint: HINTS.ERR_DIGEST_MISMATCH,
        }));
        return;
      }
      if (hasher) {
        const actual = `${splitDigest(digest).algorithm}:${hasher.digest('hex')}`;
        if (actual !== digest) {
          fail(mismatch(digest, actual));
          return;
        }
      }
      done = true;
      if (held !== undefined) out.push(held);
      held = undefined;
      out.push(null);
    };
    const resume = async (): Promise<void> => {
      await sleep(backoff(resumes++), undefined, { signal });
      if (done) return;
      const next = await open(received);
      if (done) {
        discard(next.body);
        return;
      }
      if (next.statusCode === 206) {
        const cr = header(next.headers, 'content-range');
        const start = cr ? Number(/bytes (\d+)-/.exec(cr)?.[1] ?? NaN) : NaN;
        if (start !== received) {
          discard(next.body);
          throw new RegistryError('ERR_HTTP', `registry answered a range request for ${digest} with the wrong range`, {});
        }
      } else {
        skip = received;
      }
      attach(next);
    };
    const onError = (err: unknown): void => {
      if (done) return;
      discard(res.body);
      if (signal?.aborted) return fail(abortReason(signal));
      if (RegistryError.is(err)) return fail(err);
      if (!isNetworkError(err) || resumes >= resumeAttempts) {
        return fail(new RegistryError('ERR_NETWORK', `download of blob ${digest} broke after ${received} bytes`, {
          cause: err, digest, hint: 'Retry; completed blobs are kept, so a re-run fetches only what is missing.',
        }));
      }
      resume().catch((e: unknown) => fail(signal?.aborted ? abortReason(signal) : e));
    };
    const attach = (r: Dispatcher.ResponseData): void => {
      res = r;
      r.body.on('data', onData);
      r.body.on('end', onEnd);
      r.body.on('error', onError);
    };
    attach(first);
    return out;
  }

  /** GET a small blob (a config) into memory, verified. */
  async readBlob(target: BlobTarget, digest: string, options: CallOptions & { size?: number; maxSize?: number } = {}): Promise<Buffer> {
    const max = options.maxSize ?? this.#maxManifest;
    if (options.size !== undefined && options.size > max) {
      throw new RegistryError('ERR_TOO_LARGE', `blob ${digest} is ${options.size} bytes, over the ${max}-byte limit for in-memory reads`);
    }
    const stream = await this.getBlob(target, digest, { signal: options.signal, size: options.size });
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of stream) {
      n += (c as Buffer).length;
      if (n > max) {
        stream.destroy();
        throw new RegistryError('ERR_TOO_LARGE', `blob ${digest} is over the ${max}-byte limit for in-memory reads`);
      }
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /** Tries a cross-repository mount; returns the upload URL when the registry started an upload instead. */
  async #startUpload(target: BlobTarget, digest: string, from: string | undefined, signal?: AbortSignal):
    Promise<{ mounted: true } | { mounted: false; location: URL }> {
    let path = `/v2/${target.repository}/blobs/uploads/`;
    if (from) path += `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const res = await this.#send(target.registry, {
      method: 'POST', path, repository: target.repository, actions: ['pull', 'push'],
      extraScopes: from ? [repositoryScope(from, ['pull'])] : undefined, signal, noRedirect: true,
      headers: { 'content-length': '0' },
    });
    if (res.statusCode === 201 && from) {
      await res.body.dump();
      return { mounted: true };
    }
    if (res.statusCode !== 202) await this.#fail(res, `start upload to ${target.registry}/${target.repository}`, path, 'ERR_NAME_UNKNOWN');
    await res.body.dump();
    const loc = header(res.headers, 'location');
    if (!loc) throw new RegistryError('ERR_HTTP', `registry did not return an upload location for ${target.repository}`);
    return { mounted: false, location: new URL(loc, await this.#base(this.#state(target.registry))) };
  }

  /** Mounts a blob from another repository of the same registry; false if the registry refused (then nothing is left open). */
  async mountBlob(target: BlobTarget, digest: string, fromRepository: string, options: CallOptions = {}): Promise<boolean> {
    const r = await this.#startUpload(target, digest, fromRepository, options.signal);
    if (r.mounted) return true;
    await this.#cancelUpload(target, r.location);
    return false;
  }

  async #cancelUpload(target: BlobTarget, location: URL): Promise<void> {
    try {
      const res = await this.#send(target.registry, { method: 'DELETE', path: location.href, repository: target.repository, actions: ['pull', 'push'] });
      await res.body.dump();
    } catch {
      // best effort
    }
  }

  /**
   * Pushes a blob: HEAD (skip when present), cross-repository mount when `mountFrom` is given, else a
   * monolithic PUT (default) or chunked PATCHes with Content-Range.
   */
  async pushBlob(target: BlobTarget, source: BlobSource, options: PushBlobOptions): Promise<PushBlobResult> {
    const { digest, size, signal } = options;
    splitDigest(digest);
    signal?.throwIfAborted();
    if (!options.skipExistsCheck && (await this.hasBlob(target, digest, { signal }))) {
      return { digest, size, outcome: 'exists' };
    }
    // A streamed body cannot be sent twice; with a source factory the whole upload can be restarted
    // (a connection reset, a 5xx, a token that expired during a long upload).
    const attempts = typeof source === 'function' ? Math.max(1, Math.min(3, this.#retries + 1)) : 1;
    for (let attempt = 1; ; attempt++) {
      const progress = { started: false };
      try {
        return await this.#pushOnce(target, source, options, progress);
      } catch (err) {
        if (signal?.aborted || attempt >= attempts) throw err;
        const code = RegistryError.is(err) ? err.code : '';
        if (!['ERR_NETWORK', 'ERR_REGISTRY_UNAVAILABLE', 'ERR_UNAUTHORIZED', 'ERR_BLOB_UPLOAD_UNKNOWN'].includes(code)) throw err;
        // a 401 before any byte was sent is a refusal, not an expired token: no retry storm
        if (code === 'ERR_UNAUTHORIZED' && !progress.started) throw err;
        if (code === 'ERR_UNAUTHORIZED') this.#state(target.registry).tokens.clear();
        await sleep(this.#backoff(attempt - 1), undefined, { signal });
      }
    }
  }

  async #pushOnce(target: BlobTarget, source: BlobSource, options: PushBlobOptions, progress: { started: boolean }): Promise<PushBlobResult> {
    const { digest, size, signal } = options;
    let start: { mounted: true } | { mounted: false; location: URL } | undefined;
    for (const from of options.mountFrom ?? []) {
      if (from === target.repository) continue;
      start = await this.#startUpload(target, digest, from, signal);
      if (start.mounted) return { digest, size, outcome: 'mounted' };
      break; // the registry opened an upload session instead: use it
    }
    start ??= await this.#startUpload(target, digest, undefined, signal);
    if (start.mounted) return { digest, size, outcome: 'mounted' };
    let location = start.location;
    progress.started = true;
    try {
      const input = typeof source === 'function' ? await source() : source;
      const chunkSize = options.chunkSize;
      if (chunkSize === undefined || size <= chunkSize) {
        const url = withDigest(location, digest);
        const body = input instanceof Uint8Array ? input : countingStream(input, (n) => options.onProgress?.(n, size));
        const res = await this.#send(target.registry, {
          method: 'PUT', path: url.href, repository: target.repository, actions: ['pull', 'push'], signal,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) }, body,
          replayable: input instanceof Uint8Array,
        });
        if (res.statusCode !== 201) await this.#fail(res, `upload of blob ${digest}`, url.pathname, 'ERR_BLOB_UPLOAD_UNKNOWN');
        await res.body.dump();
        if (input instanceof Uint8Array) options.onProgress?.(size, size);
        return { digest, size, outcome: 'uploaded' };
      }
      let offset = 0;
      for await (const chunk of rechunk(input instanceof Uint8Array ? [input] : input, chunkSize)) {
        const end = offset + chunk.length - 1;
        const res = await this.#send(target.registry, {
          method: 'PATCH', path: location.href, repository: target.repository, actions: ['pull', 'push'], signal,
          headers: {
            'content-type': 'application/octet-stream', 'content-length': String(chunk.length),
            'content-range': `${offset}-${end}`,
          },
          body: chunk, replayable: true, noRedirect: true,
        });
        if (res.statusCode !== 202) await this.#fail(res, `chunk upload of blob ${digest}`, location.pathname, 'ERR_BLOB_UPLOAD_UNKNOWN');
        await res.body.dump();
        const loc = header(res.headers, 'location');
        if (loc) location = new URL(loc, location);
        offset = end + 1;
        options.onProgress?.(offset, size);
      }
      const url = withDigest(location, digest);
      const res = await this.#send(target.registry, {
        method: 'PUT', path: url.href, repository: target.repository, actions: ['pull', 'push'], signal,
        headers: { 'content-length': '0' }, noRedirect: true,
      });
      if (res.statusCode !== 201) await this.#fail(res, `finishing upload of blob ${digest}`, url.pathname, 'ERR_BLOB_UPLOAD_UNKNOWN');
      await res.body.dump();
      return { digest, size, outcome: 'uploaded' };
    } catch (err) {
      await this.#cancelUpload(target, location);
      throw err;
    }
  }

  /** All tags of a repository, following Link pagination. */
  async listTags(target: BlobTarget, options: CallOptions & { pageSize?: number } = {}): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${target.repository}/tags/list${options.pageSize ? `?n=${options.pageSize}` : ''}`;
    let pages = 0;
    while (path) {
      if (++pages > 10_000) throw new RegistryError('ERR_HTTP', 'tag list pagination does not end');
      const res = await this.#send(target.registry, { method: 'GET', path, repository: target.repository, signal: options.signal });
      if (res.statusCode !== 200) await this.#fail(res, `list tags of ${target.registry}/${target.repository}`, path, 'ERR_NAME_UNKNOWN');
      const doc = JSON.parse((await readLimited(res.body, 16 << 20, 'tag list')).toString('utf8')) as { tags?: string[] | null };
      for (const t of doc.tags ?? []) tags.push(t);
      path = nextLink(header(res.headers, 'link'));
    }
    return tags;
  }

  /**
   * Referrers of a manifest (distribution-spec 1.1): the referrers API, or when the registry does not
   * have it (404), the tag-schema fallback `<alg>-<hex>`. Returns an image index (possibly empty).
   */
  async referrers(ref: Reference, digest: string, options: CallOptions & { artifactType?: string } = {}):
    Promise<{ schemaVersion: 2; mediaType: string; manifests: Record<string, unknown>[] }> {
    const { algorithm, encoded } = splitDigest(digest);
    let path = `/v2/${ref.repository}/referrers/${digest}`;
    if (options.artifactType) path += `?artifactType=${encodeURIComponent(options.artifactType)}`;
    const res = await this.#send(ref.registry, { method: 'GET', path, repository: ref.repository, signal: options.signal, headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
    let index: { schemaVersion: 2; mediaType: string; manifests: Record<string, unknown>[] } | undefined;
    if (res.statusCode === 200) {
      index = JSON.parse((await readLimited(res.body, this.#maxManifest, 'referrers index')).toString('utf8'));
    } else if (res.statusCode === 404) {
      await res.body.dump();
      try {
        const m = await this.getManifest({ ...ref, tag: `${algorithm}-${encoded}`, digest: undefined }, options);
        index = JSON.parse(m.bytes.toString('utf8'));
      } catch (err) {
        if (!RegistryError.is(err, 'ERR_MANIFEST_UNKNOWN') && !RegistryError.is(err, 'ERR_NAME_UNKNOWN')) throw err;
        index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
      }
    } else {
      await this.#fail(res, `referrers of ${digest}`, path, 'ERR_MANIFEST_UNKNOWN');
    }
    const result = index!;
    result.manifests ??= [];
    if (options.artifactType) result.manifests = result.manifests.filter((d) => d.artifactType === options.artifactType);
    return result;
  }
}

/**
 * The subject of a manifest and the descriptor a referrers list gives it (distribution-spec 1.1: artifactType,
 * else the config's media type for an image manifest; the manifest's annotations); undefined without a subject.
 */
function referrerOf(bytes: Uint8Array, mediaType: string, digest: string): { subject: string; descriptor: Record<string, unknown> } | undefined {
  let doc: { mediaType?: unknown; subject?: { digest?: unknown }; artifactType?: unknown; config?: { mediaType?: unknown }; annotations?: unknown };
  try {
    doc = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as typeof doc;
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || typeof doc.subject?.digest !== 'string') return undefined;
  const descriptor: Record<string, unknown> = { mediaType: typeof doc.mediaType === 'string' ? doc.mediaType : mediaType, digest, size: bytes.length };
  const artifactType = typeof doc.artifactType === 'string' ? doc.artifactType : typeof doc.config?.mediaType === 'string' ? doc.config.mediaType : undefined;
  if (artifactType !== undefined) descriptor.artifactType = artifactType;
  if (typeof doc.annotations === 'object' && doc.annotations !== null && Object.keys(doc.annotations).length > 0) descriptor.annotations = doc.annotations;
  return { subject: doc.subject.digest, descriptor };
}

function publish(d: RequestDiagnostic): void {
  if (requestChannel.hasSubscribers) requestChannel.publish({ ...d, url: redactUrl(d.url) });
}

function withDigest(location: URL, digest: string): URL {
  const u = new URL(location.href);
  u.searchParams.set('digest', digest);
  return u;
}

/** The URL of rel="next" in a Link header. */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>\s*((?:;\s*[^;]+)*)/.exec(part.trim());
    if (m && /;\s*rel="?next"?/i.test(m[2] ?? '')) return m[1];
  }
  return undefined;
}

async function* countingStream(src: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const chunk of src) {
    n += chunk.length;
    onBytes(n);
    yield chunk;
  }
}

async function* rechunk(src: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let n = 0;
  for await (const c of src) {
    let buf = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    while (n + buf.length >= size) {
      const take = size - n;
      parts.push(buf.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      n = 0;
      buf = buf.subarray(take);
    }
    if (buf.length) {
      parts.push(Buffer.from(buf));
      n += buf.length;
    }
  }
  if (n > 0) yield Buffer.concat(parts);
}
