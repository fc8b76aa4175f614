import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';
import {
  authFileSearchPath, defaultAuthFile, findCredentials, parseReference, readAuthFile, RegistryClient, RegistryError,
  removeCredentials, storeCredentials, storedLogin,
} from '../src/index.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('credentials from auth files', () => {
  let tmp: TmpDir;
  beforeAll(async () => {
    tmp = await tmpDir('rc-creds-');
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });

  it('searches the files podman and skopeo search, in their order', () => {
    const env = { XDG_RUNTIME_DIR: '/run/user/7', HOME: '/home/u' };
    expect(authFileSearchPath({ env })).toEqual([
      '/run/user/7/containers/auth.json', '/home/u/.config/containers/auth.json', '/home/u/.docker/config.json',
    ]);
    expect(authFileSearchPath({ env: { ...env, REGISTRY_AUTH_FILE: '/x.json' } })[0]).toBe('/x.json');
    expect(authFileSearchPath({ authfile: '/only.json', env })).toEqual(['/only.json']);
    expect(defaultAuthFile({ XDG_RUNTIME_DIR: '/run/user/7' })).toBe('/run/user/7/containers/auth.json');
  });

  it('finds credentials by most specific key, legacy docker keys and docker.io aliases', async () => {
    const home = join(tmp.path, 'home1');
    await mkdir(join(home, '.docker'), { recursive: true });
    await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
        'quay.io': { auth: b64('q:1') },
        'quay.io/org': { auth: b64('q:org') },
        'http://old.example:5000/v2/': { auth: b64('old:pw:with:colons') },
      },
    }));
    const env = { HOME: home };
    expect(await findCredentials('docker.io', 'library/busybox', { env, home })).toEqual({ username: 'hubuser', password: 'hubpass' });
    expect(await findCredentials('quay.io', 'org/app', { env, home })).toEqual({ username: 'q', password: 'org' });
    expect(await findCredentials('quay.io', 'other/app', { env, home })).toEqual({ username: 'q', password: '1' });
    expect(await findCredentials('old.example:5000', undefined, { env, home })).toEqual({ username: 'old', password: 'pw:with:colons' });
    expect(await findCredentials('nowhere.example', undefined, { env, home })).toBeUndefined();
  });

  it('runs docker-credential helpers (credHelpers and credsStore)', async () => {
    const bin = join(tmp.path, 'bin');
    await mkdir(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-oci-test');
    await writeFile(helper, '#!/bin/sh\nread server\nif [ "$server" = "helped.example" ]; then echo \'{"ServerURL":"helped.example","Username":"hu","Secret":"hs"}\'; else echo "credentials not found in native keychain"; exit 1; fi\n');
    await chmod(helper, 0o755);
    const file = join(tmp.path, 'helpers.json');
    await writeFile(file, JSON.stringify({ credHelpers: { 'helped.example': 'oci-test' }, credsStore: 'oci-test' }));
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath}`;
    try {
      expect(await findCredentials('helped.example', undefined, { authfile: file })).toEqual({ username: 'hu', password: 'hs' });
      expect(await findCredentials('other.example', undefined, { authfile: file })).toBeUndefined();
    } finally {
      process.env.PATH = oldPath;
    }
  });

  it('writes, reads and removes logins in the format skopeo reads', async () => {
    const file = join(tmp.path, 'rt', 'auth.json');
    await storeCredentials(file, 'reg.example:5000', { username: 'me', password: 's3cret' });
    await storeCredentials(file, 'other.example', { username: 'you', password: 'x' });
    const doc = JSON.parse(await readFile(file, 'utf8'));
    expect(doc.auths['reg.example:5000']).toEqual({ auth: b64('me:s3cret') });
    expect(await storedLogin(file, 'reg.example:5000')).toBe('me');
    const sk = await run('skopeo', ['login', '--get-login', `--authfile=${file}`, 'reg.example:5000']);
    expect(sk.stdout.trim()).toBe('me');
    expect(await removeCredentials(file, 'reg.example:5000')).toBe(true);
    expect(await removeCredentials(file, 'reg.example:5000')).toBe(false);
    expect(await storedLogin(file, 'other.example')).toBe('you');
  });

  it('rejects a malformed auth file with a clear code', async () => {
    const file = join(tmp.path, 'bad.json');
    await writeFile(file, '{not json');
    const err = await readAuthFile(file).catch((e: unknown) => e);
    expect(RegistryError.is(err, 'ERR_INVALID_AUTH_FILE')).toBe(true);
    expect(await readAuthFile(join(tmp.path, 'missing.json'))).toEqual({});
  });
});

describe('TLS', () => {
  let reg: RegistryHandle;
  let tmp: TmpDir;
  beforeAll(async () => {
    [reg, tmp] = await Promise.all([startRegistry({ mode: 'tls' }), tmpDir('rc-tls-')]);
  });
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  it('refuses an unknown CA by default with ERR_TLS and a hint', async () => {
    const c = new RegistryClient({ certsDirs: [], retries: 0 });
    try {
      const err = await c.ping(reg.host).catch((e: unknown) => e);
      expect(RegistryError.is(err, 'ERR_TLS')).toBe(true);
      expect((err as RegistryError).hint).toMatch(/certs\.d/);
    } finally {
      await c.close();
    }
  });

  it('trusts CA certificates from a certs.d/HOST directory', async () => {
    const certs = join(tmp.path, 'certs.d');
    await mkdir(join(certs, reg.host), { recursive: true });
    await writeFile(join(certs, reg.host, 'ca.crt'), await readFile(reg.caFile!));
    const c = new RegistryClient({ certsDirs: [join(tmp.path, 'empty'), certs] });
    try {
      await c.ping(reg.host);
      expect(await c.headManifest(parseReference(`${reg.host}/none/x:y`))).toBeUndefined();
    } finally {
      await c.close();
    }
  });

  it('skips verification when told to (tlsVerify false)', async () => {
    const c = new RegistryClient({ certsDirs: [], tlsVerify: false });
    try {
      await c.ping(reg.host);
    } finally {
      await c.close();
    }
  });
});
