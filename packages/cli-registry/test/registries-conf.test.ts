// registries.conf through the CLI: two real registries (a "mirror" and a "primary"), skopeo --registries-conf as the
// oracle for which scenarios succeed and which digest comes back.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, pushFixture, type FixtureInfo } from '@oci/fixtures';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';

const BIN = fileURLToPath(new URL('../bin/oci-registry.js', import.meta.url));
const ENV = { ...process.env, REGISTRY_AUTH_FILE: '/nonexistent/auth.json' };

describe('oci-registry --registries-conf against skopeo', () => {
  let mirror: RegistryHandle;
  let primary: RegistryHandle;
  let tmp: TmpDir;
  let hello: FixtureInfo;
  let busybox: FixtureInfo;
  beforeAll(async () => {
    [mirror, primary, tmp, hello, busybox] = await Promise.all([
      startRegistry({ mode: 'plain' }), startRegistry({ mode: 'plain' }), tmpDir('cli-regconf-'), buildFixture('hello'), buildFixture('busybox'),
    ]);
    // hello in both (different images, to tell which one answered), busybox only in the primary, a "onlymirror" only in the mirror
    await pushFixture('hello', mirror, 'lib/app', { format: 'oci' });
    await pushFixture('busybox', primary, 'lib/app', { format: 'oci' });
    await pushFixture('busybox', primary, 'lib/bb', { format: 'oci' });
    await pushFixture('hello', mirror, 'lib/onlymirror', { format: 'oci' });
  }, 120_000);
  afterAll(async () => {
    await mirror?.stop();
    await primary?.stop();
    await tmp?.cleanup();
  });

  let n = 0;
  async function both(conf: string, image: string): Promise<{ skopeo: string | number; ours: string | number; stderr: string }> {
    const file = join(tmp.path, `r${n++}.conf`);
    await writeFile(file, conf);
    const args = ['--registries-conf', file, 'inspect', '--no-tags', '--format', '{{.Digest}}', `docker://${image}`];
    const [a, b] = await Promise.all([run('skopeo', args, { env: ENV } as never), run(process.execPath, [BIN, ...args], { env: ENV } as never)]);
    return { skopeo: a.code === 0 ? a.stdout.trim() : a.code, ours: b.code === 0 ? b.stdout.trim() : b.code, stderr: b.stderr };
  }
  const mirrorTable = (extra = '') => `[[registry]]\nprefix = "example.test/lib"\nlocation = "${primary.host}/lib"\ninsecure = true\n${extra}[[registry.mirror]]\nlocation = "${mirror.host}/lib"\ninsecure = true\n`;

  it('mirrors first, the primary when the mirror lacks the image, digest-only mirrors, location rewrites', async () => {
    const cases: [string, string, string | number][] = [
      // [conf, image, the digest we expect (or a non-zero exit)]
      [mirrorTable(), 'example.test/lib/app:latest', hello.manifestDigest],
      [mirrorTable(), 'example.test/lib/bb:latest', busybox.manifestDigest],
      [mirrorTable(), 'example.test/lib/onlymirror:latest', hello.manifestDigest],
      [mirrorTable('mirror-by-digest-only = true\n'), 'example.test/lib/app:latest', busybox.manifestDigest],
      [mirrorTable('mirror-by-digest-only = true\n'), `example.test/lib/onlymirror@${hello.manifestDigest}`, hello.manifestDigest],
      [`[[registry]]\nprefix = "example.test/x"\nlocation = "${primary.host}/lib"\ninsecure = true\n`, 'example.test/x/bb:latest', busybox.manifestDigest],
    ];
    for (const [conf, image, want] of cases) {
      const r = await both(conf, image);
      expect({ image, conf, skopeo: r.skopeo }).toEqual({ image, conf, skopeo: want });
      expect({ image, conf, ours: r.ours, stderr: r.stderr }).toEqual({ image, conf, ours: want, stderr: '' });
    }
  }, 120_000);

  it('a stopped mirror falls back to the primary; blocked prefixes fail without a connection', async () => {
    const dead = await startRegistry({ mode: 'plain' });
    const deadHost = dead.host;
    await dead.stop();
    const conf = `[[registry]]\nprefix = "example.test/lib"\nlocation = "${primary.host}/lib"\ninsecure = true\n[[registry.mirror]]\nlocation = "${deadHost}/lib"\ninsecure = true\n`;
    const r = await both(conf, 'example.test/lib/bb:latest');
    expect(r.skopeo).toBe(busybox.manifestDigest);
    expect(r.ours).toBe(busybox.manifestDigest);
    const blocked = await both(`[[registry]]\nprefix = "${primary.host}/lib/bb"\nlocation = "${primary.host}/lib/bb"\nblocked = true\ninsecure = true\n`, `${primary.host}/lib/bb:latest`);
    expect(blocked.skopeo).not.toBe(busybox.manifestDigest);
    expect(blocked.ours).toBe(1);
    expect(blocked.stderr).toContain('ERR_REGISTRY_BLOCKED');
  });

  it('copy pulls through the mirror; pushes go to the named registry, insecure from the file; a bad file is a clear error', async () => {
    const file = join(tmp.path, 'copy.conf');
    await writeFile(file, `${mirrorTable()}[[registry]]\nlocation = "${primary.host}"\ninsecure = true\n`);
    const out = join(tmp.path, 'out');
    const c = await run(process.execPath, [BIN, '--registries-conf', file, 'copy', '-q', 'docker://example.test/lib/onlymirror:latest', `oci:${out}:x`], { env: ENV } as never);
    expect(c.code, c.stderr).toBe(0);
    // no --dest-tls-verify=false: registries.conf marks the primary insecure
    const p = await run(process.execPath, [BIN, '--registries-conf', file, 'copy', '-q', `oci:${out}:x`, `docker://${primary.host}/pushed/hello:1`], { env: ENV } as never);
    expect(p.code, p.stderr).toBe(0);
    expect(existsSync(join(primary.storageDir, 'docker', 'registry', 'v2', 'repositories', 'pushed', 'hello'))).toBe(true);
    await writeFile(file, '[[registry]]\nlocation = "https://example.test"\n');
    const bad = await run(process.execPath, [BIN, '--registries-conf', file, 'copy', '-q', 'docker://example.test/a:1', `oci:${join(tmp.path, 'never')}:x`], { env: ENV } as never);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ERR_REGISTRIES_CONF');
  });
});
