import { basicAuthHeader, type RegistryInfo } from './registry.js';
import { TestkitError } from './errors.js';

/** Which credentials: the main user (default), the pull-only reader (token mode), none, or explicit ones. */
export type Credentials = 'user' | 'reader' | 'none' | { username: string; password: string };

function pick(registry: RegistryInfo, creds: Credentials): { username: string; password: string } | undefined {
  if (creds === 'none') return undefined;
  if (typeof creds === 'object') return creds;
  if (creds === 'reader') {
    return registry.readerUsername && registry.readerPassword ? { username: registry.readerUsername, password: registry.readerPassword } : undefined;
  }
  return registry.username && registry.password ? { username: registry.username, password: registry.password } : undefined;
}

/**
 * skopeo flags to reach this registry as source ('src'), destination ('dest')
 * or for inspect/list-tags/delete ('' — no prefix): TLS verification or the
 * cert dir, and credentials (`--creds` or `--no-creds`).
 */
export function skopeoFlags(registry: RegistryInfo, direction: 'src' | 'dest' | '', creds: Credentials = 'user'): string[] {
  const p = direction === '' ? '--' : `--${direction}-`;
  const flags: string[] = [];
  if (registry.tls && registry.certDir) flags.push(`${p}cert-dir=${registry.certDir}`);
  else flags.push(`${p}tls-verify=false`);
  const c = registry.mode === 'htpasswd' || registry.mode === 'token' ? pick(registry, creds) : undefined;
  if (c) flags.push(`${p}creds=${c.username}:${c.password}`);
  else flags.push(`${p}no-creds`);
  return flags;
}

/**
 * The Authorization header value a client would send for `scope` (e.g.
 * `repository:NAME:pull,push`): Basic for htpasswd, a Bearer token fetched
 * from the token server for token mode, undefined for plain/tls or creds 'none'
 * in htpasswd mode. Rejects when the token server refuses the credentials.
 */
export async function authorization(registry: RegistryInfo, scope?: string, creds: Credentials = 'user'): Promise<string | undefined> {
  const c = pick(registry, creds);
  if (registry.mode === 'htpasswd') return c ? basicAuthHeader(c.username, c.password) : undefined;
  if (registry.mode !== 'token' || !registry.tokenServer) return undefined;
  const u = new URL(registry.tokenServer.realm);
  u.searchParams.set('service', registry.tokenServer.service);
  if (scope) u.searchParams.set('scope', scope);
  const res = await fetch(u, c ? { headers: { authorization: basicAuthHeader(c.username, c.password) } } : {});
  if (!res.ok) {
    await res.body?.cancel();
    throw new TestkitError('ERR_UNAUTHORIZED', `token server answered ${res.status}`, { hint: 'check the credentials passed to authorization()' });
  }
  const body = (await res.json()) as { token: string };
  return `Bearer ${body.token}`;
}
