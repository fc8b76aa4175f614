import { createRequire } from 'node:module';
import type { Agent as AgentClass, buildConnector as BuildConnector, Dispatcher, EnvHttpProxyAgent as EnvHttpProxyAgentClass } from 'undici';

/**
 * @internal undici's Agent, EnvHttpProxyAgent and Dispatcher#request without loading the whole package
 * (its index also loads fetch, websockets, caches and mocks: ~80 ms of CPU per CLI start). Falls back
 * to the package entry if its file layout ever differs.
 */
interface Undici {
  Agent: typeof AgentClass;
  buildConnector: typeof BuildConnector;
  EnvHttpProxyAgent: () => typeof EnvHttpProxyAgentClass;
}

const require = createRequire(import.meta.url);
let loaded: Undici | undefined;

export function undici(): Undici {
  if (loaded) return loaded;
  try {
    const base = require('undici/lib/dispatcher/dispatcher.js') as { prototype: Record<string, unknown> };
    // what undici's index does: request/stream/pipeline/upgrade/connect on every dispatcher
    if (typeof base.prototype.request !== 'function') Object.assign(base.prototype, require('undici/lib/api/index.js'));
    const Agent = require('undici/lib/dispatcher/agent.js') as typeof AgentClass;
    const buildConnector = require('undici/lib/core/connect.js') as typeof BuildConnector;
    if (typeof Agent !== 'function' || typeof buildConnector !== 'function' || typeof base.prototype.request !== 'function') {
      throw new Error('unexpected undici layout');
    }
    // proxies are rare: load that agent only when asked
    loaded = {
      Agent,
      buildConnector,
      EnvHttpProxyAgent: () => require('undici/lib/dispatcher/env-http-proxy-agent.js') as typeof EnvHttpProxyAgentClass,
    };
  } catch {
    // not a literal: bundlers (the CLIs are bundled) must not pull the whole package in for a fallback
    const name = 'undici';
    const full = require(name) as typeof import('undici');
    loaded = { Agent: full.Agent, buildConnector: full.buildConnector, EnvHttpProxyAgent: () => full.EnvHttpProxyAgent };
  }
  return loaded;
}

/** @internal Like undici.request(url, { dispatcher, ... }). */
export function request(url: URL | string, options: {
  dispatcher: Dispatcher;
  method: Dispatcher.HttpMethod;
  headers?: Record<string, string> | undefined;
  body?: Dispatcher.DispatchOptions['body'] | undefined;
  signal?: AbortSignal | undefined;
}): Promise<Dispatcher.ResponseData> {
  const u = typeof url === 'string' ? new URL(url) : url;
  return options.dispatcher.request({
    origin: u.origin,
    path: `${u.pathname}${u.search}`,
    method: options.method,
    headers: options.headers,
    body: options.body ?? null,
    signal: options.signal,
  });
}
