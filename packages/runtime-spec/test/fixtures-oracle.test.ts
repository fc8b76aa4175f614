// The project's fixture images (built by @oci/fixtures with GNU tar, never by our code), unpacked by umoci:
// our conversion of each image config must give the process fields umoci writes.
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSpec, imageConfigToSpec, validateSpec, type ImageConfigLike, type Spec } from '../src/index.js';
import { officialErrors, officialSchemas } from './helpers/official.js';
import { cleanup, has, sh, tmp } from './helpers/tmp.js';

afterAll(cleanup);

const enabled = has('umoci') && process.geteuid?.() === 0;

type Fixtures = typeof import('@oci/fixtures');
/** @oci/fixtures resolves to its dist/: skip (rather than fail) when the tool has not been built. */
async function fixtures(ctx: { skip: (note?: string) => void }): Promise<Fixtures> {
  try {
    return await import('@oci/fixtures');
  } catch {
    ctx.skip('@oci/fixtures is not built (pnpm --filter @oci/fixtures build)');
    throw new Error('unreachable');
  }
}

function configOf(layout: string, ref: string): ImageConfigLike {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref)!;
  const blob = (d: string): unknown => JSON.parse(readFileSync(join(layout, 'blobs', ...d.split(':')), 'utf8'));
  return blob((blob(desc.digest) as { config: { digest: string } }).config.digest) as ImageConfigLike;
}

function compare(layout: string, ref: string): { ours: Spec; theirs: Spec } {
  const bundle = join(tmp(), 'bundle');
  sh('umoci', ['unpack', '--image', `${layout}:${ref}`, bundle]);
  const theirs = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as Spec;
  const ours = imageConfigToSpec(configOf(layout, ref), { rootfs: join(bundle, 'rootfs') });
  expect(ours.process?.args).toEqual(theirs.process?.args);
  expect(ours.process?.env).toEqual(theirs.process?.env);
  expect(ours.process?.cwd).toEqual(theirs.process?.cwd);
  expect(ours.process?.user).toEqual(theirs.process?.user);
  expect(validateSpec(ours).errors).toEqual([]);
  expect(checkSpec(ours).errors).toEqual([]);
  for (const o of officialSchemas()) expect(officialErrors(o.config, ours), o.name).toEqual([]);
  return { ours, theirs };
}

describe.skipIf(!enabled)('fixture images: imageConfigToSpec against umoci unpack', () => {
  for (const name of ['hello', 'busybox', 'tricky'] as const) it(name, async (ctx) => {
    const { buildFixture } = await fixtures(ctx);
    const f = await buildFixture(name);
    // gzipLayout: the same image with gzip layers (umoci 0.4.7 cannot read zstd ones).
    const { ours, theirs } = compare(f.gzipLayout, 'latest');
    for (const key of ['org.opencontainers.image.os', 'org.opencontainers.image.architecture']) {
      expect(ours.annotations?.[key], key).toBe(theirs.annotations?.[key]);
    }
    // umoci reformats `created`; we copy it verbatim as the conversion document says.
    expect(ours.annotations?.['org.opencontainers.image.created']).toBe(f.config.created);
  }, 120_000);

  it('busybox with named users set by umoci config', async (ctx) => {
    const { buildFixture } = await fixtures(ctx);
    const f = await buildFixture('busybox');
    const layout = join(tmp(), 'layout');
    cpSync(f.layout, layout, { recursive: true });
    const passwd = sh('sh', ['-c', `umoci unpack --image ${layout}:latest ${join(layout, '..', 'peek')} >/dev/null && cat ${join(layout, '..', 'peek', 'rootfs', 'etc', 'passwd')} 2>/dev/null || true`]);
    const users = passwd.split('\n').map((l) => l.split(':')[0]).filter((u): u is string => !!u);
    expect(users).toEqual(expect.arrayContaining(['root', 'nobody']));
    const tags: string[] = [];
    for (const user of ['root', '0:0', ...users.slice(0, 3), '1234:5678']) {
      const tag = `u${tags.length}`;
      sh('umoci', ['config', '--image', `${layout}:latest`, '--tag', tag, '--config.user', user, '--config.workingdir', '/tmp']);
      tags.push(tag);
    }
    for (const tag of tags) compare(layout, tag);
    // A group the image does not have: umoci refuses, so do we.
    sh('umoci', ['config', '--image', `${layout}:latest`, '--tag', 'bad', '--config.user', 'nobody:nogroup']);
    expect(() => sh('umoci', ['unpack', '--image', `${layout}:bad`, join(tmp(), 'b')])).toThrow();
    expect(() => imageConfigToSpec(configOf(layout, 'bad'), { rootfs: join(layout, '..', 'peek', 'rootfs') })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_USER' }),
    );
  }, 120_000);
});
