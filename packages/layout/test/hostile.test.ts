// Hostile layout directories: what a stranger's `oci:DIR` can hold. Each test is named after the
// attack (or the advisory it resembles) and says whether we refuse (stable code) or contain.
import { execFileSync, spawnSync } from 'node:child_process';
import { link, mkdir, readdir, readFile, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { Layout } from '../src/index.js';
import { buildTinyImage, cleanupTempDirs, codeOf, sha256, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

async function fresh(): Promise<{ l: Layout; outside: string }> {
  const root = await tempDir();
  const l = await Layout.init(join(root, 'l'));
  const outside = join(root, 'outside');
  await mkdir(outside);
  return { l, outside };
}

function hex(d: string): string {
  return d.slice('sha256:'.length);
}

/** Rejects within `ms` (a fifo must never hang a reader). */
async function quick<T>(p: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung for ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('blobs/ and blobs/sha256 that lead outside the layout (CVE-2018-15664-style symlinked dirs)', () => {
  it('blobs -> outside: open() refuses with ERR_UNSAFE_PATH', async () => {
    const { l, outside } = await fresh();
    await rm(join(l.dir, 'blobs'), { recursive: true });
    await symlink(outside, join(l.dir, 'blobs'));
    expect(await codeOf(Layout.open(l.dir))).toBe('ERR_UNSAFE_PATH');
  });

  it('blobs/sha256 -> outside: putBlob writes nothing outside, reads and gc refuse, verify reports it', async () => {
    const { l, outside } = await fresh();
    const secret = Buffer.from('secret outside the layout');
    await writeFile(join(outside, hex(sha256(secret))), secret);
    await rm(join(l.dir, 'blobs', 'sha256'), { recursive: true });
    await symlink(outside, join(l.dir, 'blobs', 'sha256'));
    expect(await codeOf(l.putBlob(Buffer.from('x')))).toBe('ERR_UNSAFE_PATH');
    expect(await readdir(outside)).toEqual([hex(sha256(secret))]);
    expect(await codeOf(l.readBlob(sha256(secret)))).toBe('ERR_UNSAFE_PATH');
    expect(await codeOf(l.getBlob(sha256(secret)))).toBe('ERR_UNSAFE_PATH');
    expect(await codeOf(l.hasBlob(sha256(secret)))).toBe('ERR_UNSAFE_PATH');
    // an unreferenced "blob" seen through the link is never deleted by gc
    await l.gc({ includePending: true });
    expect(await readdir(outside)).toEqual([hex(sha256(secret))]);
    const v = await l.verify();
    expect(v.warnings.map((w) => w.message).join('\n')).toMatch(/blobs\/sha256/);
  });

  it('.oci-ts -> outside, blobs -> outside: putBlob refuses before making anything there', async () => {
    const { l, outside } = await fresh();
    await rm(join(l.dir, '.oci-ts'), { recursive: true, force: true });
    await symlink(outside, join(l.dir, '.oci-ts'));
    expect(await codeOf(l.putBlob(Buffer.from('x')))).toBe('ERR_UNSAFE_PATH');
    expect(await readdir(outside)).toEqual([]);
    const other = await fresh();
    await rm(join(other.l.dir, 'blobs'), { recursive: true });
    await symlink(other.outside, join(other.l.dir, 'blobs'));
    expect(await codeOf(other.l.putBlob(Buffer.from('x')))).toBe('ERR_UNSAFE_PATH');
    expect(await readdir(other.outside)).toEqual([]);
  });

  it('.oci-ts/ingest -> outside: gc never deletes the old files there, putBlob refuses', async () => {
    const { l, outside } = await fresh();
    await rm(join(l.dir, '.oci-ts'), { recursive: true, force: true });
    await mkdir(join(l.dir, '.oci-ts'));
    await symlink(outside, join(l.dir, '.oci-ts', 'ingest'));
    const victim = join(outside, 'precious.txt');
    await writeFile(victim, 'two days old');
    const old = new Date(Date.now() - 48 * 3600_000);
    await utimes(victim, old, old);
    expect(await codeOf(l.gc())).toBe('ERR_UNSAFE_PATH');
    expect(await readFile(victim, 'utf8')).toBe('two days old');
    expect(await codeOf(l.putBlob(Buffer.from('x')))).toBe('ERR_UNSAFE_PATH');
    expect(await codeOf(l.tag('v', { mediaType: 'application/octet-stream', digest: sha256('x'), size: 1 }))).toBe('ERR_UNSAFE_PATH');
  });
});

describe('blob files that are not regular files', () => {
  it('a blob that is a symlink to /etc/shadow is refused (ERR_UNSAFE_PATH) and its content never read', async () => {
    const { l } = await fresh();
    const shadow = await readFile('/etc/shadow');
    const d = sha256(shadow); // even with the "right" name
    await symlink('/etc/shadow', l.blobPath(d));
    expect(await codeOf(l.readBlob(d))).toBe('ERR_UNSAFE_PATH');
    expect(await codeOf(l.getBlob(d))).toBe('ERR_UNSAFE_PATH');
    expect(await codeOf(l.statBlob(d))).toBe('ERR_UNSAFE_PATH');
    await writeFile(join(l.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d, size: shadow.length }] }));
    const v = await l.verify();
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => p.code)).toContain('ERR_UNSAFE_PATH');
    expect(JSON.stringify(v)).not.toContain('root:');
    // gc refuses to guess what an unreadable reachable manifest references
    expect(await codeOf(l.gc())).toBe('ERR_UNSAFE_PATH');
  });

  it('a blob that is a fifo never hangs a reader: readBlob, getBlob, verify, resolve fail fast', async () => {
    const { l } = await fresh();
    const d = sha256('fifo');
    execFileSync('mkfifo', [l.blobPath(d)]);
    expect(await quick(codeOf(l.readBlob(d)))).toBe('ERR_UNSAFE_PATH');
    expect(await quick(codeOf(l.getBlob(d)))).toBe('ERR_UNSAFE_PATH');
    await writeFile(join(l.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d, size: 4, annotations: { 'org.opencontainers.image.ref.name': 'f' } }] }));
    expect(await quick(codeOf(l.resolve('f')))).toBe('ERR_UNSAFE_PATH');
    const v = await quick(l.verify());
    expect(v.problems.map((p) => p.code)).toEqual(['ERR_UNSAFE_PATH']);
  });

  it('a blob that is a symlink to /dev/zero or a device node is refused without being opened', async () => {
    const { l } = await fresh();
    const a = sha256('zero-link');
    const b = sha256('zero-node');
    await symlink('/dev/zero', l.blobPath(a));
    execFileSync('mknod', [l.blobPath(b), 'c', '1', '5']);
    expect(await quick(codeOf(l.readBlob(a, { maxSize: 1 << 30 })))).toBe('ERR_UNSAFE_PATH');
    expect(await quick(codeOf(l.readBlob(b, { maxSize: 1 << 30 })))).toBe('ERR_UNSAFE_PATH');
    expect(await quick(codeOf(l.getBlob(b)))).toBe('ERR_UNSAFE_PATH');
    // verify hashes unreferenced blob files too: never /dev/zero forever; they are strays
    const v = await quick(l.verify());
    expect(v.warnings.filter((w) => w.code === 'ERR_INVALID_DIGEST').length).toBe(2);
  });

  it('a blob that is a directory is unknown (ERR_BLOB_UNKNOWN), as before', async () => {
    const { l } = await fresh();
    const d = sha256('dir');
    await mkdir(l.blobPath(d));
    expect(await codeOf(l.readBlob(d))).toBe('ERR_BLOB_UNKNOWN');
    expect(await l.hasBlob(d)).toBe(false);
  });

  it('putBlob onto a directory squatting on the blob name: ERR_UNSAFE_PATH, no temp file left', async () => {
    const { l } = await fresh();
    const data = Buffer.from('squatted');
    await mkdir(join(l.blobPath(sha256(data)), 'sub'), { recursive: true });
    expect(await codeOf(l.putBlob(data))).toBe('ERR_UNSAFE_PATH');
    expect(await codeOf(l.putBlob(data, { digest: sha256(data) }))).toBe('ERR_UNSAFE_PATH');
    expect((await readdir(join(l.dir, '.oci-ts', 'ingest'))).filter((n) => n.startsWith('b-'))).toEqual([]);
  });

  it('contained: a hardlinked blob is read, and its content is still checked against its name', async () => {
    const { l, outside } = await fresh();
    const good = await l.putBlob(Buffer.from('good'));
    const other = join(outside, 'other');
    await writeFile(other, 'not what the name says');
    const lie = sha256('lie');
    await link(other, l.blobPath(lie));
    await link(l.blobPath(good.digest), join(outside, 'copy'));
    expect((await l.readBlob(good.digest)).toString()).toBe('good');
    expect(await codeOf(l.readBlob(lie))).toBe('ERR_DIGEST_MISMATCH');
  });
});

describe('index.json and oci-layout that are hostile', () => {
  it('index.json -> /etc/shadow: ERR_UNSAFE_PATH, and no byte of the target reaches the error', async () => {
    const { l } = await fresh();
    await rm(join(l.dir, 'index.json'));
    await symlink('/etc/shadow', join(l.dir, 'index.json'));
    const err = await Layout.open(l.dir).catch((e: unknown) => e as Error & { code: string });
    expect(err.code).toBe('ERR_UNSAFE_PATH');
    expect(err.message).not.toContain('root');
  });

  it('index.json or oci-layout as a fifo fails fast (ERR_UNSAFE_PATH)', async () => {
    const { l } = await fresh();
    await rm(join(l.dir, 'index.json'));
    execFileSync('mkfifo', [join(l.dir, 'index.json')]);
    expect(await quick(codeOf(Layout.open(l.dir)))).toBe('ERR_UNSAFE_PATH');
    const { l: l2 } = await fresh();
    await rm(join(l2.dir, 'oci-layout'));
    execFileSync('mkfifo', [join(l2.dir, 'oci-layout')]);
    expect(await quick(codeOf(Layout.open(l2.dir)))).toBe('ERR_UNSAFE_PATH');
    expect(await quick(codeOf(Layout.init(l2.dir)))).toBe('ERR_UNSAFE_PATH');
  });

  it('a huge index.json (sparse 17 MiB) is refused before it is read (ERR_INVALID_INDEX)', async () => {
    const { l } = await fresh();
    await truncate(join(l.dir, 'index.json'), 17 << 20);
    expect(await codeOf(Layout.open(l.dir))).toBe('ERR_INVALID_INDEX');
  });

  it('a nesting bomb in index.json (100 000 deep) is refused, not a stack overflow at the next tag', async () => {
    const { l } = await fresh();
    const n = 100_000;
    await writeFile(join(l.dir, 'index.json'), `{"schemaVersion":2,"manifests":[],"x":${'['.repeat(n)}${']'.repeat(n)}}`);
    expect(await codeOf(Layout.open(l.dir))).toBe('ERR_INVALID_INDEX');
  });

  it('a BOM, non-UTF-8 bytes and trailing garbage in index.json are ERR_INVALID_INDEX', async () => {
    const { l } = await fresh();
    const body = Buffer.from('{"schemaVersion":2,"manifests":[]}');
    for (const bad of [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]), Buffer.from('{"schemaVersion":2,"manifests":[],"a":"\xff\xfe"}', 'latin1'), Buffer.concat([body, Buffer.from('x')])]) {
      await writeFile(join(l.dir, 'index.json'), bad);
      expect(await codeOf(l.index())).toBe('ERR_INVALID_INDEX');
    }
  });

  it('duplicate keys in index.json: the last one wins (as in Go encoding/json, which skopeo and umoci use)', async () => {
    const { l } = await fresh();
    await writeFile(join(l.dir, 'index.json'), '{"schemaVersion":2,"manifests":"nope","manifests":[]}');
    expect((await l.index()).manifests).toEqual([]);
  });

  it('init where oci-layout or index.json is a directory: ERR_INVALID_LAYOUT, not a raw EISDIR', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'a', 'oci-layout'), { recursive: true });
    await mkdir(join(root, 'b', 'index.json'), { recursive: true });
    expect(await codeOf(Layout.init(join(root, 'a')))).toBe('ERR_INVALID_LAYOUT');
    expect(await codeOf(Layout.init(join(root, 'b')))).toBe('ERR_INVALID_LAYOUT');
  });

  it('ref names of the longest legal kinds (1024 characters, 300-character parts, 512 parts) work or are unknown, never a raw ENAMETOOLONG', async () => {
    const { l } = await fresh();
    await mkdir(join(l.dir, 'refs'));
    const b = await l.putBlob(Buffer.from('{}'));
    for (const name of ['x'.repeat(1024), `${'a'.repeat(300)}/b`, `${'a/'.repeat(511)}b`]) {
      expect(await codeOf(l.resolve(name))).toBe('ERR_REF_UNKNOWN');
      await l.tag(name, { mediaType: 'application/octet-stream', digest: b.digest, size: 2 });
      expect((await l.lookup(name))?.digest).toBe(b.digest);
      await l.untag(name);
      expect(await codeOf(l.untag(name))).toBe('ERR_REF_UNKNOWN');
    }
  });

  it('oci-layout with extra fields is accepted; a wrong or missing version is ERR_INVALID_LAYOUT', async () => {
    const { l } = await fresh();
    await writeFile(join(l.dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0","x-vendor":{"a":1}}');
    await Layout.open(l.dir);
    for (const bad of ['{"imageLayoutVersion":"2.0.0"}', '{"imageLayoutVersion":1}', '{}', '[]', 'null', '\xff']) {
      await writeFile(join(l.dir, 'oci-layout'), Buffer.from(bad, 'latin1'));
      expect(await codeOf(Layout.open(l.dir)), bad).toBe('ERR_INVALID_LAYOUT');
    }
  });
});

describe('hostile descriptors', () => {
  const mt = 'application/vnd.oci.image.manifest.v1+json';
  it('size -1, size beyond 2^53 and a size as a string in index.json are ERR_INVALID_INDEX', async () => {
    const { l } = await fresh();
    const d = sha256('x');
    for (const size of ['-1', '9007199254740993', '1e300', '"4"', '1.5']) {
      await writeFile(join(l.dir, 'index.json'), `{"schemaVersion":2,"manifests":[{"mediaType":"${mt}","digest":"${d}","size":${size}}]}`);
      expect(await codeOf(l.index()), size).toBe('ERR_INVALID_INDEX');
    }
  });

  it('tag(): size 0 with a non-empty blob, upper-case hex, unknown algorithm, digest path tricks', async () => {
    const { l } = await fresh();
    const b = await l.putBlob(Buffer.from('{}'));
    expect(await codeOf(l.tag('a', { mediaType: mt, digest: b.digest, size: 0 }))).toBe('ERR_SIZE_MISMATCH');
    expect(await codeOf(l.tag('a', { mediaType: mt, digest: b.digest.toUpperCase().replace('SHA256', 'sha256'), size: 2 }))).toBe('ERR_INVALID_DIGEST');
    expect(await codeOf(l.tag('a', { mediaType: mt, digest: `md5:${'0'.repeat(32)}`, size: 2 }))).toBe('ERR_UNSUPPORTED_DIGEST');
    for (const d of ['sha256:../../etc/passwd', `sha256:${'0'.repeat(64)}/x`, 'sha256:', '../sha256:x']) {
      expect(await codeOf(l.tag('a', { mediaType: mt, digest: d, size: 2 })), d).toBe('ERR_INVALID_DIGEST');
      expect(() => l.blobPath(d)).toThrow();
    }
    expect(await codeOf(l.tag('a', { mediaType: mt, digest: b.digest, size: -1 }))).toBe('ERR_INVALID_DESCRIPTOR');
    expect(await codeOf(l.tag('a', { mediaType: mt, digest: b.digest, size: 2 ** 53 + 2 }))).toBe('ERR_INVALID_DESCRIPTOR');
  });

  it('an index nesting depth bomb (12 indexes deep): resolve refuses, gc and verify finish', async () => {
    const { l } = await fresh();
    const work = await tempDir();
    const img = await buildTinyImage(l, work);
    let d = img.manifest;
    for (let i = 0; i < 12; i++) {
      d = await l.putJson(
        { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ ...d, platform: { os: 'linux', architecture: 'amd64' } }] },
        'application/vnd.oci.image.index.v1+json',
      );
    }
    await l.tag('bomb', d);
    expect(await codeOf(l.resolve('bomb', { platform: 'linux/amd64' }))).toBe('ERR_INVALID_DOCUMENT');
    expect((await l.gc()).removed).toEqual([]);
    expect((await l.verify()).ok).toBe(true);
  });

  it('a wide index (5 000 entries naming the same manifest) is walked once by gc and verify', async () => {
    const { l } = await fresh();
    const work = await tempDir();
    const img = await buildTinyImage(l, work);
    const wide = await l.putJson(
      { schemaVersion: 2, manifests: Array.from({ length: 5_000 }, () => img.manifest) },
      'application/vnd.oci.image.index.v1+json',
    );
    await l.tag('wide', wide);
    const t0 = Date.now();
    expect((await l.verify()).ok).toBe(true);
    expect((await l.gc()).removed).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('a descriptor that lies about the size of a manifest or config: resolve refuses (ERR_SIZE_MISMATCH)', async () => {
    const { l } = await fresh();
    const work = await tempDir();
    const img = await buildTinyImage(l, work);
    await writeFile(join(l.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...img.manifest, size: img.manifest.size + 1, annotations: { 'org.opencontainers.image.ref.name': 'm' } }] }));
    expect(await codeOf(l.resolve('m'))).toBe('ERR_SIZE_MISMATCH');
    const liar = await l.putJson({ schemaVersion: 2, mediaType: mt, config: { ...img.config, size: 1 }, layers: [img.layer] }, mt);
    await l.tag('c', liar);
    expect(await codeOf(l.resolve('c'))).toBe('ERR_SIZE_MISMATCH');
  });

  it('a lock file shipped in the layout as a fifo (or a symlink) never hangs a writer: ERR_UNSAFE_PATH', async () => {
    const { l } = await fresh();
    await mkdir(join(l.dir, '.oci-ts', 'ingest'), { recursive: true });
    execFileSync('mkfifo', [join(l.dir, '.oci-ts', 'index.lock')]);
    const b = await l.putBlob(Buffer.from('{}'));
    expect(await quick(codeOf(l.tag('x', { mediaType: mt, digest: b.digest, size: 2 })))).toBe('ERR_UNSAFE_PATH');
    await rm(join(l.dir, '.oci-ts', 'index.lock'));
    await symlink('/dev/zero', join(l.dir, '.oci-ts', 'index.lock'));
    expect(await quick(codeOf(l.tag('x', { mediaType: mt, digest: b.digest, size: 2 })))).toBe('ERR_UNSAFE_PATH');
  });

  it('a manifest whose config is a manifest (not a config) is not an image: resolve refuses the config', async () => {
    const { l } = await fresh();
    const work = await tempDir();
    const img = await buildTinyImage(l, work);
    const weird = await l.putJson(
      { schemaVersion: 2, mediaType: mt, config: { ...img.manifest, mediaType: 'application/vnd.oci.image.config.v1+json' }, layers: [img.layer] },
      mt,
      { validate: true },
    );
    await l.tag('weird', weird);
    expect(await codeOf(l.resolve('weird'))).toBe('ERR_INVALID_DOCUMENT');
  });

  it('__proto__ keys in a legacy document stay data (no prototype change when null fields are dropped)', async () => {
    const { l } = await fresh();
    await mkdir(join(l.dir, 'refs'));
    const b = await l.putBlob(Buffer.from('{}'));
    await writeFile(join(l.dir, 'refs', 'p'), `{"mediaType":"${mt}","digest":"${b.digest}","size":2,"urls":null,"__proto__":{"polluted":true}}`);
    const refs = await l.listRefs();
    const p = refs.find((r) => r.name === 'p')!;
    expect(Object.getPrototypeOf(p.descriptor)).toBe(Object.prototype);
    expect((p.descriptor as unknown as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('ref names and legacy refs/', () => {
  it('names with .., NUL, a leading /, empty parts or over 1024 characters are ERR_INVALID_REF_NAME', async () => {
    const { l } = await fresh();
    const b = await l.putBlob(Buffer.from('{}'));
    const d = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: b.digest, size: 2 };
    for (const name of ['..', '../x', 'a/../b', 'a\0b', '/abs', 'a//b', 'a/', '', 'x'.repeat(1025), 'a b', 'ü']) {
      expect(await codeOf(l.tag(name, d)), JSON.stringify(name.slice(0, 20))).toBe('ERR_INVALID_REF_NAME');
      expect(await codeOf(l.resolve(name)), JSON.stringify(name.slice(0, 20))).toMatch(/ERR_INVALID_REF_NAME|ERR_REF_UNKNOWN/);
    }
    await l.tag('a/b:c@d+e--f', d); // the grammar's own separators are fine
  });

  it('legacy refs/NAME: a symlinked refs/ subdirectory is never read through, a fifo never hangs', async () => {
    const { l, outside } = await fresh();
    await mkdir(join(l.dir, 'refs'));
    const b = await l.putBlob(Buffer.from('{}'));
    await writeFile(join(outside, 'leak'), JSON.stringify({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: b.digest, size: 2 }));
    await symlink(outside, join(l.dir, 'refs', 'a'));
    execFileSync('mkfifo', [join(l.dir, 'refs', 'fifo')]);
    expect(await codeOf(l.resolve('a/leak'))).toBe('ERR_UNSAFE_PATH');
    expect(await quick(codeOf(l.resolve('fifo')))).toBe('ERR_UNSAFE_PATH');
    expect((await quick(l.listRefs())).map((r) => r.name)).toEqual([]);
    // untag through the symlinked dir is refused and deletes nothing outside
    expect(await codeOf(l.untag('a/leak'))).toBe('ERR_UNSAFE_PATH');
    expect(await readdir(outside)).toEqual(['leak']);
  });
});

describe('puts that go wrong leave nothing behind', () => {
  async function leftovers(l: Layout): Promise<string[]> {
    const ingest = await readdir(join(l.dir, '.oci-ts', 'ingest')).catch(() => []);
    const blobs = await readdir(join(l.dir, 'blobs', 'sha256'));
    return [...ingest.filter((n) => !n.startsWith('l-') && n !== 'index.lock'), ...blobs];
  }

  it('a source that errors mid-way: the source error, no temp file, no blob', async () => {
    const { l } = await fresh();
    const src = new PassThrough();
    src.write(Buffer.alloc(1 << 16, 1));
    setTimeout(() => src.destroy(new Error('connection reset')), 20);
    await expect(l.putBlob(src)).rejects.toThrow('connection reset');
    expect(await leftovers(l)).toEqual([]);
  });

  it('a source that fails before putBlob reads it: a rejection, not an uncaught exception', async () => {
    const { l } = await fresh();
    const src = new PassThrough();
    src.write(Buffer.alloc(1 << 16, 1));
    src.destroy(new Error('connection reset early'));
    await expect(l.putBlob(src)).rejects.toThrow('connection reset early');
    expect(await leftovers(l)).toEqual([]);
  });

  it('an abort mid-way rejects with the signal reason and leaves nothing', async () => {
    const { l } = await fresh();
    const ac = new AbortController();
    const src = new PassThrough();
    src.write(Buffer.alloc(1 << 16, 1));
    setTimeout(() => ac.abort(new Error('user gave up')), 20);
    await expect(l.putBlob(src, { signal: ac.signal })).rejects.toThrow('user gave up');
    expect(src.destroyed).toBe(true);
    expect(await leftovers(l)).toEqual([]);
  });

  it('more bytes than `size` stops early (the source is destroyed); fewer bytes fail at the end', async () => {
    const { l } = await fresh();
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 1 << 16;
        this.push(Buffer.alloc(1 << 16));
      },
    });
    expect(await codeOf(l.putBlob(endless, { size: 1000 }))).toBe('ERR_SIZE_MISMATCH');
    expect(produced).toBeLessThan(1 << 22);
    expect(endless.destroyed).toBe(true);
    expect(await codeOf(l.putBlob(Readable.from([Buffer.alloc(10)]), { size: 11 }))).toBe('ERR_SIZE_MISMATCH');
    expect(await leftovers(l)).toEqual([]);
  });
});

describe('gc while this process is between putBlob() and tag()', () => {
  it('keeps blobs put by this process until a tag makes them reachable; then untag + gc removes them', async () => {
    const { l } = await fresh();
    const work = await tempDir();
    const layer = await l.putBlob(Buffer.from('layer'));
    const config = await l.putJson({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256('layer')] } }, 'application/vnd.oci.image.config.v1+json');
    // a concurrent gc (another part of this program) runs now: nothing it may not remove
    expect((await l.gc()).removed).toEqual([]);
    const manifest = await l.putJson(
      { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }] },
      'application/vnd.oci.image.manifest.v1+json',
    );
    const [, tagged] = await Promise.all([l.gc(), l.tag('v1', manifest)]);
    expect(tagged.digest).toBe(manifest.digest);
    expect((await l.verify()).ok).toBe(true);
    await l.untag('v1');
    expect((await l.gc()).removed.sort()).toEqual([layer.digest, config.digest, manifest.digest].sort());
    void work;
  });

  it('another process gc-ing uses gracePeriodMs: a fresh blob is kept, an old one removed', async () => {
    const { l } = await fresh();
    const b = await l.putBlob(Buffer.from('fresh from this process'));
    const script = `import { Layout } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      const l = await Layout.open(process.argv[1]); const r = await l.gc({ gracePeriodMs: 60000 }); console.log(JSON.stringify(r.removed));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, l.dir], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect(await l.hasBlob(b.digest)).toBe(true);
  });
});
