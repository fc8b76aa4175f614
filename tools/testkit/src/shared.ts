import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REGISTRY_MODES, startRegistry, type RegistryHandle, type RegistryInfo, type RegistryMode } from './registry.js';
import { TestkitError } from './errors.js';

/** Env var and provide/inject key through which tests find the shared registries. */
export const CONTROL_ENV = 'OCI_TESTKIT_CONTROL_URL';
export const PROVIDE_KEY = 'ociTestkitControlUrl';

/**
 * The run-wide registry service: an HTTP endpoint on loopback that test
 * workers ask for a registry of a mode; each mode is started on first
 * request and shared by every test file of the run. @internal
 */
export interface RegistryService {
  url: string;
  stop(): Promise<void>;
}

function toInfo(h: RegistryHandle): RegistryInfo {
  const { stop: _stop, ...info } = h;
  return info;
}

/** @internal */
export async function startRegistryService(): Promise<RegistryService> {
  const started = new Map<RegistryMode, Promise<RegistryHandle>>();
  const server: Server = createServer((req, res) => {
    const m = /^\/registry\/([a-z]+)$/.exec(req.url ?? '');
    const mode = m?.[1] as RegistryMode | undefined;
    if (req.method !== 'GET' || !mode || !REGISTRY_MODES.includes(mode)) {
      res.writeHead(404).end();
      return;
    }
    let p = started.get(mode);
    if (!p) {
      p = startRegistry({ mode });
      started.set(mode, p);
      // a failed start may be retried by the next request
      p.catch(() => started.delete(mode));
    }
    p.then(
      (h) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(toInfo(h)));
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: err instanceof Error ? err.message : String(err) }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      const handles = await Promise.allSettled(started.values());
      await Promise.all(handles.map((h) => (h.status === 'fulfilled' ? h.value.stop() : undefined)));
    },
  };
}

const local = new Map<RegistryMode, Promise<RegistryHandle>>();

async function controlUrl(): Promise<string | undefined> {
  const fromEnv = process.env[CONTROL_ENV];
  if (fromEnv) return fromEnv;
  try {
    const vitest = (await import('vitest')) as { inject?: (key: string) => unknown };
    const v = vitest.inject?.(PROVIDE_KEY);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The registry of this mode shared by the whole test run (started by the
 * globalSetup on first use). Without the globalSetup (a script, or a config
 * that did not opt in) a registry is started in this process on first use and
 * killed when the process exits. The returned stop() does nothing: the
 * registry belongs to the run.
 */
export async function getRegistry(mode: RegistryMode): Promise<RegistryHandle> {
  if (!REGISTRY_MODES.includes(mode)) throw new TestkitError('ERR_INVALID_MODE', `unknown registry mode ${String(mode)}`, { hint: `use one of ${REGISTRY_MODES.join(', ')}` });
  const url = await controlUrl();
  if (url) {
    const res = await fetch(`${url}/registry/${mode}`);
    const body = (await res.json()) as RegistryInfo | { message: string };
    if (!res.ok || !('host' in body)) {
      throw new TestkitError('ERR_REGISTRY_START', `shared ${mode} registry did not start: ${'message' in body ? body.message : res.status}`, {
        hint: 'see the registry log; is /usr/bin/docker-registry installed?',
      });
    }
    return { ...body, stop: async () => {} };
  }
  let p = local.get(mode);
  if (!p) {
    p = startRegistry({ mode });
    local.set(mode, p);
    p.catch(() => local.delete(mode));
  }
  const h = await p;
  return { ...h, stop: async () => {} };
}
