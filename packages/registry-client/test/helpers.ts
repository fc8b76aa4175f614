import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RegistryHandle } from '@oci/testkit';
import type { RegistryClientOptions } from '../src/index.js';

export function clientOptions(reg: Pick<RegistryHandle, 'tls' | 'host' | 'caFile' | 'username' | 'password'>): RegistryClientOptions {
  const o: RegistryClientOptions = { retryBaseMs: 20, certsDirs: [] };
  if (!reg.tls) o.insecureRegistries = [reg.host];
  if (reg.caFile) o.caFile = reg.caFile;
  if (reg.username) o.credentials = { username: reg.username, password: reg.password ?? '' };
  else o.anonymous = true;
  return o;
}

/** skopeo flags to reach a testkit registry. */
export function skopeoFlags(reg: RegistryHandle, side: 'src' | 'dest'): string[] {
  const f: string[] = [];
  if (reg.certDir) f.push(`--${side}-cert-dir=${reg.certDir}`);
  else f.push(`--${side}-tls-verify=false`);
  if (reg.username) f.push(`--${side}-creds=${reg.username}:${reg.password}`);
  else f.push(`--${side}-no-creds`);
  return f;
}

/** All blobs of a layout: digest -> bytes (small fixtures only). */
export async function layoutBlobs(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const alg of await readdir(join(dir, 'blobs'))) {
    for (const hex of await readdir(join(dir, 'blobs', alg))) out.set(`${alg}:${hex}`, await readFile(join(dir, 'blobs', alg, hex)));
  }
  return out;
}

export async function indexJson(dir: string): Promise<{ manifests: { digest: string; mediaType: string; size: number; annotations?: Record<string, string> }[] }> {
  return JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
}
