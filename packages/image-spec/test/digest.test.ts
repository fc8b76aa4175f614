import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  createHasher,
  digestOf,
  ImageSpecError,
  isValidDigest,
  loadSchema,
  parseDigest,
  parseSupportedDigest,
  verifyBytes,
  verifyingStream,
} from '../src/index.js';
import { readOfficialFile } from './helpers/official.js';

const h64 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'; // sha256 of ''
const h128 = createHash('sha512').update('').digest('hex');

const VALID: [string, string, string][] = [
  [`sha256:${h64}`, 'sha256', h64],
  [`sha512:${h128}`, 'sha512', h128],
  ['multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8', 'multihash+base58', 'QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8'],
  ['sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564', 'sha256+b64u', 'LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564'],
  ['blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262', 'blake3', 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'],
  ['a.b_c-d+e:x', 'a.b_c-d+e', 'x'],
  ['0:=', '0', '='],
  ['md5:ABCdef==', 'md5', 'ABCdef=='],
  ['x:a-b_c=', 'x', 'a-b_c='],
];

const INVALID: [string, unknown][] = [
  ['empty', ''],
  ['no colon', h64],
  ['algorithm only', 'sha256'],
  ['empty encoded', 'sha256:'],
  ['empty algorithm', `:${h64}`],
  ['uppercase algorithm', `SHA256:${h64}`],
  ['leading separator', `+sha256:${h64}`],
  ['trailing separator', `sha256-:${h64}`],
  ['double separator', `sha__256:${h64}`],
  ['illegal char in algorithm', `sha/256:${h64}`],
  ['illegal char in encoded', 'foo:abc+def'],
  ['slash in encoded', 'foo:abc/def'],
  ['second colon', `sha256:${h64}:`],
  ['space', `sha256: ${h64}`],
  ['trailing newline', `sha256:${h64}\n`],
  ['sha256 short', `sha256:${h64.slice(1)}`],
  ['sha256 long', `sha256:${h64}0`],
  ['sha256 uppercase hex', `sha256:${h64.toUpperCase()}`],
  ['sha256 non-hex', `sha256:${'g'.repeat(64)}`],
  ['sha512 with 64 hex', `sha512:${h64}`],
  ['sha512 uppercase', `sha512:${h128.toUpperCase()}`],
  ['unicode', `sha256:${h64.slice(0, 63)}é`],
  ['absurdly long', `x:${'a'.repeat(5000)}`],
  ['number', 42],
  ['null', null],
  ['undefined', undefined],
];

describe('parseDigest / isValidDigest (image-spec grammar)', () => {
  for (const [s, algorithm, encoded] of VALID) {
    it(`accepts ${s.slice(0, 40)}`, () => {
      expect(parseDigest(s)).toEqual({ algorithm, encoded });
      expect(isValidDigest(s)).toBe(true);
    });
  }
  for (const [why, s] of INVALID) {
    it(`rejects ${why}`, () => {
      expect(isValidDigest(s)).toBe(false);
      let err: unknown;
      try {
        parseDigest(s as string);
      } catch (e) {
        err = e;
      }
      expect(ImageSpecError.is(err, 'ERR_INVALID_DIGEST')).toBe(true);
      expect((err as ImageSpecError).hint).toMatch(/sha256/);
      expect((err as Error).message.length).toBeLessThan(400);
    });
  }
  it('parseSupportedDigest refuses well-formed unknown algorithms with ERR_UNSUPPORTED_DIGEST', () => {
    expect(() => parseSupportedDigest('blake3:abcd')).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_DIGEST' }));
    expect(parseSupportedDigest(`sha512:${h128}`).algorithm).toBe('sha512');
  });
});

describe('digestOf / createHasher', () => {
  it('hashes bytes and strings (UTF-8) with sha256 by default', () => {
    expect(digestOf('')).toBe(`sha256:${h64}`);
    expect(digestOf(new Uint8Array())).toBe(`sha256:${h64}`);
    expect(digestOf('{}')).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    expect(digestOf('é')).toBe(digestOf(Buffer.from('é', 'utf8')));
  });
  it('hashes with sha512', () => {
    expect(digestOf('', 'sha512')).toBe(`sha512:${h128}`);
    expect(isValidDigest(digestOf(randomBytes(100), 'sha512'))).toBe(true);
  });
  it('streams: update in pieces equals one shot, and counts bytes', () => {
    const data = randomBytes(100_000);
    const h = createHasher('sha256');
    for (let i = 0; i < data.length; i += 7777) h.update(data.subarray(i, i + 7777));
    expect(h.size).toBe(100_000);
    expect(h.algorithm).toBe('sha256');
    expect(h.digest()).toBe(digestOf(data));
  });
  it('refuses unsupported algorithms', () => {
    expect(() => createHasher('md5')).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_DIGEST' }));
    expect(() => digestOf('x', 'blake3')).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_DIGEST' }));
  });
});

describe('verifyBytes', () => {
  const data = Buffer.from('hello world\n');
  const d = digestOf(data);
  it('accepts matching content and size', () => {
    expect(() => verifyBytes(data, d)).not.toThrow();
    expect(() => verifyBytes(data, d, data.length)).not.toThrow();
    expect(() => verifyBytes('hello world\n', digestOf(data, 'sha512'))).not.toThrow();
  });
  it('ERR_DIGEST_MISMATCH with expected and actual', () => {
    const other = digestOf('other');
    try {
      verifyBytes(data, other);
      expect.unreachable();
    } catch (e) {
      expect(ImageSpecError.is(e, 'ERR_DIGEST_MISMATCH')).toBe(true);
      expect((e as ImageSpecError).expected).toBe(other);
      expect((e as ImageSpecError).actual).toBe(d);
    }
  });
  it('ERR_SIZE_MISMATCH before hashing', () => {
    expect(() => verifyBytes(data, d, 3)).toThrow(expect.objectContaining({ code: 'ERR_SIZE_MISMATCH', expected: 3, actual: data.length }));
  });
  it('ERR_INVALID_DIGEST / ERR_UNSUPPORTED_DIGEST for the digest itself', () => {
    expect(() => verifyBytes(data, 'sha256:nope')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_DIGEST' }));
    expect(() => verifyBytes(data, 'blake3:abc')).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_DIGEST' }));
  });
});

function chunks(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function collect(source: Readable | Iterable<Buffer> | AsyncIterable<Buffer>, v: NodeJS.ReadWriteStream): Promise<Buffer> {
  const got: Buffer[] = [];
  await pipeline(
    source instanceof Readable ? source : Readable.from(source),
    v,
    new Writable({
      write(c: Buffer, _e, cb) {
        got.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(got);
}

describe('verifyingStream', () => {
  const data = randomBytes(300_000);
  const d = digestOf(data);

  it('passes bytes through unchanged when digest and size match', async () => {
    const v = verifyingStream({ digest: d, size: data.length });
    expect((await collect(chunks(data, 16384), v)).equals(data)).toBe(true);
    expect(v.bytesSeen).toBe(data.length);
    expect(v.actualDigest).toBe(d);
  });

  it('works with sha512 and without a size', async () => {
    const d512 = digestOf(data, 'sha512');
    expect((await collect(chunks(data, 1000), verifyingStream({ digest: d512 }))).equals(data)).toBe(true);
  });

  it('handles empty content', async () => {
    expect(await collect([], verifyingStream({ digest: digestOf(''), size: 0 }))).toEqual(Buffer.alloc(0));
  });

  it('errors with ERR_DIGEST_MISMATCH at the end, and withholds the last chunk', async () => {
    const bad = Buffer.from(data);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
    const got: Buffer[] = [];
    const v = verifyingStream({ digest: d, size: data.length });
    const p = pipeline(
      Readable.from(chunks(bad, 65536)),
      v,
      new Writable({
        write(c: Buffer, _e, cb) {
          got.push(c);
          cb();
        },
      }),
    );
    await expect(p).rejects.toMatchObject({ code: 'ERR_DIGEST_MISMATCH', expected: d, actual: digestOf(bad) });
    expect(Buffer.concat(got).length).toBeLessThan(bad.length);
  });

  it('errors with ERR_SIZE_MISMATCH as soon as the size is exceeded', async () => {
    let produced = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (;;) {
        produced += 1024;
        yield Buffer.alloc(1024);
      }
    }
    await expect(collect(endless(), verifyingStream({ digest: d, size: 4096 }))).rejects.toMatchObject({
      code: 'ERR_SIZE_MISMATCH',
      expected: 4096,
      actual: 5120,
    });
    expect(produced).toBeLessThan(64 * 1024);
  });

  it('errors with ERR_SIZE_MISMATCH when the content is short', async () => {
    await expect(collect(chunks(data.subarray(0, 1000), 100), verifyingStream({ digest: d, size: data.length }))).rejects.toMatchObject({
      code: 'ERR_SIZE_MISMATCH',
      expected: data.length,
      actual: 1000,
    });
  });

  it('throws synchronously for a bad or unsupported digest or a bad size', () => {
    expect(() => verifyingStream({ digest: 'sha256:x' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_DIGEST' }));
    expect(() => verifyingStream({ digest: 'blake3:abc' })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_DIGEST' }));
    expect(() => verifyingStream({ digest: d, size: -1 })).toThrow(expect.objectContaining({ code: 'ERR_SIZE_MISMATCH' }));
  });

  it('an aborted source propagates its own error, not a verification error', async () => {
    const boom = new Error('connection reset');
    async function* dying(): AsyncGenerator<Buffer> {
      yield data.subarray(0, 1000);
      throw boom;
    }
    await expect(collect(dying(), verifyingStream({ digest: d, size: data.length }))).rejects.toBe(boom);
  });

  it('a destroyed source rejects the pipeline', async () => {
    const src = new Readable({ read() {} });
    src.push(data.subarray(0, 100));
    const p = collect(src, verifyingStream({ digest: d }));
    setImmediate(() => src.destroy(new Error('gone')));
    await expect(p).rejects.toThrow('gone');
  });

  it('an AbortSignal destroys the stream with signal.reason', async () => {
    const ac = new AbortController();
    const src = new Readable({ read() {} });
    src.push(data.subarray(0, 100));
    const p = collect(src, verifyingStream({ digest: d, signal: ac.signal }));
    const reason = new Error('user cancelled');
    setImmediate(() => ac.abort(reason));
    await expect(p).rejects.toBe(reason);
  });

  it('an already aborted signal fails fast', async () => {
    const reason = new Error('too late');
    const v = verifyingStream({ digest: d, signal: AbortSignal.abort(reason) });
    await expect(collect(chunks(data, 1000), v)).rejects.toBe(reason);
  });

  it('reports progress', async () => {
    const seen: number[] = [];
    await collect(chunks(data, 100_000), verifyingStream({ digest: d, onProgress: (n) => seen.push(n) }));
    expect(seen).toEqual([100_000, 200_000, 300_000]);
  });
});

describe('agrees with coreutils', () => {
  it('digestOf matches sha256sum and sha512sum on the same file', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { execFileSync } = await import('node:child_process');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'image-spec-digest-'));
    try {
      const data = randomBytes(1 << 20);
      const f = join(dir, 'blob');
      writeFileSync(f, data);
      for (const alg of ['sha256', 'sha512'] as const) {
        const hexOut = execFileSync(`${alg}sum`, [f]).toString().split(' ')[0];
        expect(digestOf(data, alg)).toBe(`${alg}:${hexOut}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('grammar cross-checks on generated strings', () => {
  // The official schema's digest pattern is the bare grammar (no registered-algorithm rules).
  const official = readOfficialFile('defs-descriptor.json') as { definitions: { digest: { pattern: string } } };
  const officialRe = new RegExp(official.definitions.digest.pattern, 'u');
  const ours = loadSchema('defs.json') as { definitions: { digest: { pattern: string } } };
  const oursRe = new RegExp(ours.definitions.digest.pattern, 'u');

  // A tiny deterministic PRNG so failures reproduce.
  let seed = 0x9e3779b9;
  const rnd = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const pieces = ['sha256', 'sha512', 'blake3', 'a', 'Z', '0', '9', 'f', 'F', ':', '+', '.', '_', '-', '=', '/', ' ', 'g', 'é'];
  const gen = (): string => {
    if (rnd(4) === 0) {
      const alg = rnd(2) === 0 ? 'sha256' : 'sha512';
      const len = (alg === 'sha256' ? 64 : 128) + rnd(3) - 1;
      let enc = '';
      for (let i = 0; i < len; i++) enc += '0123456789abcdefA'[rnd(rnd(20) === 0 ? 17 : 16)];
      return `${alg}:${enc}`;
    }
    let s = '';
    const n = 1 + rnd(8);
    for (let i = 0; i < n; i++) s += pieces[rnd(pieces.length)];
    return s;
  };
  const registeredOk = (s: string): boolean => {
    if (s.startsWith('sha256:')) return /^sha256:[a-f0-9]{64}$/.test(s);
    if (s.startsWith('sha512:')) return /^sha512:[a-f0-9]{128}$/.test(s);
    return true;
  };
  const samples = Array.from({ length: 20_000 }, gen);

  it('isValidDigest = official grammar + registered-algorithm rules', () => {
    const disagreements = samples.filter((s) => isValidDigest(s) !== (officialRe.test(s) && registeredOk(s)));
    expect(disagreements).toEqual([]);
    expect(samples.filter((s) => isValidDigest(s)).length).toBeGreaterThan(1000);
  });

  it('our schema pattern and parseDigest agree', () => {
    expect(samples.filter((s) => isValidDigest(s) !== oursRe.test(s))).toEqual([]);
  });
});
