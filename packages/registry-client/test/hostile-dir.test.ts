// A hostile `dir:` directory (source or destination): every attack is refused or contained, never
// followed out of the directory, never hangs, and leaves nothing half-written.
import { execFileSync } from 'node:child_process';
import { cp, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildFixture, type FixtureInfo } from '@oci/fixtures';
import { Layout } from '@oci/layout';
import { run, tmpDir, type TmpDir } from '@oci/testkit';
import { copyImage, dirDestination, dirSource, layoutSource, type LayoutLike } from '../src/index.js';

const asLayout = (l: Layout): LayoutLike => l; // a Layout is a LayoutLike (no cast)
const hex = (d: string): string => d.slice('sha256:'.length);

describe('dir: transport against hostile directories', () => {
  let hello: FixtureInfo;
  let tmp: TmpDir;
  let n = 0;
  let src: string; // a fresh copy of the fixture's skopeo dir: per test
  let outside: string; // beside it: must stay untouched
  let canary: string;
  let manifest: { config: { digest: string; size: number }; layers: { digest: string; size: number; mediaType: string }[] };

  beforeAll(async () => {
    [hello, tmp] = await Promise.all([buildFixture('hello'), tmpDir('rc-hostile-dir-')]);
    manifest = JSON.parse(await readFile(join(hello.dockerDir, 'manifest.json'), 'utf8')) as typeof manifest;
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });
  beforeEach(async () => {
    const base = join(tmp.path, `case-${++n}`);
    src = join(base, 'src');
    outside = join(base, 'outside');
    canary = join(outside, 'canary');
    await mkdir(outside, { recursive: true });
    await writeFile(canary, 'canary\n');
    await cp(hello.dockerDir, src, { recursive: true });
  });

  async function outsideUntouched(): Promise<void> {
    expect(await readdir(outside)).toEqual(['canary']);
    expect(await readFile(canary, 'utf8')).toBe('canary\n');
  }
  const layer = (): { digest: string; size: number; mediaType: string } => manifest.layers[0]!;
  const copyOut = (source = dirSource(src)): Promise<unknown> => copyImage(source, dirDestination(join(src, '..', 'out')));

  // --- sources ---

  it('a good dir: still copies (control)', async () => {
    await copyOut();
    expect((await readFile(join(src, '..', 'out', hex(layer().digest)))).length).toBe(layer().size);
  });

  it('manifest.json that is a symlink out of the directory is ERR_UNSAFE_PATH (even to a valid manifest)', async () => {
    await cp(join(src, 'manifest.json'), join(outside, 'm.json'));
    await rm(join(src, 'manifest.json'));
    await symlink(join(outside, 'm.json'), join(src, 'manifest.json'));
    await expect(dirSource(src).getRoot()).rejects.toMatchObject({ code: 'ERR_UNSAFE_PATH' });
  });

  it('a blob that is a symlink out is ERR_UNSAFE_PATH and nothing is stored', async () => {
    const p = join(src, hex(layer().digest));
    await writeFile(canary, await readFile(p)); // even identical bytes out there are not read
    await rm(p);
    await symlink(canary, p);
    await expect(copyOut()).rejects.toMatchObject({ code: 'ERR_UNSAFE_PATH' });
    const out = await readdir(join(src, '..', 'out')).catch(() => []);
    expect(out).not.toContain(hex(layer().digest));
    expect(out.filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('manifest.json that is a fifo is refused at once (no hang)', async () => {
    await rm(join(src, 'manifest.json'));
    execFileSync('mkfifo', [join(src, 'manifest.json')]);
    const t0 = Date.now();
    await expect(dirSource(src).getRoot()).rejects.toMatchObject({ code: 'ERR_UNSAFE_PATH' });
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 10_000);

  it('a blob that is a fifo is refused at once (no hang)', async () => {
    await rm(join(src, hex(layer().digest)));
    execFileSync('mkfifo', [join(src, hex(layer().digest))]);
    await expect(dirSource(src).getBlob(layer())).rejects.toMatchObject({ code: 'ERR_UNSAFE_PATH' });
  }, 10_000);

  it('a blob that is a device node (/dev/zero\'s numbers) is ERR_UNSAFE_PATH', async () => {
    await rm(join(src, hex(layer().digest)));
    const r = await run('mknod', [join(src, hex(layer().digest)), 'c', '1', '5']);
    expect(r.code).toBe(0);
    await expect(dirSource(src).getBlob(layer())).rejects.toMatchObject({ code: 'ERR_UNSAFE_PATH' });
  });

  it('manifest.json or a blob that is a directory is ERR_UNSAFE_PATH', async () => {
    await rm(join(src, 'manifest.json'));
    await mkdir(join(src, 'manifest.json'));
    await expect(dirSource(src).getRoot()).rejects.toMatchObject({ code: 'ERR_UNSAFE_PATH' });
    await rm(join(src, hex(layer().digest)));
    await mkdir(join(src, hex(layer().digest)));
    await expect(dirSource(src).getBlob(layer())).rejects.toMatchObject({ code: 'ERR_UNSAFE_PATH' });
  });

  it('a manifest naming a blob digest like sha256:../../etc/passwd is ERR_INVALID_DIGEST, nothing opened', async () => {
    const m = structuredClone(manifest);
    m.layers[0]!.digest = 'sha256:../../../../etc/passwd';
    await writeFile(join(src, 'manifest.json'), JSON.stringify(m));
    await expect(dirSource(src).getBlob({ ...layer(), digest: 'sha256:../../../../etc/passwd' })).rejects.toMatchObject({ code: 'ERR_INVALID_DIGEST' });
    await expect(dirSource(src).getManifest({ mediaType: 'x', size: 1, digest: 'sha256:../../outside/canary' })).rejects.toMatchObject({ code: 'ERR_INVALID_DIGEST' });
    await expect(copyOut()).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_(INVALID_DIGEST|MANIFEST_INVALID)$/) });
  });

  it('sizes that lie: a manifest claiming fewer or more bytes than the blob has is ERR_SIZE_MISMATCH', async () => {
    for (const delta of [-1, 1, 1e12]) {
      const m = structuredClone(manifest);
      m.layers[0]!.size = layer().size + delta;
      await writeFile(join(src, 'manifest.json'), JSON.stringify(m));
      await expect(copyOut()).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
      await expect(dirSource(src).getBlob(m.layers[0]!)).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
    }
  });

  it('a blob whose bytes do not match its digest is ERR_DIGEST_MISMATCH', async () => {
    const p = join(src, hex(layer().digest));
    const b = await readFile(p);
    b[100] = b[100]! ^ 0xff;
    await writeFile(p, b);
    await expect(copyOut()).rejects.toMatchObject({ code: 'ERR_DIGEST_MISMATCH' });
  });

  it('an oversized or non-JSON manifest.json is ERR_TOO_LARGE / ERR_MANIFEST_INVALID', async () => {
    await writeFile(join(src, 'manifest.json'), Buffer.alloc(5 * 1024 * 1024, 0x20));
    await expect(dirSource(src).getRoot()).rejects.toMatchObject({ code: 'ERR_TOO_LARGE' });
    await writeFile(join(src, 'manifest.json'), 'not json');
    await expect(dirSource(src).getRoot()).rejects.toMatchObject({ code: 'ERR_MANIFEST_INVALID' });
  });

  // --- destinations ---

  async function copyIn(dest: string): Promise<void> {
    const layout = await Layout.open(hello.layout);
    await copyImage(layoutSource(asLayout(layout), 'latest'), dirDestination(dest));
  }

  it('a destination DIR that is a symlink to elsewhere is ERR_UNSAFE_PATH; nothing is written there', async () => {
    const dest = join(src, '..', 'dest');
    await symlink(outside, dest);
    await expect(copyIn(dest)).rejects.toMatchObject({ code: 'ERR_UNSAFE_PATH' });
    await outsideUntouched();
  });

  it('symlinks planted inside a dir: image destination are removed, never written through', async () => {
    const dest = join(src, '..', 'dest');
    await mkdir(dest);
    await writeFile(join(dest, 'version'), 'Directory Transport Version: 1.1\n');
    const layerHex = hello.layers[0]!.digest.slice('sha256:'.length);
    await symlink(canary, join(dest, 'manifest.json'));
    await symlink(canary, join(dest, layerHex));
    await symlink(outside, join(dest, 'sub'));
    await copyIn(dest);
    await outsideUntouched();
    for (const f of ['version', 'manifest.json', layerHex]) expect((await lstat(join(dest, f))).isFile()).toBe(true);
    expect(await readdir(dest)).not.toContain('sub');
    expect((await readdir(dest)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a version that is a symlink out (even to the right text) is refused, the target untouched', async () => {
    const dest = join(src, '..', 'dest');
    await mkdir(dest);
    await writeFile(canary, 'Directory Transport Version: 1.1\n');
    await symlink(canary, join(dest, 'version'));
    await expect(copyIn(dest)).rejects.toMatchObject({ code: 'ERR_UNSAFE_PATH' });
    expect(await readFile(canary, 'utf8')).toBe('Directory Transport Version: 1.1\n');
    expect((await lstat(join(dest, 'version'))).isSymbolicLink()).toBe(true);
  });

  it('a non-empty directory that is not a dir: image is ERR_DESTINATION_NOT_EMPTY and left alone (as skopeo)', async () => {
    const dest = join(src, '..', 'dest');
    await mkdir(dest);
    await writeFile(join(dest, 'important'), 'data');
    await expect(copyIn(dest)).rejects.toMatchObject({ code: 'ERR_DESTINATION_NOT_EMPTY' });
    expect(await readdir(dest)).toEqual(['important']);
  });

  it('a fifo planted at a destination name is refused or replaced, never opened (no hang); a directory there is ERR_UNSAFE_PATH', async () => {
    const dest = join(src, '..', 'dest');
    await mkdir(dest);
    execFileSync('mkfifo', [join(dest, 'version')]);
    await expect(copyIn(dest)).rejects.toMatchObject({ code: 'ERR_UNSAFE_PATH' });

    // a name squatted after the destination was prepared
    const dest2 = join(src, '..', 'dest2');
    const d = dirDestination(dest2);
    expect(await d.hasBlob(hello.layers[0]!)).toBe(false);
    execFileSync('mkfifo', [join(dest2, 'manifest.json')]);
    await mkdir(join(dest2, hello.layers[0]!.digest.slice('sha256:'.length)));
    await expect(d.hasBlob(hello.layers[0]!)).rejects.toMatchObject({ code: 'ERR_UNSAFE_PATH' });
    await d.putManifest({ bytes: Buffer.from('{}'), digest: `sha256:${'0'.repeat(64)}`, mediaType: 'x' }, { top: true } as never);
    expect((await lstat(join(dest2, 'manifest.json'))).isFile()).toBe(true);
  }, 15_000);

  it('a failed blob write leaves no temp file and no blob', async () => {
    const dest = join(src, '..', 'dest');
    const d = dirDestination(dest);
    const bytes = Buffer.from('hello');
    await expect(d.putBlob({ mediaType: 'x', size: 5, digest: `sha256:${'0'.repeat(64)}` }, async () => Readable.from([bytes])))
      .rejects.toMatchObject({ code: 'ERR_DIGEST_MISMATCH' });
    await expect(d.putBlob({ mediaType: 'x', size: 3, digest: `sha256:${'0'.repeat(64)}` }, async () => Readable.from([bytes])))
      .rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH' });
    expect((await readdir(dest)).sort()).toEqual(['version']);
  });
});
