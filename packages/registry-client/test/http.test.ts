import { describe, expect, it } from 'vitest';
import { nextLink, parseChallenges, parseRetryAfter, redact, RegistryError } from '../src/index.js';

describe('parseChallenges', () => {
  it('parses a Bearer challenge with quoted params', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'))
      .toEqual([{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } }]);
  });
  it('parses several challenges in one header and in several headers', () => {
    const c = parseChallenges(['Basic realm="a, b", Bearer realm="https://x/token", scope="repository:a:pull,push"', 'Negotiate']);
    expect(c.map((x) => x.scheme)).toEqual(['basic', 'bearer', 'negotiate']);
    expect(c[0]!.params.realm).toBe('a, b');
    expect(c[1]!.params.scope).toBe('repository:a:pull,push');
  });
  it('handles escapes, token values, odd spacing and case', () => {
    const c = parseChallenges('BEARER  Realm = "r\\"q" , Service=svc ,error="insufficient_scope"');
    expect(c).toEqual([{ scheme: 'bearer', params: { realm: 'r"q', service: 'svc', error: 'insufficient_scope' } }]);
  });
  it('parses token68', () => {
    expect(parseChallenges('Negotiate abc123==')[0]).toMatchObject({ scheme: 'negotiate', token68: 'abc123==' });
  });
  it('returns nothing for nothing', () => {
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
  });
});

describe('nextLink', () => {
  it('finds rel=next', () => {
    expect(nextLink('</v2/a/tags/list?last=b&n=1>; rel="next"')).toBe('/v2/a/tags/list?last=b&n=1');
    expect(nextLink('<https://x/p?a=1>; rel="prev", <https://x/q?n=2>; rel=next')).toBe('https://x/q?n=2');
    expect(nextLink(undefined)).toBeUndefined();
    expect(nextLink('<x>; rel="prev"')).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('redaction', () => {
  it('removes credentials from messages', () => {
    expect(redact('GET https://user:secret@host/v2/ with Authorization: Basic dXNlcjpzZWNyZXQ=')).toBe('GET https://***@host/v2/ with Authorization: Basic ***');
    expect(redact('Bearer eyJhbGciOi.x.y')).toBe('Bearer ***');
    expect(redact('https://h/token?access_token=abc&x=1')).toBe('https://h/token?access_token=***&x=1');
    const e = new RegistryError('ERR_X', 'failed for https://u:p@h/', { hint: 'try Basic Zm9vOmJhcg==' });
    expect(e.message).not.toContain('u:p');
    expect(e.hint).not.toContain('Zm9v');
    expect(RegistryError.is(e, 'ERR_X')).toBe(true);
    expect(RegistryError.is(new Error('x'))).toBe(false);
  });
});

describe('copy planning (pure parts)', () => {
  it('skips non-distributable layers that live at their urls', async () => {
    const { applyCopy } = await import('../src/index.js');
    const layer = { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: `sha256:${'1'.repeat(64)}`, size: 5, urls: ['https://example.invalid/l'] };
    const manifest = { bytes: Buffer.from('{}'), mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'2'.repeat(64)}` };
    const written: string[] = [];
    const res = await applyCopy({ images: [{ source: manifest, target: manifest, blobs: [layer], converted: false }], root: manifest, blobs: [layer] },
      { name: 'src', getRoot: async () => manifest, getManifest: async () => manifest, getBlob: async () => { throw new Error('must not fetch'); } },
      { name: 'dst', acceptsDockerMediaTypes: true, hasBlob: async () => false, putBlob: async () => 'uploaded', putManifest: async (m) => { written.push(m.digest); } });
    expect(res.blobs).toEqual([{ digest: layer.digest, size: 5, outcome: 'skipped' }]);
    expect(written).toEqual([manifest.digest]);
  });
});
