// The big image (debootstrapped Debian + redis, 3 layers, ~6700 paths) against umoci.
// Slow: runs when OCI_TEST_SLOW=1 or when the fixture is already in the cache.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { buildFixture, cacheRoot } from '@oci/fixtures';
import { Layout } from '@oci/layout';
import { diffTrees, run, snapshotTree } from '@oci/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { unpackImage } from '../src/index.js';

const root = cacheRoot();
const cached = fs.existsSync(root) && fs.readdirSync(root).some((n) => n.startsWith('debian-redis-'));
const base = fs.mkdtempSync(join(os.tmpdir(), 'oci-unpack-debian-'));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe.runIf(process.env['OCI_TEST_SLOW'] === '1' || cached)('umoci oracle: debian-redis', () => {
  it('gives the same rootfs tree as umoci unpack', { timeout: 900_000 }, async () => {
    const fx = await buildFixture('debian-redis');
    const u = await run('umoci', ['unpack', '--image', `${fx.gzipLayout}:latest`, join(base, 'umoci')]);
    expect(u.code, u.stderr).toBe(0);
    const r = await unpackImage(await Layout.open(fx.layout), 'latest', join(base, 'ours'), { rootless: false });
    expect(r.layers.length).toBe(fx.layers.length);
    const theirs = await snapshotTree(join(base, 'umoci', 'rootfs'), { includeRoot: true });
    const ours = await snapshotTree(join(base, 'ours'), { includeRoot: true });
    expect(ours.length).toBeGreaterThan(1000);
    expect(diffTrees(theirs, ours, { ignore: ['mtime'] })).toEqual([]);
  });
});
