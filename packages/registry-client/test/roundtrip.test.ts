import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture } from '@oci/fixtures';
import { Layout } from '@oci/layout';
import { startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';
import { copyImage, layoutDestination, layoutSource, parseReference, registryDestination, registrySource, RegistryClient, type LayoutLike } from '../src/index.js';
import { clientOptions, layoutBlobs } from './helpers.js';

const asLayout = (l: Layout): LayoutLike => l; // a Layout is a LayoutLike (no cast)
const FIXTURES = ['hello', 'busybox', 'tricky'] as const;

describe.each(['htpasswd', 'tls', 'token'] as const)('fixture round trips through the real registry (%s)', (mode) => {
  let reg: RegistryHandle;
  let client: RegistryClient;
  let tmp: TmpDir;
  beforeAll(async () => {
    [reg, tmp] = await Promise.all([startRegistry({ mode }), tmpDir(`rc-rt-${mode}-`)]);
    client = new RegistryClient(clientOptions(reg));
  });
  afterAll(async () => {
    await client?.close();
    await reg?.stop();
    await tmp?.cleanup();
  });

  it.each(FIXTURES)('%s: layout -> registry -> new layout keeps every digest (image and index)', async (name) => {
    const fx = await buildFixture(name);
    for (const [layoutDir, all] of [[fx.layout, false], [fx.indexLayout, true]] as const) {
      const ref = parseReference(`${reg.host}/rt/${name}:${all ? 'index' : 'image'}`);
      const src = layoutSource(asLayout(await Layout.open(layoutDir)), 'latest');
      const pushed = await copyImage(src, registryDestination(client, ref), { all });
      const out = join(tmp.path, `${name}-${all}`);
      const pulled = await copyImage(registrySource(client, ref), layoutDestination(asLayout(await Layout.init(out)), 'latest'), { all });
      expect(pulled.digest).toBe(pushed.digest);
      const orig = await layoutBlobs(layoutDir);
      const back = await layoutBlobs(out);
      for (const [k, v] of back) expect(v.equals(orig.get(k)!), k).toBe(true);
      if (!all) expect(pushed.digest).toBe(fx.manifestDigest);
    }
  });
});
