import { createReadStream } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Layout, LayoutError } from '../src/index.js';
import { cleanupTempDirs, codeOf, sha256, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

let layout: Layout;
beforeEach(async () => {
  layout = await Layout.init(join(await tempDir(), 'l'));
});

async function ingestFiles(l: Layout): Promise<string[]> {
  return await readdir(join(l.dir, '.oci-ts', 'ingest')).catch(() => []);
}

async function blobFiles(l: Layout): Promise<string[]> {
  return await readdir(join(l.dir, 'blobs', 'sha256'));
}

describe('putBlob', () => {
  it('stores bytes under blobs/sha256/<hex> and reports digest and size', async () => {
    const data = Buffer.from('some bytes');
    const r = await layout.putBlob(data);
    expect(r).toEqual({ digest: sha256(data), size: data.length, existed: false });
    expect(await readFile(layout.blobPath(r.digest))).toEqual(data);
    expect(layout.blobPath(r.digest)).toBe(join(layout.dir, 'blobs', 'sha256', r.digest.slice(7)));
    expect(await layout.hasBlob(r.digest)).toBe(true);
    expect(await layout.statBlob(r.digest)).toEqual({ size: data.length });
    expect(await ingestFiles(layout)).toEqual([]);
  });

  it('syncDir: false stores the blob as usual; the next index write syncs the directory and works', async () => {
    const data = Buffer.from('deferred dir sync');
    const r = await layout.putBlob(data, { digest: sha256(data), size: data.length, syncDir: false });
    expect(await readFile(layout.blobPath(r.digest))).toEqual(data);
    await layout.tag('t', { mediaType: 'application/octet-stream', digest: r.digest, size: r.size });
    expect((await layout.index()).manifests.map((m) => m.digest)).toEqual([r.digest]);
  });

  it('writes many small chunks (gathered into writev) byte-exact, in order', async () => {
    const chunks = Array.from({ length: 3000 }, (_, i) => Buffer.alloc(1 + (i % 97), i % 251));
    const all = Buffer.concat(chunks);
    const r = await layout.putBlob(Readable.from(chunks), { digest: sha256(all), size: all.length });
    expect(await readFile(layout.blobPath(r.digest))).toEqual(all);
  });

  it('release: each chunk is given back once written, after the bytes reach the file', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(64 << 10, i));
    const data = Buffer.concat(chunks);
    const released: Uint8Array[] = [];
    // a chunk is overwritten as soon as it comes back: the stored blob is only right if none came back early
    const r = await layout.putBlob(Readable.from(chunks, { objectMode: false }), {
      digest: sha256(data), size: data.length,
      release: (c) => { released.push(c); Buffer.from(c.buffer, c.byteOffset, c.byteLength).fill(0xff); },
    });
    expect(r.digest).toBe(sha256(data));
    expect(await readFile(layout.blobPath(r.digest))).toEqual(data);
    expect(released.length).toBe(chunks.length);
    expect(new Set(released).size).toBe(chunks.length);
  });

  it('streams from a Readable and an async iterable, with progress', async () => {
    const chunks = Array.from({ length: 5 }, (_, i) => Buffer.alloc(300_000, i));
    const all = Buffer.concat(chunks);
    const seen: number[] = [];
    const r1 = await layout.putBlob(Readable.from(chunks), { onProgress: (p) => seen.push(p.bytes) });
    expect(r1.digest).toBe(sha256(all));
    expect(seen.at(-1)).toBe(all.length);
    async function* gen(): AsyncIterable<Uint8Array> {
      for (const c of chunks) yield new Uint8Array(c);
    }
    await layout.putBlob(Buffer.from('x')); // unrelated
    const r2 = await layout.putBlob(gen(), { digest: sha256(all), size: all.length });
    expect(r2).toMatchObject({ digest: sha256(all), size: all.length, existed: true });
  });

  it('supports sha512', async () => {
    const r = await layout.putBlob(Buffer.from('abc'), { algorithm: 'sha512' });
    expect(r.digest).toMatch(/^sha512:[0-9a-f]{128}$/);
    expect(await readFile(join(layout.dir, 'blobs', 'sha512', r.digest.slice(7)), 'utf8')).toBe('abc');
  });

  it('refuses a digest mismatch and leaves nothing behind', async () => {
    const wrong = sha256('other');
    const err = await layout.putBlob(Buffer.from('content'), { digest: wrong }).catch((e: unknown) => e);
    expect(LayoutError.is(err, 'ERR_DIGEST_MISMATCH')).toBe(true);
    expect((err as LayoutError).expected).toBe(wrong);
    expect((err as LayoutError).actual).toBe(sha256('content'));
    expect(await blobFiles(layout)).toEqual([]);
    expect(await ingestFiles(layout)).toEqual([]);
  });

  it('refuses a size mismatch (too short at the end, too long as soon as it shows) and leaves nothing', async () => {
    expect(await codeOf(layout.putBlob(Buffer.from('12345'), { size: 6 }))).toBe('ERR_SIZE_MISMATCH');
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled++;
        this.push(Buffer.alloc(65536));
      },
    });
    expect(await codeOf(layout.putBlob(endless, { size: 100_000 }))).toBe('ERR_SIZE_MISMATCH');
    expect(pulled).toBeLessThan(10);
    expect(endless.destroyed).toBe(true);
    expect(await blobFiles(layout)).toEqual([]);
    expect(await ingestFiles(layout)).toEqual([]);
  });

  it('refuses bad and path-traversing digests with ERR_INVALID_DIGEST before touching the disk', async () => {
    for (const bad of ['sha256:../../x', 'sha256:..', '../../etc/passwd', 'sha256:ABC', 'sha256:1234', 'md5', '', 'sha256:' + 'g'.repeat(64)]) {
      expect(await codeOf(layout.putBlob(Buffer.from('x'), { digest: bad })), bad).toBe('ERR_INVALID_DIGEST');
      expect(await codeOf(layout.getBlob(bad)), bad).toBe('ERR_INVALID_DIGEST');
      expect(await codeOf(layout.hasBlob(bad)), bad).toBe('ERR_INVALID_DIGEST');
      expect(await codeOf(() => layout.blobPath(bad)), bad).toBe('ERR_INVALID_DIGEST');
    }
    expect(await codeOf(layout.putBlob(Buffer.from('x'), { digest: 'md5:d41d8cd98f00b204e9800998ecf8427e' }))).toBe('ERR_UNSUPPORTED_DIGEST');
    expect(await ingestFiles(layout)).toEqual([]);
  });

  it('does not rewrite a blob that is already complete, and destroys the unread source', async () => {
    const data = Buffer.from('already here');
    const { digest } = await layout.putBlob(data);
    const before = (await import('node:fs/promises')).stat(layout.blobPath(digest));
    const src = Readable.from([data]);
    const r = await layout.putBlob(src, { digest, size: data.length });
    expect(r.existed).toBe(true);
    expect(src.destroyed).toBe(true);
    expect((await (await import('node:fs/promises')).stat(layout.blobPath(digest))).ino).toBe((await before).ino);
  });

  it('rejects with signal.reason when aborted, before or during, and leaves nothing', async () => {
    const pre = new AbortController();
    pre.abort(new Error('stop'));
    await expect(layout.putBlob(Buffer.from('x'), { signal: pre.signal })).rejects.toThrow('stop');
    const ac = new AbortController();
    const slow = new Readable({ read() {} });
    slow.push(Buffer.alloc(1000));
    const p = layout.putBlob(slow, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('cancelled')), 50);
    await expect(p).rejects.toThrow('cancelled');
    expect(await blobFiles(layout)).toEqual([]);
    expect(await ingestFiles(layout)).toEqual([]);
  });
});

describe('getBlob / readBlob / readJson', () => {
  it('streams a blob back', async () => {
    const { digest } = await layout.putBlob(Buffer.from('stream me'));
    expect(await text(await layout.getBlob(digest))).toBe('stream me');
    expect(await text(await layout.getBlob(digest, { verify: true }))).toBe('stream me');
  });

  it('ERR_BLOB_UNKNOWN for a blob that is not there', async () => {
    const missing = sha256('missing');
    expect(await codeOf(layout.getBlob(missing))).toBe('ERR_BLOB_UNKNOWN');
    expect(await codeOf(layout.readBlob(missing))).toBe('ERR_BLOB_UNKNOWN');
    expect(await layout.hasBlob(missing)).toBe(false);
    expect(await layout.statBlob(missing)).toBeUndefined();
  });

  it('a blob whose content does not match its name: getBlob({verify}) errors, readBlob errors', async () => {
    const { digest } = await layout.putBlob(Buffer.from('original content'));
    await writeFile(layout.blobPath(digest), 'tampered content');
    const stream = await layout.getBlob(digest, { verify: true });
    const err = await text(stream).catch((e: unknown) => e);
    expect(LayoutError.is(err, 'ERR_DIGEST_MISMATCH')).toBe(true);
    expect(await codeOf(layout.readBlob(digest))).toBe('ERR_DIGEST_MISMATCH');
    // Without verify, the bytes flow as they are.
    expect(await text(await layout.getBlob(digest))).toBe('tampered content');
  });

  it('readBlob refuses blobs above maxSize; readJson parses and reports bad JSON', async () => {
    const { digest } = await layout.putBlob(Buffer.alloc(2000, 65));
    expect(await codeOf(layout.readBlob(digest, { maxSize: 1000 }))).toBe('ERR_BLOB_TOO_LARGE');
    expect(await codeOf(layout.readJson(digest))).toBe('ERR_INVALID_DOCUMENT');
    const d = await layout.putJson({ a: 1 }, 'application/json');
    expect(await layout.readJson(d.digest)).toEqual({ a: 1 });
  });

  it('getBlob honours an AbortSignal', async () => {
    const { digest } = await layout.putBlob(Buffer.alloc(5 << 20));
    const ac = new AbortController();
    const s = await layout.getBlob(digest, { signal: ac.signal, highWaterMark: 65536 });
    ac.abort(new Error('enough'));
    await expect(text(s)).rejects.toThrow('enough');
  });

  it('putJson stores canonical JSON.stringify bytes, or the raw bytes given, and validates known documents', async () => {
    const doc = { schemaVersion: 2, manifests: [] };
    const d = await layout.putJson(doc, 'application/vnd.oci.image.index.v1+json');
    expect(d).toEqual({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256(JSON.stringify(doc)), size: JSON.stringify(doc).length });
    const raw = Buffer.from('{\n  "schemaVersion": 2,\n  "manifests": []\n}\n');
    const d2 = await layout.putJson(doc, 'application/vnd.oci.image.index.v1+json', { bytes: raw });
    expect(d2.digest).toBe(sha256(raw));
    expect(await codeOf(layout.putJson({ schemaVersion: 2 }, 'application/vnd.oci.image.manifest.v1+json'))).toBe('ERR_INVALID_DOCUMENT');
  });

  it('stores a large file streamed from disk intact', async () => {
    const dir = await tempDir();
    const file = join(dir, 'big');
    const big = Buffer.alloc(9 << 20);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    await writeFile(file, big);
    const r = await layout.putBlob(createReadStream(file, { highWaterMark: 1 << 20 }), { size: big.length });
    expect(r.digest).toBe(sha256(big));
    expect((await readFile(layout.blobPath(r.digest))).equals(big)).toBe(true);
  });
});
