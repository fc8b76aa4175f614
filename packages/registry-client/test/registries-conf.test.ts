import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpDir, type TmpDir } from '@oci/testkit';
import { directAccess, findRegistry, formatReference, loadRegistriesConf, parseReference, parseRegistriesConf, pullSources, RegistryError, type RegistriesConf } from '../src/index.js';

async function conf(text: string): Promise<RegistriesConf> {
  const p = await parseRegistriesConf(text, 'test.conf');
  return { registries: p.registries, unqualifiedSearchRegistries: p.unqualifiedSearchRegistries ?? [], aliases: p.aliases, files: ['test.conf'] };
}
const sources = (c: RegistriesConf, ref: string) => pullSources(c, parseReference(ref)).map((s) => `${s.mirror ? 'M' : 'P'}${s.insecure ? '!' : ''} ${formatReference(s.reference)}`);

describe('registries.conf', () => {
  it('rewrites a prefix to its location and tries mirrors first', async () => {
    const c = await conf(`
[[registry]]
prefix = "example.com/foo"
location = "internal.example.net/bar"
insecure = true
[[registry.mirror]]
location = "mirror-a.test:5000/m"
[[registry.mirror]]
location = "mirror-b.test"
insecure = true
pull-from-mirror = "digest-only"
`);
    expect(sources(c, 'example.com/foo/app:1')).toEqual(['M mirror-a.test:5000/m/app:1', 'P! internal.example.net/bar/app:1']);
    const d = `sha256:${'a'.repeat(64)}`;
    expect(sources(c, `example.com/foo/app@${d}`)).toEqual([`M mirror-a.test:5000/m/app@${d}`, `M! mirror-b.test/app@${d}`, `P! internal.example.net/bar/app@${d}`]);
    // a name that only shares the characters of the prefix does not match
    expect(sources(c, 'example.com/foobar/app:1')).toEqual(['P example.com/foobar/app:1']);
    expect(directAccess(c, parseReference('example.com/foo/app:1'))).toMatchObject({ insecure: true, reference: { registry: 'example.com', repository: 'foo/app' } });
  });

  it('picks the longest prefix; wildcards match subdomains; mirror-by-digest-only; blocked refuses', async () => {
    const c = await conf(`
unqualified-search-registries = ["docker.io"]
[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
[[registry]]
location = "docker.io"
mirror-by-digest-only = true
[[registry.mirror]]
location = "mirror.local/hub"
[[registry]]
prefix = "docker.io/library/busybox"
location = "mirror.local/bb"
[[registry]]
prefix = "*.blocked.test"
blocked = true
`);
    expect(findRegistry(c, parseReference('busybox'))?.prefix).toBe('docker.io/library/busybox');
    expect(sources(c, 'busybox')).toEqual(['P mirror.local/bb:latest']);
    expect(sources(c, 'alpine:3')).toEqual(['P docker.io/library/alpine:3']);
    expect(sources(c, `alpine@sha256:${'b'.repeat(64)}`)[0]).toBe(`M mirror.local/hub/library/alpine@sha256:${'b'.repeat(64)}`);
    for (const r of ['a.blocked.test/x', 'deep.sub.blocked.test:5000/x/y:1']) {
      expect(() => pullSources(c, parseReference(r))).toThrow(expect.objectContaining({ code: 'ERR_REGISTRY_BLOCKED' }));
      expect(() => directAccess(c, parseReference(r))).toThrow(expect.objectContaining({ code: 'ERR_REGISTRY_BLOCKED' }));
    }
    expect(sources(c, 'blocked.test/x')).toEqual(['P blocked.test/x:latest']);
    expect(c.aliases.fedora).toBe('registry.fedoraproject.org/fedora');
  });

  it.each([
    ['not TOML', '[[registry]\nlocation = 1'],
    ['a URI scheme', '[[registry]]\nlocation = "https://example.com"'],
    ['no prefix or location', '[[registry]]\ninsecure = true'],
    ['a wildcard with a path', '[[registry]]\nprefix = "*.example.com/foo"'],
    ['a wildcard in the middle', '[[registry]]\nprefix = "example.*.com"\nlocation = "x.io"'],
    ['a wildcard with a location', '[[registry]]\nprefix = "*.example.com"\nlocation = "x.io"'],
    ['insecure not a boolean', '[[registry]]\nlocation = "x.io"\ninsecure = "yes"'],
    ['a bad pull-from-mirror', '[[registry]]\nlocation = "x.io"\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "sometimes"'],
    ['pull-from-mirror with mirror-by-digest-only', '[[registry]]\nlocation = "x.io"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "tag-only"'],
    ['conflicting insecure for one location', '[[registry]]\nprefix = "a.io/x"\nlocation = "x.io"\ninsecure = true\n[[registry]]\nprefix = "a.io/y"\nlocation = "x.io"'],
    ['the version 1 format', '[registries.search]\nregistries = ["docker.io"]'],
    ['a prefix that is no name', '[[registry]]\nprefix = "example.com/Foo"\nlocation = "x.io"'],
  ])('refuses %s with ERR_REGISTRIES_CONF', async (_name, text) => {
    await expect(parseRegistriesConf(text, '/etc/containers/registries.conf')).rejects.toMatchObject({ code: 'ERR_REGISTRIES_CONF' });
  });

  it('comments anywhere (whole lines blanked before parsing) change nothing; errors keep their line numbers', async () => {
    const text = [
      '# a comment', '  # an indented one', 'unqualified-search-registries = [', '  # inside an array', '  "a.io", # after a value', ']',
      '[[registry]]', '# between keys', 'prefix = "x.io/team" # same line', 'location = "m.io/#not-a-comment"',
    ].join('\n');
    const p = await parseRegistriesConf(text, 'c.conf');
    expect(p.unqualifiedSearchRegistries).toEqual(['a.io']);
    expect(p.registries[0]).toMatchObject({ prefix: 'x.io/team', location: 'm.io/#not-a-comment' });
    // a multi-line string is parsed as written (a line in it that starts with # is not a comment)
    const ml = await parseRegistriesConf('unqualified-search-registries = ["a.io"]\nnote = """\n# kept\n"""', 'ml.conf');
    expect(ml.unqualifiedSearchRegistries).toEqual(['a.io']);
    const err = await parseRegistriesConf('# one\n# two\n[[registry]\n', 'bad.conf').catch((e: unknown) => e as Error & { cause: Error });
    expect(err).toMatchObject({ code: 'ERR_REGISTRIES_CONF' });
    expect(err.cause.message).toMatch(/^3: {2}\[\[registry\]$/m);
  });

  it('a rewrite that makes an invalid reference is an error, not a guess', async () => {
    const c = await conf('[[registry]]\nprefix = "example.com/foo"\nlocation = "x.io/UPPER"');
    expect(() => pullSources(c, parseReference('example.com/foo/app'))).toThrow(RegistryError);
  });

  describe('files', () => {
    let tmp: TmpDir;
    beforeAll(async () => {
      tmp = await tmpDir('rc-regconf-');
    });
    afterAll(async () => {
      await tmp.cleanup();
    });

    it('reads ~/.config first, else the system file, then registries.conf.d drop-ins in name order (later prefixes win)', async () => {
      const home = join(tmp.path, 'home');
      const sys = join(tmp.path, 'etc', 'registries.conf');
      await mkdir(join(tmp.path, 'etc', 'registries.conf.d'), { recursive: true });
      await writeFile(sys, '[[registry]]\nprefix = "a.io"\nlocation = "sys.io"\n');
      await writeFile(join(tmp.path, 'etc', 'registries.conf.d', '20-b.conf'), '[[registry]]\nprefix = "a.io"\nlocation = "dropin-b.io"\n');
      await writeFile(join(tmp.path, 'etc', 'registries.conf.d', '10-a.conf'), '[[registry]]\nprefix = "a.io"\nlocation = "dropin-a.io"\n[[registry]]\nlocation = "other.io"\n');
      await writeFile(join(tmp.path, 'etc', 'registries.conf.d', 'ignored.txt'), 'not toml [');
      const c = await loadRegistriesConf({ home, env: {}, systemFile: sys });
      expect(c.registries.map((r) => `${r.prefix}=${r.location}`)).toEqual(['a.io=dropin-b.io', 'other.io=other.io']);
      await mkdir(join(home, '.config', 'containers'), { recursive: true });
      await writeFile(join(home, '.config', 'containers', 'registries.conf'), '[[registry]]\nprefix = "a.io"\nlocation = "user.io"\n');
      expect((await loadRegistriesConf({ home, env: {}, systemFile: sys })).registries.map((r) => r.location)).toEqual(['user.io']);
      expect((await loadRegistriesConf({ home, env: { CONTAINERS_REGISTRIES_CONF: sys }, systemFile: sys })).registries[0]!.location).toBe('dropin-b.io');
      await expect(loadRegistriesConf({ path: join(tmp.path, 'missing.conf') })).rejects.toMatchObject({ code: 'ERR_REGISTRIES_CONF' });
      expect((await loadRegistriesConf({ home: join(tmp.path, 'nohome'), env: {}, systemFile: join(tmp.path, 'none.conf') })).registries).toEqual([]);
    });
  });
});
