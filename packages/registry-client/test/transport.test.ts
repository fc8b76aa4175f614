import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';
import { RegistryClient, RegistryError } from '../src/index.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));

// The CLIs start Node without NODE_EXTRA_CA_CERTS (Node would read the file at every start) and put the
// variable back in process.env: the client must read that file itself, and must keep those CAs when certs.d
// gives CAs for the host too (Node drops its process-wide extra CAs as soon as `ca` is passed).
describe('TLS trust (explicit CA lists)', () => {
  let reg: RegistryHandle;
  let tmp: TmpDir;
  let certsDir: string;
  beforeAll(async () => {
    [reg, tmp] = await Promise.all([startRegistry({ mode: 'tls' }), tmpDir('rc-transport-')]);
    // certs.d with a CA for this host that is NOT the registry's (one of Node's roots)
    certsDir = join(tmp.path, 'certs.d');
    await mkdir(join(certsDir, reg.host), { recursive: true });
    await writeFile(join(certsDir, reg.host, 'other.crt'), rootCertificates[0]!);
  });
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  it('trusts the file named by NODE_EXTRA_CA_CERTS at call time, with or without certs.d CAs for the host', async () => {
    for (const certsDirs of [[], [certsDir]]) {
      const c = new RegistryClient({ certsDirs, retries: 0, env: { NODE_EXTRA_CA_CERTS: reg.caFile! } });
      try {
        await c.ping(reg.host);
      } finally {
        await c.close();
      }
    }
  });

  it('refuses the registry when its CA is nowhere (unreadable NODE_EXTRA_CA_CERTS is ignored, as Node does)', async () => {
    const c = new RegistryClient({ certsDirs: [certsDir], retries: 0, env: { NODE_EXTRA_CA_CERTS: join(tmp.path, 'missing.pem') } });
    try {
      const err = await c.ping(reg.host).catch((e: unknown) => e);
      expect(RegistryError.is(err, 'ERR_TLS')).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('verified and unverified connections to one host in one client keep their own trust', async () => {
    const c = new RegistryClient({ certsDirs: [], retries: 0, insecureRegistries: [reg.host], env: {} });
    const v = new RegistryClient({ certsDirs: [], retries: 0, env: {} });
    try {
      await c.ping(reg.host);
      expect(RegistryError.is(await v.ping(reg.host).catch((e: unknown) => e), 'ERR_TLS')).toBe(true);
    } finally {
      await c.close();
      await v.close();
    }
  });

  // the real processes: Node started with the variable (loaded into its own store) or without it (the CLI launcher)
  for (const atStart of [true, false]) {
    it(`a child process trusts NODE_EXTRA_CA_CERTS ${atStart ? 'loaded by Node at start' : 'set after start, as the CLI launcher does'}, certs.d CAs present`, async () => {
      const script = [
        `import { RegistryClient } from ${JSON.stringify(join(pkg, 'dist/index.js'))};`,
        atStart ? '' : `process.env.NODE_EXTRA_CA_CERTS = ${JSON.stringify(reg.caFile)};`,
        `const c = new RegistryClient({ certsDirs: [${JSON.stringify(certsDir)}], retries: 0 });`,
        `try { await c.ping(${JSON.stringify(reg.host)}); console.log('ok'); } finally { await c.close(); }`,
      ].join('\n');
      const r = await run(process.execPath, ['--input-type=module', '-e', script], {
        env: { NODE_EXTRA_CA_CERTS: atStart ? reg.caFile : undefined, HTTPS_PROXY: undefined, https_proxy: undefined, HTTP_PROXY: undefined, http_proxy: undefined },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('ok');
    });
  }
});

describe('beforeUndici', () => {
  it('is called when undici first serves a host (a body, a proxy), never for the requests LeanHttp serves', async () => {
    const { Transport } = await import('../src/transport.js');
    let calls = 0;
    const t = new Transport({ env: {}, beforeUndici: () => { calls++; } });
    t.dispatcher('a.example:5000', true, 'GET');
    t.dispatcher('a.example:5000', true, 'HEAD');
    t.dispatcher('a.example:5000', true, 'DELETE');
    expect(calls).toBe(0);
    const d = t.dispatcher('a.example:5000', true, 'PUT', true);
    expect(t.dispatcher('a.example:5000', true, 'PATCH', true)).toBe(d);
    expect(calls).toBe(1);
    const proxied = new Transport({ env: { HTTPS_PROXY: 'http://127.0.0.1:9' }, beforeUndici: () => { calls++; } });
    proxied.dispatcher('b.example', false, 'GET');
    expect(calls).toBe(2);
    await Promise.all([(d as unknown as { close(): Promise<void> }).close()]);
  });
});
