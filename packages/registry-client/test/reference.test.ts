import { describe, expect, it } from 'vitest';
import { familiarReference, formatReference, parseReference, RegistryError, apiHost } from '../src/index.js';

const D = `sha256:${'a'.repeat(64)}`;

const valid: [string, string, string?][] = [
  ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36'],
  ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['docker.io/busybox', 'docker.io/library/busybox:latest'],
  ['index.docker.io/busybox', 'docker.io/library/busybox:latest'],
  ['registry-1.docker.io/library/busybox:x', 'docker.io/library/busybox:x'],
  ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
  ['docker.io/user/app/sub', 'docker.io/user/app/sub:latest'],
  ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
  ['localhost:5000/app:v1', 'localhost:5000/app:v1'],
  ['127.0.0.1:5000/a/b/c:t', '127.0.0.1:5000/a/b/c:t'],
  ['[::1]:5000/app', '[::1]:5000/app:latest'],
  ['ghcr.io/owner/repo', 'ghcr.io/owner/repo:latest'],
  ['Example.COM/app', 'Example.COM/app:latest'],
  ['quay.io/a_b/c__d/e-f/g.h', 'quay.io/a_b/c__d/e-f/g.h:latest'],
  ['a---b', 'docker.io/library/a---b:latest'],
  [`busybox@${D}`, `docker.io/library/busybox@${D}`],
  [`busybox:1.0@${D}`, `docker.io/library/busybox:1.0@${D}`],
  [`localhost:5000/app@${D}`, `localhost:5000/app@${D}`],
  [`x/y@sha512:${'b'.repeat(128)}`, `docker.io/x/y@sha512:${'b'.repeat(128)}`],
  ['app:Tag_with.dots-1', 'docker.io/library/app:Tag_with.dots-1'],
  [`app:${'t'.repeat(128)}`, `docker.io/library/app:${'t'.repeat(128)}`],
  ['host.example:443/ns/app:_x', 'host.example:443/ns/app:_x'],
  ['a.b-c.d/e', 'a.b-c.d/e:latest'],
];

const invalid: [string, RegExp][] = [
  ['', /empty/],
  ['Busybox', /lowercase/],
  ['docker.io/Library/busybox', /lowercase/],
  ['busybox:', /tag/],
  ['busybox:-bad', /tag/],
  [`busybox:${'t'.repeat(129)}`, /tag/],
  ['busybox@sha256:abc', /digest/],
  [`busybox@sha256:${'A'.repeat(64)}`, /digest/],
  ['busybox@', /digest/],
  ['busy box', /whitespace/],
  ['docker://busybox', /transport/],
  ['/busybox', /repository/],
  ['busybox/', /repository/],
  ['a//b', /repository/],
  ['-abc', /repository/],
  ['abc-', /repository/],
  ['a..b', /repository/],
  ['a___b', /repository/],
  ['localhost:abc/app', /registry host|tag/],
  ['-host.com/app', /registry host/],
  ['host-.com/app', /registry host/],
  ['ghcr.io/', /repository/],
  ['a'.repeat(64), /image ID/],
  [`${'a'.repeat(250)}/bcdefghij`, /longer than 255/],
  [':tag', /repository/],
  ['@' + D, /repository/],
];

describe('parseReference', () => {
  it.each(valid)('%s -> %s', (input, full, familiar) => {
    const ref = parseReference(input);
    expect(formatReference(ref)).toBe(full);
    if (familiar) expect(familiarReference(ref)).toBe(familiar);
    // normalising is idempotent
    expect(formatReference(parseReference(full))).toBe(full);
  });

  it.each(invalid)('rejects %j', (input, why) => {
    let err: unknown;
    try {
      parseReference(input);
    } catch (e) {
      err = e;
    }
    expect(RegistryError.is(err, 'ERR_INVALID_REFERENCE')).toBe(true);
    expect((err as Error).message).toMatch(why);
    expect((err as RegistryError).hint).toBeTruthy();
  });

  it('keeps tag and digest and splits fields', () => {
    const r = parseReference(`localhost:5000/ns/app:v1@${D}`);
    expect(r).toEqual({ registry: 'localhost:5000', repository: 'ns/app', tag: 'v1', digest: D });
  });

  it('leaves the tag out when asked', () => {
    expect(parseReference('busybox', { defaultTag: false }).tag).toBeUndefined();
  });

  it('maps docker.io to its API host', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('localhost:5000')).toBe('localhost:5000');
  });
});
