import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { SecureContext } from 'node:tls';
import type { Dispatcher } from 'undici';
import { LeanHttp } from './lean-http.js';
import { undici } from './undici.js';

const require = createRequire(import.meta.url);

export interface TransportOptions {
  /** Verify TLS certificates (default true). */
  tlsVerify?: boolean | undefined;
  /** Extra CA certificate files (PEM) trusted for every registry. */
  caFile?: string | string[] | undefined;
  /** Directories holding HOST/ *.crt (default /etc/containers/certs.d and /etc/docker/certs.d). */
  certsDirs?: string[] | undefined;
  /** Connections per origin (default 8). */
  connections?: number | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /**
   * Called before undici serves its first request of a host (uploads, proxied requests): a program that owns its
   * process may set V8 flags for undici's WebAssembly parser there. Requests that LeanHttp serves never call it.
   */
  beforeUndici?: (() => void) | undefined;
}

export const DEFAULT_CERTS_DIRS = ['/etc/containers/certs.d', '/etc/docker/certs.d'];

/** @internal CA certificates (PEM text) configured for a host in certs.d-style directories. */
export function certsFor(host: string, dirs: string[]): { ca: string[]; cert?: string; key?: string } {
  const ca: string[] = [];
  let cert: string | undefined;
  let key: string | undefined;
  for (const dir of dirs) {
    const d = join(dir, host);
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      try {
        if (name.endsWith('.crt')) ca.push(readFileSync(join(d, name), 'utf8'));
        else if (name.endsWith('.cert') && cert === undefined) cert = readFileSync(join(d, name), 'utf8');
        else if (name.endsWith('.key') && key === undefined) key = readFileSync(join(d, name), 'utf8');
      } catch {
        // unreadable file: skip, as containers/image does for odd entries
      }
    }
  }
  return cert !== undefined && key !== undefined ? { ca, cert, key } : { ca };
}

/**
 * @internal The CAs every verified connection trusts besides certs.d and caFile, as ONE PEM string: the file
 * named by NODE_EXTRA_CA_CERTS (when set and readable) and Node's bundled roots that the file does not
 * already hold; undefined when there is no such file: Node's own default store is then exactly what we want
 * (it is also the cheapest: Node builds it from its bundled roots without the per-certificate work that a
 * `ca` option costs, and it honours --use-openssl-ca). Built on first use, once per process (per
 * NODE_EXTRA_CA_CERTS value). We read the file ourselves instead of relying on Node's process-wide store
 * because the CLIs start Node without NODE_EXTRA_CA_CERTS (Node reads it eagerly at every start) and because
 * an explicit `ca` (certs.d, caFile) would otherwise drop those certificates.
 * Measured (callgrind, 144 Debian CAs in the file): one joined string with duplicates removed costs ~40 %
 * fewer instructions than the file plus all of Node's roots.
 */
let defaultCa: { extraFile: string; pem: string | undefined } | undefined;
export function defaultCaCertificates(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const extraFile = env.NODE_EXTRA_CA_CERTS ?? '';
  if (defaultCa?.extraFile === extraFile) return defaultCa.pem;
  let extra: string | undefined;
  if (extraFile) {
    try {
      extra = readFileSync(extraFile, 'utf8');
    } catch {
      // as Node: an unreadable NODE_EXTRA_CA_CERTS file is not fatal (Node only warns)
    }
  }
  let pem: string | undefined;
  if (extra !== undefined) {
    // PEM line lengths differ between bundles: compare the certificates without whitespace
    const key = (block: string): string => block.replace(/\s+/g, '');
    const have = new Set((extra.match(/-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g) ?? []).map(key));
    const roots = (require('node:tls') as typeof import('node:tls')).rootCertificates.filter((r) => !have.has(key(r)));
    pem = [extra, ...roots].join('\n');
  }
  defaultCa = { extraFile, pem };
  return pem;
}

/** Forgets the CA bundle read from NODE_EXTRA_CA_CERTS (the file may have changed by the next use). @internal */
export function forgetDefaultCa(): void {
  defaultCa = undefined;
}

function hasProxyEnv(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.HTTP_PROXY || env.http_proxy || env.HTTPS_PROXY || env.https_proxy);
}

/** Methods LeanHttp sends (never with a body). */
const LEAN_METHODS = new Set(['GET', 'HEAD', 'DELETE']);

interface HostEntry {
  verify: boolean;
  secureContext: () => SecureContext;
  undici?: Dispatcher;
  lean?: LeanHttp;
}

/**
 * @internal Builds the dispatchers of each host with its TLS settings; honours HTTP(S)_PROXY/NO_PROXY. Requests
 * without a body go through LeanHttp (unless a proxy is configured), the others through undici, which is
 * then loaded on first use.
 */
export class Transport {
  readonly #opts: TransportOptions;
  readonly #byHost = new Map<string, HostEntry>();
  readonly #extraCa: string[];

  constructor(opts: TransportOptions = {}) {
    this.#opts = opts;
    const files = opts.caFile === undefined ? [] : Array.isArray(opts.caFile) ? opts.caFile : [opts.caFile];
    this.#extraCa = files.map((f) => readFileSync(f, 'utf8'));
  }

  /**
   * The dispatcher for a request to `host`: LeanHttp when the request is a GET, HEAD or DELETE without a
   * body and no proxy is configured, else undici (`method` omitted: undici).
   */
  dispatcher(host: string, insecure: boolean, method?: string, hasBody = false): Dispatcher {
    const entry = this.#entry(host, insecure);
    const env = this.#opts.env ?? process.env;
    if (!hasBody && method !== undefined && LEAN_METHODS.has(method) && !hasProxyEnv(env)) {
      entry.lean ??= new LeanHttp({ secureContext: entry.secureContext, rejectUnauthorized: entry.verify });
      // LeanHttp has the one method the client calls on a dispatcher for such requests: request()
      return entry.lean as unknown as Dispatcher;
    }
    if (entry.undici) return entry.undici;
    this.#opts.beforeUndici?.();
    const u = undici();
    const verify = entry.verify;
    const secureContext = entry.secureContext;
    let d: Dispatcher;
    if (hasProxyEnv(env)) {
      // proxies are rare: the context is made up front
      const tls = { rejectUnauthorized: verify, secureContext: secureContext() };
      d = new (u.EnvHttpProxyAgent())({
        connections: this.#opts.connections ?? 8,
        keepAliveTimeout: 10_000,
        connect: tls,
        requestTls: tls,
        httpProxy: env.HTTP_PROXY ?? env.http_proxy,
        httpsProxy: env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy,
        noProxy: env.NO_PROXY ?? env.no_proxy,
      } as ConstructorParameters<ReturnType<typeof u.EnvHttpProxyAgent>>[0]);
    } else {
      // a connector that makes the secure context only when an https connection is opened
      type Connector = ReturnType<typeof u.buildConnector>;
      let plain: Connector | undefined;
      let secure: Connector | undefined;
      const connect: Connector = (options, callback) => {
        if (options.protocol === 'https:') {
          secure ??= u.buildConnector({ rejectUnauthorized: verify, secureContext: secureContext() } as Parameters<typeof u.buildConnector>[0]);
          secure(options, callback);
        } else {
          plain ??= u.buildConnector({});
          plain(options, callback);
        }
      };
      d = new u.Agent({ connections: this.#opts.connections ?? 8, keepAliveTimeout: 10_000, connect });
    }
    entry.undici = d;
    return d;
  }

  #entry(host: string, insecure: boolean): HostEntry {
    const key = `${host}|${insecure ? 'i' : 's'}`;
    const known = this.#byHost.get(key);
    if (known) return known;
    const certs = certsFor(host, this.#opts.certsDirs ?? DEFAULT_CERTS_DIRS);
    const verify = !insecure && this.#opts.tlsVerify !== false;
    const env = this.#opts.env ?? process.env;
    // One secure context per host and mode, made on the first TLS connection and shared by every later one
    // (tls.connect would otherwise parse the whole CA list again per connection). Unverified: `ca: []`, so
    // that Node builds no root store at all (~45 ms of CPU); verified: see defaultCaCertificates.
    let context: SecureContext | undefined;
    const secureContext = (): SecureContext => {
      if (context) return context;
      const tls = require('node:tls') as typeof import('node:tls');
      let ca: string[] | undefined = [];
      if (verify) {
        const own = [...certs.ca, ...this.#extraCa];
        const base = defaultCaCertificates(env);
        // nothing of our own: Node's default store (its bundled roots), else one explicit list
        ca = own.length === 0 && base === undefined ? undefined : [[...own, base ?? tls.rootCertificates.join('\n')].join('\n')];
      }
      const options: import('node:tls').SecureContextOptions = ca === undefined ? {} : { ca };
      if (certs.cert !== undefined && certs.key !== undefined) {
        options.cert = certs.cert;
        options.key = certs.key;
      }
      context = tls.createSecureContext(options);
      return context;
    };
    const entry: HostEntry = { verify, secureContext };
    this.#byHost.set(key, entry);
    return entry;
  }

  async close(): Promise<void> {
    const all = [...this.#byHost.values()].flatMap((e) => [e.undici, e.lean].filter((d) => d !== undefined));
    this.#byHost.clear();
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}

