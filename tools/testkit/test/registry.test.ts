import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { TestkitError, basicAuthHeader, createTinyImage, getRegistry, httpRequest, run, startRegistry, tmpDir, type RegistryHandle, type TinyImage, type TmpDir } from '../src/index.js';

let dir: TmpDir;
let image: TinyImage;
const env = { REGISTRY_AUTH_FILE: '/nonexistent/auth.json' };

beforeAll(async () => {
  dir = await tmpDir('testkit-registry');
  image = await createTinyImage(dir.path);
});
afterAll(async () => {
  await dir.cleanup();
});

function skopeoCopy(dest: string, flags: string[]) {
  return run('skopeo', ['copy', '--quiet', ...flags, image.skopeoRef, `docker://${dest}`], { env, timeoutMs: 60_000 });
}
function skopeoInspect(ref: string, flags: string[]) {
  return run('skopeo', ['inspect', '--raw', ...flags, `docker://${ref}`], { env, timeoutMs: 60_000 });
}

describe('plain', () => {
  it('accepts a push and serves it back', async () => {
    const r = await getRegistry('plain');
    expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const push = await skopeoCopy(`${r.host}/tk/plain:v1`, ['--dest-tls-verify=false']);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const res = await fetch(`${r.url}/v2/tk/plain/tags/list`);
    expect(await res.json()).toEqual({ name: 'tk/plain', tags: ['v1'] });
  });
});

describe('htpasswd', () => {
  it('accepts the right credentials and the auth file', async () => {
    const r = await getRegistry('htpasswd');
    expect(r.username && r.password && r.authFile).toBeTruthy();
    const push = await skopeoCopy(`${r.host}/tk/basic:v1`, ['--dest-tls-verify=false', `--dest-creds=${r.username}:${r.password}`]);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const inspect = await skopeoInspect(`${r.host}/tk/basic:v1`, ['--tls-verify=false', `--authfile=${r.authFile}`]);
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.stdout).schemaVersion).toBe(2);
    const res = await fetch(`${r.url}/v2/tk/basic/tags/list`, { headers: { authorization: r.basicAuth! } });
    expect(res.status).toBe(200);
  });

  it('refuses wrong and missing credentials', async () => {
    const r = await getRegistry('htpasswd');
    const push = await skopeoCopy(`${r.host}/tk/basic:bad`, ['--dest-tls-verify=false', `--dest-creds=${r.username}:wrong`]);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/unauthorized|authentication required/i);
    const res = await fetch(`${r.url}/v2/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
  });
});

describe('tls', () => {
  it('serves HTTPS with a certificate for 127.0.0.1 signed by the CA in certDir', async () => {
    const r = await getRegistry('tls');
    expect(r.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(r.caFile && existsSync(r.caFile)).toBeTruthy();
    const push = await skopeoCopy(`${r.host}/tk/tls:v1`, [`--dest-cert-dir=${r.certDir}`]);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const ca = await readFile(r.caFile!);
    const tags = await httpRequest(`${r.url}/v2/tk/tls/tags/list`, { ca });
    expect(JSON.parse(tags.body.toString())).toEqual({ name: 'tk/tls', tags: ['v1'] });
    const localhost = await httpRequest(`https://localhost:${r.port}/v2/`, { ca });
    expect(localhost.status).toBe(200);
    await expect(httpRequest(`${r.url}/v2/`)).rejects.toThrow(/certificate/i);
  });

  it('is refused by a client that does not trust the CA', async () => {
    const r = await getRegistry('tls');
    const push = await skopeoCopy(`${r.host}/tk/tls:untrusted`, []);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(/certificate/i);
  });
});

describe('token', () => {
  it('runs the Bearer flow: push with the user, pull anonymously', async () => {
    const r = await getRegistry('token');
    const challenge = await fetch(`${r.url}/v2/`);
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('www-authenticate')).toBe(`Bearer realm="${r.tokenServer!.realm}",service="${r.tokenServer!.service}"`);
    const push = await skopeoCopy(`${r.host}/tk/token:v1`, ['--dest-tls-verify=false', `--dest-creds=${r.username}:${r.password}`]);
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const pull = await skopeoInspect(`${r.host}/tk/token:v1`, ['--tls-verify=false', '--no-creds']);
    expect(pull.code).toBe(0);
    const viaAuthFile = await skopeoInspect(`${r.host}/tk/token:v1`, ['--tls-verify=false', `--authfile=${r.authFile}`]);
    expect(viaAuthFile.code).toBe(0);
  });

  it('refuses wrong credentials and gives the reader pull only', async () => {
    const r = await getRegistry('token');
    const wrong = await skopeoCopy(`${r.host}/tk/token:bad`, ['--dest-tls-verify=false', `--dest-creds=${r.username}:wrong`]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/401|unauthorized/i);
    const reader = await skopeoCopy(`${r.host}/tk/token:reader`, ['--dest-tls-verify=false', `--dest-creds=${r.readerUsername}:${r.readerPassword}`]);
    expect(reader.code).not.toBe(0);
    expect(reader.stderr).toMatch(/denied|unauthorized|authentication required/i);
    const anonymous = await skopeoCopy(`${r.host}/tk/token:anon`, ['--dest-tls-verify=false', '--dest-no-creds']);
    expect(anonymous.code).not.toBe(0);
  });
});

describe('startRegistry', () => {
  it('stops the process and removes its storage', async () => {
    const r: RegistryHandle = await startRegistry({ mode: 'plain' });
    expect(existsSync(r.storageDir)).toBe(true);
    await r.stop();
    expect(existsSync(r.storageDir)).toBe(false);
    expect(() => process.kill(r.pid, 0)).toThrow();
    await r.stop(); // idempotent
  });

  it('fails with ERR_REGISTRY_START when the registry cannot run, leaving nothing behind', async () => {
    const err = await startRegistry({ mode: 'plain', binary: '/bin/false', startTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(TestkitError.is(err, 'ERR_REGISTRY_START')).toBe(true);
    expect((err as TestkitError).hint).toMatch(/docker-registry/);
    await expect(startRegistry({ mode: 'bogus' as never })).rejects.toMatchObject({ code: 'ERR_INVALID_MODE' });
  });

  it('can serve htpasswd over TLS', async () => {
    const r = await startRegistry({ mode: 'htpasswd', tls: true, username: 'alice', password: 'secret' });
    try {
      const ca = await readFile(r.caFile!);
      const ok = await httpRequest(`${r.url}/v2/`, { ca, headers: { authorization: basicAuthHeader('alice', 'secret') } });
      expect(ok.status).toBe(200);
      const bad = await httpRequest(`${r.url}/v2/`, { ca, headers: { authorization: basicAuthHeader('alice', 'nope') } });
      expect(bad.status).toBe(401);
    } finally {
      await r.stop();
    }
  });
});
