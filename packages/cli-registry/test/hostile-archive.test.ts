// A hostile oci-archive: (a tar of an OCI layout). Extraction never writes outside its temp dir
// (a canary beside it stays untouched), removes the temp dir on every failure, and fails with a
// stable code; writing an archive goes through a temp file + rename.
import { execFileSync } from 'node:child_process';
import { cp, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { pack, type Headers } from 'tar-stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildFixture, type FixtureInfo } from '@oci/fixtures';
import { run, tmpDir, type TmpDir } from '@oci/testkit';
import { archiveWorkspace, extractArchive } from '../src/archive.js';

const BIN = fileURLToPath(new URL('../bin/oci-registry.js', import.meta.url));

type Entry = Headers & { data?: Buffer | string };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const { data, ...h } of entries) {
    await new Promise<void>((resolve, reject) => {
      p.entry({ mode: 0o644, mtime: new Date(0), ...h }, data ?? (h.type === undefined || h.type === 'file' ? '' : undefined), (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

// a minimal well-formed layout (the extractor checks the shape, not the image)
const LAYOUT: Entry[] = [
  { name: './', type: 'directory', mode: 0o755 },
  { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
  { name: 'index.json', data: '{"schemaVersion":2,"manifests":[]}' },
  { name: 'blobs/', type: 'directory', mode: 0o755 },
  { name: 'blobs/sha256/', type: 'directory', mode: 0o755 },
];

describe('oci-archive: extraction of hostile archives', () => {
  let tmp: TmpDir;
  let n = 0;
  let parent: string; // TMPDIR of the extraction: holds only the canary, the archive, and (briefly) oci-archive-*
  let canary: string;
  let oldTmp: string | undefined;
  let hello: FixtureInfo;

  beforeAll(async () => {
    [tmp, hello] = await Promise.all([tmpDir('cli-hostile-archive-'), buildFixture('hello')]);
    oldTmp = process.env.TMPDIR;
  });
  afterAll(async () => {
    if (oldTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = oldTmp;
    await tmp?.cleanup();
  });
  beforeEach(async () => {
    parent = join(tmp.path, `case-${++n}`);
    await mkdir(parent, { recursive: true });
    canary = join(parent, 'canary');
    await writeFile(canary, 'canary\n');
    process.env.TMPDIR = parent; // os.tmpdir(): the extraction dir is parent/oci-archive-XXXX
  });

  async function archive(entries: Entry[] | Buffer, name = 'a.tar'): Promise<string> {
    const file = join(parent, name);
    await writeFile(file, Buffer.isBuffer(entries) ? entries : await tarOf(entries));
    return file;
  }

  /** The attack failed with `code`, the canary is intact, nothing new beside it, the temp dir is gone. */
  async function refused(file: string, code: string, limits?: Parameters<typeof extractArchive>[1], extra: string[] = []): Promise<void> {
    await expect(extractArchive(file, limits)).rejects.toMatchObject({ code, hint: expect.any(String) });
    expect(await readFile(canary, 'utf8')).toBe('canary\n');
    const expected = ['canary', ...extra, ...(file === join(parent, 'a.tar') ? ['a.tar'] : [])];
    expect((await readdir(parent)).sort()).toEqual(expected.sort());
  }

  it('a good archive extracts, plain and gzip\'ed, and remove() cleans up (control)', async () => {
    const tar = await tarOf([...LAYOUT, { name: 'blobs/sha256/aa', data: 'x' }]);
    for (const bytes of [tar, gzipSync(tar)]) {
      const file = await archive(bytes);
      const x = await extractArchive(file);
      expect((await readdir(x.dir)).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
      expect(await readFile(join(x.dir, 'blobs/sha256/aa'), 'utf8')).toBe('x');
      await x.remove();
      expect((await readdir(parent)).sort()).toEqual(['a.tar', 'canary']);
    }
  });

  it('`..` names are ERR_UNSAFE_PATH', async () => {
    for (const name of ['../canary', 'blobs/../../canary', './../canary', 'blobs/sha256/../../../x']) {
      await refused(await archive([...LAYOUT, { name, data: 'pwned' }]), 'ERR_UNSAFE_PATH');
    }
  });

  it('absolute names are ERR_UNSAFE_PATH (not written, not even stripped)', async () => {
    await refused(await archive([...LAYOUT, { name: canary, data: 'pwned' }]), 'ERR_UNSAFE_PATH');
    await refused(await archive([...LAYOUT, { name: join(parent, 'new-file'), data: 'pwned' }]), 'ERR_UNSAFE_PATH');
  });

  it('symlinks pointing out (absolute or ..) are ERR_UNSAFE_PATH', async () => {
    await refused(await archive([...LAYOUT, { name: 'evil', type: 'symlink', linkname: canary }]), 'ERR_UNSAFE_PATH');
    await refused(await archive([...LAYOUT, { name: 'evil', type: 'symlink', linkname: '../canary' }]), 'ERR_UNSAFE_PATH');
  });

  it('a symlink planted then written through (blobs -> outside, then blobs/sha256/...) is ERR_UNSAFE_PATH', async () => {
    const target = join(parent, 'x');
    await mkdir(target);
    await refused(await archive([
      { name: 'blobs', type: 'symlink', linkname: target },
      { name: 'blobs/sha256/deadbeef', data: 'pwned' },
      ...LAYOUT.slice(1, 3),
    ]), 'ERR_UNSAFE_PATH', undefined, ['x']);
    expect(await readdir(target)).toEqual([]);
  });

  it('hardlinks pointing out are ERR_UNSAFE_PATH; a hardlink to an earlier entry becomes an independent copy', async () => {
    await refused(await archive([...LAYOUT, { name: 'hl', type: 'link', linkname: '/etc/passwd' }]), 'ERR_UNSAFE_PATH');
    await refused(await archive([...LAYOUT, { name: 'hl', type: 'link', linkname: '../canary' }]), 'ERR_UNSAFE_PATH');
    await refused(await archive([...LAYOUT, { name: 'hl', type: 'link', linkname: 'not-yet-there' }]), 'ERR_UNSAFE_PATH');
    const x = await extractArchive(await archive([...LAYOUT, { name: 'blobs/sha256/aa', data: 'x' }, { name: 'blobs/sha256/bb', type: 'link', linkname: 'blobs/sha256/aa' }]));
    const st = await lstat(join(x.dir, 'blobs/sha256/bb'));
    expect(st.isFile() && st.nlink === 1).toBe(true);
    await x.remove();
  });

  it('device nodes and fifos are ERR_INVALID_ARCHIVE (nothing is mknod\'ed)', async () => {
    await refused(await archive([...LAYOUT, { name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }]), 'ERR_INVALID_ARCHIVE');
    await refused(await archive([...LAYOUT, { name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }]), 'ERR_INVALID_ARCHIVE');
    await refused(await archive([...LAYOUT, { name: 'blobs/sha256/ff', type: 'fifo' }]), 'ERR_INVALID_ARCHIVE');
  });

  it('duplicate entries are ERR_INVALID_ARCHIVE (no last-one-wins ambiguity); a file over a directory is refused', async () => {
    await refused(await archive([...LAYOUT, { name: 'index.json', data: '{"schemaVersion":2,"manifests":[{}]}' }]), 'ERR_INVALID_ARCHIVE');
    await refused(await archive([...LAYOUT, { name: 'blobs', data: 'file over dir' }]), 'ERR_INVALID_ARCHIVE');
    await refused(await archive([{ name: 'blobs', data: 'file' }, { name: 'blobs/sha256/aa', data: 'x' }, ...LAYOUT.slice(1, 3)]), 'ERR_UNSAFE_PATH');
  });

  it('entry counts and total sizes are bounded: ERR_TOO_LARGE', async () => {
    const many: Entry[] = Array.from({ length: 60 }, (_, i) => ({ name: `blobs/sha256/d${i}/`, type: 'directory' as const }));
    await refused(await archive([...LAYOUT, ...many]), 'ERR_TOO_LARGE', { maxEntries: 50 });
    // a gzip bomb: 64 MiB of zeros in a ~64 KiB archive, limited to 1 MiB
    const bomb = gzipSync(await tarOf([...LAYOUT, { name: 'blobs/sha256/zz', data: Buffer.alloc(64 << 20) }]));
    await refused(await archive(bomb), 'ERR_TOO_LARGE', { maxBytes: 1 << 20 });
  });

  it('a header that claims more bytes than the tar holds is ERR_INVALID_ARCHIVE before anything is written', async () => {
    const tar = await tarOf([...LAYOUT, { name: 'blobs/sha256/big', data: Buffer.alloc(4096) }]);
    await refused(await archive(tar.subarray(0, tar.length - 3000)), 'ERR_INVALID_ARCHIVE');
  });

  it('a non-tar, an empty file, a truncated tar, a tar without a layout, zstd data: ERR_INVALID_ARCHIVE', async () => {
    await refused(await archive(Buffer.from('hello world\n'.repeat(100))), 'ERR_INVALID_ARCHIVE');
    await refused(await archive(Buffer.alloc(0)), 'ERR_INVALID_ARCHIVE');
    const good = await tarOf([...LAYOUT, { name: 'blobs/sha256/aa', data: Buffer.alloc(2000, 1) }]);
    await refused(await archive(good.subarray(0, 1500)), 'ERR_INVALID_ARCHIVE');
    await refused(await archive(gzipSync(good).subarray(0, 200)), 'ERR_INVALID_ARCHIVE');
    await refused(await archive([{ name: 'hello.txt', data: 'hi' }]), 'ERR_INVALID_ARCHIVE');
    await refused(await archive(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0])), 'ERR_INVALID_ARCHIVE');
  });

  it('an archive path that is a fifo is refused at once (no hang); a missing one is ERR_USAGE', async () => {
    const f = join(parent, 'a.tar');
    execFileSync('mkfifo', [f]);
    await refused(f, 'ERR_INVALID_ARCHIVE');
    await rm(f);
    await expect(extractArchive(join(parent, 'missing.tar'))).rejects.toMatchObject({ code: 'ERR_USAGE' });
  }, 10_000);

  it('the CLI maps the refusal to exit 1 with code and hint, writes no destination, leaves no temp dir', async () => {
    const file = await archive([
      { name: 'blobs', type: 'symlink', linkname: parent },
      { name: 'blobs/canary', data: 'pwned' },
    ]);
    const out = join(parent, 'out');
    const r = await run(process.execPath, [BIN, 'copy', `oci-archive:${file}`, `oci:${out}:x`], { env: { ...process.env, TMPDIR: parent } } as never);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_UNSAFE_PATH');
    expect(r.stderr).toContain('hint:');
    expect(await readFile(canary, 'utf8')).toBe('canary\n');
    expect((await readdir(parent)).filter((f) => f.startsWith('oci-archive-'))).toEqual([]);
    expect(await readdir(parent)).not.toContain('out');
  });

  it('a real image copies from a gzip\'ed archive (as skopeo accepts) to the same digest skopeo reads', async () => {
    const tar = join(parent, 'hello.tar');
    execFileSync('tar', ['-C', hello.layout, '-cf', tar, '.']);
    execFileSync('gzip', [tar]);
    const out = join(parent, 'out');
    const r = await run(process.execPath, [BIN, 'copy', '-q', `oci-archive:${tar}.gz:latest`, `oci:${out}:latest`], { env: { ...process.env, TMPDIR: parent } } as never);
    expect(r.code, r.stderr).toBe(0);
    const theirs = await run('skopeo', ['inspect', '--raw', `oci-archive:${tar}.gz:latest`]);
    expect(theirs.code, theirs.stderr).toBe(0);
    const ours = await run(process.execPath, [BIN, 'inspect', '--raw', `oci:${out}:latest`]);
    expect(ours.stdout).toBe(theirs.stdout);
    expect((await readdir(parent)).filter((f) => f.startsWith('oci-archive-'))).toEqual([]);
  });
});

describe('oci-archive: writing', () => {
  let tmp: TmpDir;
  beforeAll(async () => {
    tmp = await tmpDir('cli-archive-write-');
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });

  async function workspaceWithLayout(file: string): Promise<Awaited<ReturnType<typeof archiveWorkspace>>> {
    const ws = await archiveWorkspace(file);
    await writeFile(join(ws.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(ws.dir, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    return ws;
  }

  it('a failed commit leaves the old file (or nothing) and no temp file beside it', async () => {
    const dir = join(tmp.path, 'fail');
    await mkdir(join(dir, 'out.tar'), { recursive: true }); // rename over a directory fails after the tar is written
    const ws = await workspaceWithLayout(join(dir, 'out.tar'));
    await expect(ws.commit()).rejects.toThrow();
    await ws.remove();
    expect(await readdir(dir)).toEqual(['out.tar']);
    expect((await lstat(join(dir, 'out.tar'))).isDirectory()).toBe(true);
  });

  it('a symlink at the archive path is replaced by the archive, never written through', async () => {
    const dir = join(tmp.path, 'symlink');
    await mkdir(dir);
    await writeFile(join(dir, 'canary'), 'canary\n');
    await symlink(join(dir, 'canary'), join(dir, 'out.tar'));
    const ws = await workspaceWithLayout(join(dir, 'out.tar'));
    await ws.commit();
    await ws.remove();
    expect(await readFile(join(dir, 'canary'), 'utf8')).toBe('canary\n');
    expect((await lstat(join(dir, 'out.tar'))).isFile()).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['canary', 'out.tar']);
    // and it reads back
    const x = await extractArchive(join(dir, 'out.tar'));
    expect((await readdir(x.dir)).sort()).toEqual(['index.json', 'oci-layout']);
    await x.remove();
  });

  it('an interrupted copy (killed mid-write) leaves no archive at the destination name', async () => {
    const dir = join(tmp.path, 'killed');
    await mkdir(dir);
    const big = join(dir, 'layout');
    // a 256 MiB layout blob makes the tar write long enough to kill it in the middle
    await mkdir(join(big, 'blobs/sha256'), { recursive: true });
    await writeFile(join(big, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(big, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    execFileSync('dd', ['if=/dev/zero', `of=${join(big, 'blobs/sha256/zz')}`, 'bs=1M', 'count=256', 'status=none']);
    const script = `import { archiveWorkspace } from ${JSON.stringify(new URL('../dist/archive.js', import.meta.url).href)};
      import { cp } from 'node:fs/promises';
      const ws = await archiveWorkspace(${JSON.stringify(join(dir, 'out.tar'))});
      await cp(${JSON.stringify(big)}, ws.dir, { recursive: true });
      process.stdout.write('committing\\n');
      await ws.commit();`;
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: dir } });
    await new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const left = await readdir(dir);
    expect(left).not.toContain('out.tar'); // only a hidden .out.tar.tmp-* may remain after SIGKILL
    for (const f of left.filter((f) => f !== 'layout' && !f.startsWith('oci-archive-'))) expect(f.startsWith('.out.tar.tmp-')).toBe(true);
  }, 60_000);
});
