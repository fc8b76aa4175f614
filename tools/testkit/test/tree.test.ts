import { chmod, chown, link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyImage, diffTrees, run, runOk, snapshotTree, tmpDir, type TmpDir } from '../src/index.js';

let dir: TmpDir;
beforeAll(async () => {
  dir = await tmpDir('testkit-tree');
});
afterAll(async () => {
  await dir.cleanup();
});

async function buildTree(root: string): Promise<void> {
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'tmp'));
  await chmod(join(root, 'tmp'), 0o1777);
  await writeFile(join(root, 'bin/su'), 'su\n');
  await chmod(join(root, 'bin/su'), 0o4755);
  await writeFile(join(root, 'bin/wall'), 'wall\n');
  await chown(join(root, 'bin/wall'), 0, 5); // chown clears setgid: chmod after
  await chmod(join(root, 'bin/wall'), 0o2755);
  await link(join(root, 'bin/su'), join(root, 'bin/su-hardlink'));
  await symlink('../bin/su', join(root, 'tmp/rel'));
  await symlink('/bin/su', join(root, 'tmp/abs'));
  await runOk('mkfifo', [join(root, 'tmp/fifo')]);
  await runOk('mknod', [join(root, 'tmp/null'), 'c', '1', '3']);
  await runOk('mknod', [join(root, 'tmp/blk'), 'b', '259', '65536']);
  await writeFile(join(root, 'tmp/owned'), 'x');
  await chown(join(root, 'tmp/owned'), 1000, 1001);
  await writeFile(join(root, 'tmp/attrs'), 'x');
  await runOk('setfattr', ['-n', 'user.comment', '-v', 'hello', join(root, 'tmp/attrs')]);
}

describe('snapshotTree', () => {
  it('describes every kind of path', async () => {
    const root = join(dir.path, 'a');
    await buildTree(root);
    const t = await snapshotTree(root);
    const by = Object.fromEntries(t.map((e) => [e.path, e]));
    expect(t.map((e) => e.path)).toEqual([...t.map((e) => e.path)].sort());
    expect(by['bin']).toMatchObject({ type: 'dir' });
    expect(by['bin/su']).toMatchObject({ type: 'file', mode: 0o4755, size: 3, nlink: 2 });
    expect(by['bin/su']!.hardlinkOf).toBeUndefined();
    expect(by['bin/su-hardlink']).toMatchObject({ type: 'file', hardlinkOf: 'bin/su', sha256: by['bin/su']!.sha256 });
    expect(by['bin/wall']).toMatchObject({ mode: 0o2755, gid: 5 });
    expect(by['tmp']).toMatchObject({ mode: 0o1777 });
    expect(by['tmp/rel']).toMatchObject({ type: 'symlink', linkname: '../bin/su' });
    expect(by['tmp/abs']).toMatchObject({ type: 'symlink', linkname: '/bin/su' });
    expect(by['tmp/fifo']).toMatchObject({ type: 'fifo' });
    expect(by['tmp/null']).toMatchObject({ type: 'char', rdev: { major: 1, minor: 3 } });
    expect(by['tmp/blk']).toMatchObject({ type: 'block', rdev: { major: 259, minor: 65536 } });
    expect(by['tmp/owned']).toMatchObject({ uid: 1000, gid: 1001 });
    expect(by['tmp/attrs']!.xattrs).toEqual({ 'user.comment': Buffer.from('hello').toString('hex') });
    expect(by['tmp/owned']!.xattrs).toBeUndefined();
    const sha = await run('sha256sum', [join(root, 'bin/su')]);
    expect(by['bin/su']!.sha256).toBe(sha.stdout.split(' ')[0]);
  });

  it('diffTrees reports nothing for copies and each difference otherwise', async () => {
    const a = join(dir.path, 'a');
    const b = join(dir.path, 'b');
    await runOk('cp', ['-a', a, b]);
    const same = diffTrees(await snapshotTree(a), await snapshotTree(b));
    expect(same, same.join('; ')).toEqual([]);
    await chmod(join(b, 'bin/su'), 0o755);
    await writeFile(join(b, 'tmp/extra'), 'x');
    await writeFile(join(b, 'tmp/owned'), 'y');
    await runOk('setfattr', ['-x', 'user.comment', join(b, 'tmp/attrs')]);
    const diff = diffTrees(await snapshotTree(a), await snapshotTree(b));
    expect(diff).toEqual([
      'bin/su: mode 04755 != 0755',
      'bin/su-hardlink: mode 04755 != 0755',
      'tmp/attrs: xattrs {"user.comment":"68656c6c6f"} != (none)',
      'only in b: tmp/extra (file)',
      expect.stringMatching(/^tmp\/owned: sha256 [0-9a-f]{64} != [0-9a-f]{64}$/),
    ]);
    expect(diffTrees(await snapshotTree(a), await snapshotTree(b), { ignore: ['mode', 'sha256', 'xattrs', 'mtime', 'nlink'], ignorePaths: /^tmp\/extra$/ })).toEqual([]);
  });

  it('compares a umoci rootfs with a GNU tar extraction of the same layer', async () => {
    const img = await createTinyImage(join(dir.path, 'img'), { files: { 'etc/hello': 'hi\n', 'usr/share/doc/x': 'doc\n' } });
    const bundle = join(dir.path, 'bundle');
    await runOk('umoci', ['unpack', '--image', `${img.layout}:${img.ref}`, bundle]);
    const manifest = JSON.parse((await run('skopeo', ['inspect', '--raw', img.skopeoRef])).stdout) as { layers: { digest: string }[] };
    expect(manifest.layers[0]!.digest).toBe(img.layer.digest);
    const layer = join(img.layout, 'blobs', ...img.layer.digest.split(':'));
    const tarRoot = join(dir.path, 'tar-rootfs');
    await mkdir(tarRoot);
    await runOk('tar', ['-xzpf', layer, '--numeric-owner', '--xattrs', '-C', tarRoot]);
    // compare rootfs only: umoci writes umoci.json and the mtree next to it
    expect(diffTrees(await snapshotTree(join(bundle, 'rootfs')), await snapshotTree(tarRoot))).toEqual([]);
  });
});
