// Hostile documents and streams, as a registry or a layout may hand them to us. Each test is
// named after the attack; each says what we do: refuse with a stable code, or contain.
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  ImageSpecError,
  normalizePlatform,
  parseConfig,
  parseIndex,
  parseManifest,
  parsePlatform,
  platformMatches,
  selectManifest,
  validateManifest,
  verifyingStream,
  type ImageIndex,
  type Platform,
} from '../src/index.js';

const d = `sha256:${'a'.repeat(64)}`;
const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d, size: 2 };
const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: d, size: 1 };
const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] };
const json = (x: unknown): string => JSON.stringify(x);

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

function timed<T>(f: () => T): { ms: number; result: T | unknown } {
  const t0 = performance.now();
  let result: T | unknown;
  try {
    result = f();
  } catch (err) {
    result = err;
  }
  return { ms: performance.now() - t0, result };
}

describe('prototype pollution keys (CVE-2019-10744-style __proto__ / constructor)', () => {
  it('__proto__ and constructor keys stay plain data: no prototype changes anywhere', () => {
    const text = `{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},${json(manifest).slice(1)}`;
    const m = parseManifest(text);
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
    expect((m as unknown as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    const idx = parseIndex('{"schemaVersion":2,"manifests":[],"__proto__":[]}');
    expect(Array.isArray(idx)).toBe(false);
    const c = parseConfig('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"__proto__":{"Env":["X=1"]}}}');
    expect(c.config?.Env).toBeUndefined(); // an own "__proto__" key, not an inherited Env
    expect(({} as { Env?: unknown }).Env).toBeUndefined();
  });

  it('an annotation named __proto__ must still be a string', () => {
    expect(codeOf(() => parseManifest(`{"annotations":{"__proto__":{"a":1}},${json(manifest).slice(1)}`))).toBe('ERR_INVALID_MANIFEST');
  });

  it('platform strings and objects named after Object.prototype members are just unknown platforms', () => {
    expect(parsePlatform('__proto__/constructor')).toEqual({ os: '__proto__', architecture: 'constructor' });
    expect(codeOf(() => parsePlatform('toString'))).toBe('ERR_INVALID_PLATFORM');
    expect(platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'hasOwnProperty' })).toBe(false);
  });
});

describe('huge and odd JSON', () => {
  it('a manifest with 200 000 invalid layers is refused in linear time (ajv allErrors is quadratic)', () => {
    const bad = json({ ...manifest, layers: Array.from({ length: 200_000 }, () => ({ digest: 'x' })) });
    const { ms, result } = timed(() => parseManifest(bad));
    expect((result as ImageSpecError).code).toBe('ERR_INVALID_MANIFEST');
    expect(ms).toBeLessThan(5000);
  });

  it('small invalid documents still get every problem listed', () => {
    const r = validateManifest({ ...manifest, schemaVersion: '2', layers: [{ digest: 'x' }] });
    expect(r.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['/schemaVersion', '/layers/0', '/layers/0/digest']));
  });

  it('numbers as strings are refused (size "2", schemaVersion "2")', () => {
    expect(codeOf(() => parseManifest(json({ ...manifest, config: { ...config, size: '2' } })))).toBe('ERR_INVALID_MANIFEST');
    expect(codeOf(() => parseManifest(json({ ...manifest, schemaVersion: '2' })))).toBe('ERR_INVALID_MANIFEST');
    expect(codeOf(() => parseManifest(json({ ...manifest, config: { ...config, size: 2 ** 53 + 2 } })))).toBe('ERR_INVALID_MANIFEST');
  });

  it('very long strings do not make very long error messages', () => {
    for (const doc of [{ ...manifest, mediaType: 'a'.repeat(5e6) }, { ...manifest, annotations: { ['k'.repeat(5e6)]: 1 } }, { ...manifest, config: { ...config, digest: `sha256:${'a'.repeat(5e6)}` } }]) {
      let err: ImageSpecError | undefined;
      try {
        parseManifest(json(doc));
      } catch (e) {
        err = e as ImageSpecError;
      }
      expect(err?.code).toBe('ERR_INVALID_MANIFEST');
      expect(err!.message.length).toBeLessThan(2000);
    }
  });

  it('a nesting bomb (100 000 deep) is ERR_INVALID_JSON, not a stack overflow later in JSON.stringify', () => {
    const n = 100_000;
    const text = `{"x":${'['.repeat(n)}${']'.repeat(n)},${json(manifest).slice(1)}`;
    expect(codeOf(() => parseManifest(text))).toBe('ERR_INVALID_JSON');
    expect(codeOf(() => parseConfig(Buffer.from(`{"config":{"Labels":${'{"a":'.repeat(200)}1${'}'.repeat(200)}}}`)))).toBe('ERR_INVALID_JSON');
    // ordinary depth is fine
    parseManifest(json({ ...manifest, annotations: {} }));
  });

  it('a byte-order mark is refused for bytes as for strings (as Go encoding/json does)', () => {
    const body = Buffer.from(json(manifest));
    expect(codeOf(() => parseManifest(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body])))).toBe('ERR_INVALID_JSON');
    expect(codeOf(() => parseManifest(`\ufeff${json(manifest)}`))).toBe('ERR_INVALID_JSON');
  });

  it('non-UTF-8 bytes are ERR_INVALID_JSON (not silently replaced by U+FFFD)', () => {
    const bad = Buffer.concat([Buffer.from('{"annotations":{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from(`"},${json(manifest).slice(1)}`)]);
    expect(codeOf(() => parseManifest(bad))).toBe('ERR_INVALID_JSON');
  });

  it('megabytes of embedded data do not overflow the base64 regex; the data is checked against size and digest', () => {
    const { ms, result } = timed(() => parseManifest(json({ ...manifest, config: { ...config, size: 3, data: 'A'.repeat(8e6) } })));
    expect((result as ImageSpecError).code).toBe('ERR_INVALID_MANIFEST');
    expect(ms).toBeLessThan(5000);
    // base64 whose length is not a multiple of 4, or with bad characters, is refused
    expect(codeOf(() => parseManifest(json({ ...manifest, config: { ...config, data: 'e30' } })))).toBe('ERR_INVALID_MANIFEST');
    expect(codeOf(() => parseManifest(json({ ...manifest, config: { ...config, data: 'e3!=' } })))).toBe('ERR_INVALID_MANIFEST');
    // and good data passes
    const bytes = Buffer.from('{}');
    const dd = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    parseManifest(json({ ...manifest, config: { ...config, digest: dd, size: 2, data: bytes.toString('base64') } }));
  });
});

describe('odd platforms', () => {
  it('strings: empty parts, NUL, spaces, full-width letters, too many parts, too long are ERR_INVALID_PLATFORM', () => {
    for (const s of ['', '/', '//', 'linux//amd64', 'linux/amd64/', ' linux/amd64', 'linux/amd64\0', 'linux/ＡＭＤ64', 'linux/amd64/v8/x', 'linux(10.0/amd64', 'linux/x'.repeat(100)]) {
      expect(codeOf(() => parsePlatform(s)), JSON.stringify(s.slice(0, 20))).toBe('ERR_INVALID_PLATFORM');
    }
    expect(parsePlatform('LINUX/AMD64')).toEqual({ os: 'linux', architecture: 'amd64' });
  });

  it('objects of the wrong shape are ERR_INVALID_PLATFORM, not a TypeError', () => {
    for (const p of [{}, { os: 1, architecture: null }, { os: 'linux', architecture: 'amd64', variant: 8 }, { os: 'linux', architecture: 'amd64', 'os.features': 'x' }, null]) {
      expect(codeOf(() => normalizePlatform(p as unknown as Platform)), JSON.stringify(p)).toBe('ERR_INVALID_PLATFORM');
    }
  });

  it('selectManifest skips junk entries of an unvalidated index instead of throwing', () => {
    const good = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d, size: 1, platform: { os: 'linux', architecture: 'amd64' } };
    const index = {
      schemaVersion: 2,
      manifests: [null, 7, { platform: { os: 'linux', architecture: 'amd64' } }, { ...good, platform: { os: 1 } }, { ...good, platform: 'linux/amd64' }, good],
    } as unknown as ImageIndex;
    expect(selectManifest(index, 'linux/amd64')).toBe(good);
    expect(selectManifest({ manifests: 'nope' } as unknown as ImageIndex, 'linux/amd64')).toBeUndefined();
  });
});

describe('verifyingStream under stress', () => {
  function source(chunks: number, size: number, fill = 7): Readable {
    let i = 0;
    return new Readable({
      read() {
        if (i === chunks) this.push(null);
        else this.push(Buffer.alloc(size, (fill + i++) & 0xff));
      },
    });
  }
  function expected(chunks: number, size: number, fill = 7): { digest: string; size: number } {
    const h = createHash('sha256');
    for (let i = 0; i < chunks; i++) h.update(Buffer.alloc(size, (fill + i) & 0xff));
    return { digest: `sha256:${h.digest('hex')}`, size: chunks * size };
  }

  it('backpressure: a slow consumer gets every byte in order, and buffering stays bounded', async () => {
    const want = expected(64, 64 << 10);
    const v = verifyingStream(want);
    const h = createHash('sha256');
    let got = 0;
    let maxBuffered = 0;
    const slow = new Writable({
      highWaterMark: 16 << 10,
      write(chunk: Buffer, _enc, cb) {
        h.update(chunk);
        got += chunk.byteLength;
        maxBuffered = Math.max(maxBuffered, v.readableLength + v.writableLength);
        setImmediate(cb);
      },
    });
    await pipeline(source(64, 64 << 10), v, slow);
    expect(got).toBe(want.size);
    expect(`sha256:${h.digest('hex')}`).toBe(want.digest);
    expect(maxBuffered).toBeLessThan(1 << 20);
  });

  it('backpressure with a mismatch: the consumer never sees the end, the pipeline rejects ERR_DIGEST_MISMATCH', async () => {
    const want = { ...expected(16, 64 << 10), digest: `sha256:${'0'.repeat(64)}` };
    let ended = false;
    const slow = new Writable({
      write(_c, _e, cb) {
        setImmediate(cb);
      },
      final(cb) {
        ended = true;
        cb();
      },
    });
    await expect(pipeline(source(16, 64 << 10), verifyingStream(want), slow)).rejects.toMatchObject({ code: 'ERR_DIGEST_MISMATCH' });
    expect(ended).toBe(false);
  });

  it('a source that errors mid-way: the pipeline rejects with the source error, not a digest error', async () => {
    const want = expected(16, 64 << 10);
    let i = 0;
    const failing = new Readable({
      read() {
        if (i++ === 5) this.destroy(new Error('connection reset'));
        else this.push(Buffer.alloc(64 << 10, 1));
      },
    });
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    await expect(pipeline(failing, verifyingStream(want), sink)).rejects.toThrow('connection reset');
  });

  it('an endless source with a size: stops at size + 1 chunk, without reading the rest', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced++;
        this.push(Buffer.alloc(64 << 10));
      },
    });
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    await expect(pipeline(endless, verifyingStream({ digest: d, size: 100 }), sink)).rejects.toMatchObject({ code: 'ERR_SIZE_MISMATCH', expected: 100 });
    expect(produced).toBeLessThan(64);
  });
});
