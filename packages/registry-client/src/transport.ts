import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { Dispatcher } from 'undici';
import { undici } from './undici.js';

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

function hasProxyEnv(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.HTTP_PROXY || env.http_proxy || env.HTTPS_PROXY || env.https_proxy);
}

/** @internal Builds one dispatcher per host with its TLS settings; honours HTTP(S)_PROXY/NO_PROXY. */
export class Transport {
  readonly #opts: TransportOptions;
  readonly #byHost = new Map<string, Dispatcher>();
  readonly #extraCa: string[];

  constructor(opts: TransportOptions = {}) {
    this.#opts = opts;
    const files = opts.caFile === undefined ? [] : Array.isArray(opts.caFile) ? opts.caFile : [opts.caFile];
    this.#extraCa = files.map((f) => readFileSync(f, 'utf8'));
  }

  dispatcher(host: string, insecure: boolean): Dispatcher {
    const key = `${host}|${insecure ? 'i' : 's'}`;
    let d = this.#byHost.get(key);
    if (d) return d;
    const certs = certsFor(host, this.#opts.certsDirs ?? DEFAULT_CERTS_DIRS);
    const ca = [...certs.ca, ...this.#extraCa];
    const tls: Record<string, unknown> = {
      rejectUnauthorized: !insecure && this.#opts.tlsVerify !== false,
    };
    if (ca.length > 0) {
      // Node replaces the default trust store when `ca` is given: keep the system roots too.
      tls.ca = [...ca, ...rootCertificates];
    }
    if (certs.cert && certs.key) {
      tls.cert = certs.cert;
      tls.key = certs.key;
    }
    const common = {
      connections: this.#opts.connections ?? 8,
      keepAliveTimeout: 10_000,
      connect: tls,
    };
    const env = this.#opts.env ?? process.env;
    d = hasProxyEnv(env)
      ? new (undici().EnvHttpProxyAgent())({
        ...common,
        requestTls: tls,
        httpProxy: env.HTTP_PROXY ?? env.http_proxy,
        httpsProxy: env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy,
        noProxy: env.NO_PROXY ?? env.no_proxy,
      } as ConstructorParameters<ReturnType<ReturnType<typeof undici>['EnvHttpProxyAgent']>>[0])
      : new (undici().Agent)(common);
    this.#byHost.set(key, d);
    return d;
  }

  async close(): Promise<void> {
    const all = [...this.#byHost.values()];
    this.#byHost.clear();
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}

