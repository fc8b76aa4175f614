// umoci as the oracle: the same image unpacked by `umoci unpack` and by us gives
// the same tree (path, type, mode, owner, size, content hash, link target,
// device numbers, xattrs, hardlink groups). Bundles we create run under runc.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { buildFixture, HELLO_OUTPUT, type FixtureInfo } from '@oci/fixtures';
import { Layout } from '@oci/layout';
import { diffTrees, run, snapshotTree } from '@oci/testkit';
import Ajv04 from 'ajv-draft-04';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBundle, unpackImage } from '../src/index.js';

let base: string;
beforeAll(() => {
  base = fs.mkdtempSync(join(os.tmpdir(), 'oci-unpack-oracle-'));
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

async function umociBundle(fx: FixtureInfo, dir: string): Promise<void> {
  const r = await run('umoci', ['unpack', '--image', `${fx.gzipLayout}:latest`, dir]);
  if (r.code !== 0) throw new Error(`umoci unpack failed: ${r.stderr}`);
}

describe.each(['tricky', 'hello', 'busybox'] as const)('umoci oracle: %s', (name) => {
  it('gives the same rootfs tree as umoci unpack', { timeout: 300_000 }, async () => {
    const fx = await buildFixture(name);
    const dir = join(base, name);
    await umociBundle(fx, join(dir, 'umoci'));
    const layout = await Layout.open(fx.layout);
    await unpackImage(layout, 'latest', join(dir, 'ours'), { rootless: false });
    const theirs = await snapshotTree(join(dir, 'umoci', 'rootfs'), { includeRoot: true });
    const ours = await snapshotTree(join(dir, 'ours'), { includeRoot: true });
    expect(ours.length).toBeGreaterThan(1);
    expect(diffTrees(theirs, ours, { ignore: ['mtime'] })).toEqual([]);
    // the Docker-format and index variants unpack to the same tree
    const idx = await Layout.open(fx.indexLayout);
    await unpackImage(idx, 'latest', join(dir, 'ours-index'), { rootless: false, platform: 'linux/amd64' });
    expect(diffTrees(ours, await snapshotTree(join(dir, 'ours-index'), { includeRoot: true }), { ignore: ['mtime'] })).toEqual([]);
  });
});

describe.each(['tricky', 'busybox'] as const)('config.json like umoci: %s', (name) => {
  it('has the process fields umoci writes (args, cwd, user, env) and a valid spec', { timeout: 300_000 }, async () => {
    const fx = await buildFixture(name);
    const ours = join(base, `${name}-cfg-ours`);
    await createBundle(await Layout.open(fx.layout), 'latest', ours, { rootless: false });
    await umociBundle(fx, join(base, `${name}-cfg-umoci`));
    const a = JSON.parse(fs.readFileSync(join(ours, 'config.json'), 'utf8'));
    const b = JSON.parse(fs.readFileSync(join(base, `${name}-cfg-umoci`, 'config.json'), 'utf8'));
    expect(a.process.args).toEqual(b.process.args);
    expect(a.process.cwd).toEqual(b.process.cwd);
    expect(a.process.user.uid).toEqual(b.process.user.uid);
    expect(a.process.user.gid).toEqual(b.process.user.gid);
    expect([...a.process.env].sort()).toEqual([...b.process.env].sort());
    expect(a.process.terminal).toBe(false);
  });
});

describe('bundles run under runc', () => {
  const runc = async (bundle: string, id: string) => {
    const r = await run('runc', ['run', '-b', bundle, id], { timeoutMs: 60_000 });
    await run('runc', ['delete', '-f', id]);
    return r;
  };

  it('hello prints its message; config.json is valid against the official schema and matches umoci', { timeout: 300_000 }, async () => {
    const fx = await buildFixture('hello');
    const bundle = join(base, 'hello-bundle');
    await createBundle(await Layout.open(fx.layout), 'latest', bundle, { rootless: false });
    const r = await runc(bundle, `oci-unpack-hello-${process.pid}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(HELLO_OUTPUT.trim());

    const spec = JSON.parse(fs.readFileSync(join(bundle, 'config.json'), 'utf8'));
    // shared/ stands beside the repository; Debian's older copy of the schemas is the fallback.
    const shared = [process.env['OCI_SHARED_DIR'], join(import.meta.dirname, '../../../../shared'), '/work/shared']
      .find((d): d is string => !!d && fs.existsSync(join(d, 'oci-schemas')));
    const schemaDir = shared ? join(shared, 'oci-schemas/runtime-spec/v1.2.1') : '/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema';
    if (fs.existsSync(schemaDir)) {
      const ajv = new Ajv04({ strict: false, allErrors: true });
      for (const f of fs.readdirSync(schemaDir).filter((n) => n.endsWith('.json'))) {
        const doc = JSON.parse(fs.readFileSync(join(schemaDir, f), 'utf8'));
        ajv.addSchema(doc, f);
      }
      const validate = ajv.getSchema('config-schema.json')!;
      expect(validate(spec), JSON.stringify(validate.errors)).toBe(true);
    }

    await umociBundle(fx, join(base, 'hello-umoci'));
    const theirs = JSON.parse(fs.readFileSync(join(base, 'hello-umoci', 'config.json'), 'utf8'));
    expect(spec.process.args).toEqual(theirs.process.args);
    expect(spec.process.cwd).toEqual(theirs.process.cwd);
    expect(spec.process.user).toEqual(theirs.process.user);
    expect([...spec.process.env].sort()).toEqual([...theirs.process.env].sort());
    expect(spec.root.path).toBe('rootfs');
  });

  it('busybox runs sh -c with a pipe', { timeout: 300_000 }, async () => {
    const fx = await buildFixture('busybox');
    const bundle = join(base, 'busybox-bundle');
    await createBundle(await Layout.open(fx.layout), 'latest', bundle, { rootless: false, args: ['sh', '-c', 'echo a | tr a b'] });
    const r = await runc(bundle, `oci-unpack-busybox-${process.pid}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('b');
  });
});
