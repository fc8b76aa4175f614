import { describe, expect, it } from 'vitest';
import { basicAuthHeader, getRegistry, startRegistry } from '../src/index.js';

function claims(token: string): { access: { type: string; name: string; actions: string[] }[]; sub: string; aud: string; iss: string } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}
function header(token: string): { alg: string; x5c: string[] } {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'));
}

async function getToken(realm: string, service: string, scope: string, authorization?: string): Promise<Response> {
  const u = new URL(realm);
  u.searchParams.set('service', service);
  u.searchParams.set('scope', scope);
  return fetch(u, authorization ? { headers: { authorization } } : {});
}

describe('token server', () => {
  it('grants the user what it asks, the reader pull only, anonymous pull only', async () => {
    const r = await getRegistry('token');
    const ts = r.tokenServer!;
    const scope = 'repository:tk/scopes:pull,push';

    const user = await getToken(ts.realm, ts.service, scope, basicAuthHeader(r.username!, r.password!));
    expect(user.status).toBe(200);
    const body = (await user.json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(body.issued_at))).toBe(false);
    expect(header(body.token).alg).toBe('ES256');
    expect(header(body.token).x5c).toHaveLength(1);
    expect(claims(body.token)).toMatchObject({ sub: r.username, aud: ts.service, iss: ts.issuer, access: [{ type: 'repository', name: 'tk/scopes', actions: ['pull', 'push'] }] });

    const reader = await getToken(ts.realm, ts.service, scope, basicAuthHeader(r.readerUsername!, r.readerPassword!));
    expect(claims(((await reader.json()) as { token: string }).token).access).toEqual([{ type: 'repository', name: 'tk/scopes', actions: ['pull'] }]);

    const anon = await getToken(ts.realm, ts.service, scope);
    expect(claims(((await anon.json()) as { token: string }).token).access).toEqual([{ type: 'repository', name: 'tk/scopes', actions: ['pull'] }]);
  });

  it('answers 401 to wrong credentials', async () => {
    const r = await getRegistry('token');
    const res = await getToken(r.tokenServer!.realm, r.tokenServer!.service, 'repository:x:pull', basicAuthHeader(r.username!, 'wrong'));
    expect(res.status).toBe(401);
    const unknown = await getToken(r.tokenServer!.realm, r.tokenServer!.service, 'repository:x:pull', basicAuthHeader('nobody', 'x'));
    expect(unknown.status).toBe(401);
  });

  it('tokens are accepted by the registry only within their scope', async () => {
    const r = await getRegistry('token');
    const ts = r.tokenServer!;
    const readerTok = ((await (await getToken(ts.realm, ts.service, 'repository:tk/scoped:pull,push', basicAuthHeader(r.readerUsername!, r.readerPassword!))).json()) as { token: string }).token;
    // pull scope: reading is allowed (404: nothing there yet), starting an upload is not.
    const read = await fetch(`${r.url}/v2/tk/scoped/tags/list`, { headers: { authorization: `Bearer ${readerTok}` } });
    expect(read.status).toBe(404);
    const upload = await fetch(`${r.url}/v2/tk/scoped/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${readerTok}` } });
    expect(upload.status).toBe(401);
    // distribution lists the actions in map order: pull,push or push,pull
    expect(upload.headers.get('www-authenticate')).toMatch(/scope="repository:tk\/scoped:(pull,push|push,pull)"/);
    expect(upload.headers.get('www-authenticate')).toContain('error="insufficient_scope"');

    const userTok = ((await (await getToken(ts.realm, ts.service, 'repository:tk/scoped:pull,push', r.basicAuth)).json()) as { token: string }).token;
    const upload2 = await fetch(`${r.url}/v2/tk/scoped/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${userTok}` } });
    expect(upload2.status).toBe(202);
    // a token for another repository does not open this one
    const other = await fetch(`${r.url}/v2/tk/elsewhere/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${userTok}` } });
    expect(other.status).toBe(401);
  });

  it('records requests (also over HTTP) and supports the OAuth2 POST form', async () => {
    const r = await getRegistry('token');
    const ts = r.tokenServer!;
    const post = await fetch(ts.realm, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: r.username!, password: r.password!, service: ts.service, scope: 'repository:tk/post:pull', client_id: 'testkit', access_type: 'offline' }),
    });
    expect(post.status).toBe(200);
    const pb = (await post.json()) as { token: string; refresh_token: string };
    expect(pb.refresh_token).toBeTruthy();
    const refreshed = await fetch(ts.realm, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: pb.refresh_token, service: ts.service, scope: 'repository:tk/post:push' }),
    });
    expect(claims(((await refreshed.json()) as { token: string }).token).access[0]!.actions).toEqual(['push']);
    const log = (await (await fetch(ts.requestsUrl)).json()) as { user: string | null; scopes: string[]; method: string }[];
    expect(log.some((e) => e.method === 'POST' && e.user === r.username && e.scopes.includes('repository:tk/post:pull'))).toBe(true);
  });

  it("anonymous: 'none' refuses requests without credentials", async () => {
    const r = await startRegistry({ mode: 'token', anonymous: 'none' });
    try {
      const res = await getToken(r.tokenServer!.realm, r.tokenServer!.service, 'repository:x:pull');
      expect(res.status).toBe(401);
    } finally {
      await r.stop();
    }
  });
});

describe('helpers', () => {
  it('authorization() fetches scoped Bearer tokens; skopeoFlags() builds working flags', async () => {
    const { authorization, skopeoFlags, run, createTinyImage, tmpDir } = await import('../src/index.js');
    const r = await getRegistry('token');
    const bearer = await authorization(r, 'repository:tk/helpers:pull,push');
    expect(bearer).toMatch(/^Bearer /);
    const res = await fetch(`${r.url}/v2/tk/helpers/blobs/uploads/`, { method: 'POST', headers: { authorization: bearer! } });
    expect(res.status).toBe(202);
    await expect(authorization(r, 'repository:x:pull', { username: r.username!, password: 'wrong' })).rejects.toThrow(/401/);
    const dir = await tmpDir('testkit-helpers');
    const img = await createTinyImage(dir.path);
    for (const mode of ['plain', 'htpasswd', 'tls', 'token'] as const) {
      const reg = await getRegistry(mode);
      const cp = await run('skopeo', ['copy', '--quiet', ...skopeoFlags(reg, 'dest'), img.skopeoRef, `docker://${reg.host}/tk/helpers:${mode}`], { env: { REGISTRY_AUTH_FILE: '/nonexistent' } });
      expect(cp.stderr).toBe('');
      const tags = await run('skopeo', ['list-tags', ...skopeoFlags(reg, '', 'reader'), `docker://${reg.host}/tk/helpers`], { env: { REGISTRY_AUTH_FILE: '/nonexistent' } });
      expect(tags.code).toBe(mode === 'htpasswd' ? 1 : 0); // htpasswd has no reader: --no-creds is refused
      if (mode !== 'htpasswd') expect(JSON.parse(tags.stdout).Tags).toContain(mode);
    }
    await dir.cleanup();
  });
});
