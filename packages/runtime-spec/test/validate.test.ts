import { describe, expect, it } from 'vitest';
import {
  defaultSpec,
  formatIssues,
  formatSpec,
  parseFeatures,
  parseSpec,
  parseState,
  RuntimeSpecError,
  validateSpec,
} from '../src/index.js';

function thrown(fn: () => unknown): RuntimeSpecError {
  try {
    fn();
  } catch (err) {
    if (RuntimeSpecError.is(err)) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('parseSpec', () => {
  it('returns the document for valid text and bytes', () => {
    const text = formatSpec(defaultSpec());
    expect(parseSpec(text)).toStrictEqual(defaultSpec());
    expect(parseSpec(new TextEncoder().encode(text))).toStrictEqual(defaultSpec());
    expect(parseSpec(Buffer.from(text))).toStrictEqual(defaultSpec());
  });

  it('accepts every ociVersion 1.0.0 .. 1.3.x', () => {
    for (const v of ['1.0.0', '1.0.0-rc5', '1.0.1', '1.0.2', '1.0.2-dev', '1.1.0', '1.1.1', '1.2.0', '1.2.1', '1.3.0', '1.3.12']) {
      expect(parseSpec(JSON.stringify({ ...defaultSpec(), ociVersion: v })).ociVersion).toBe(v);
    }
  });

  it('ERR_INVALID_CONFIG lists the first errors with JSON paths, and carries a hint and all issues', () => {
    const doc = defaultSpec() as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    doc.linux.namespaces[0].type = 'bogus';
    delete doc.mounts[2].destination;
    doc.process.user.uid = -1;
    const err = thrown(() => parseSpec(JSON.stringify(doc)));
    expect(err.code).toBe('ERR_INVALID_CONFIG');
    expect(err.name).toBe('RuntimeSpecError');
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/^config\.json is invalid: /);
    expect(err.message).toContain('/process/user/uid: must be >= 0');
    expect(err.message).toContain('/mounts/2/destination: is required');
    expect(err.message).toContain('/linux/namespaces/0/type: must be one of "mount", "pid"');
    expect(err.hint).toMatch(/runc spec/);
    expect(err.errors?.map((e) => e.path).sort()).toEqual(['/linux/namespaces/0/type', '/mounts/2/destination', '/process/user/uid']);
  });

  it('shows at most five errors and counts the rest', () => {
    const doc = { ociVersion: '1.0.2', mounts: Array.from({ length: 8 }, () => ({})) };
    const err = thrown(() => parseSpec(JSON.stringify(doc)));
    expect(err.errors).toHaveLength(8);
    expect(err.message).toContain('... and 3 more');
    expect(err.message.match(/is required/g)).toHaveLength(5);
  });

  it('ERR_INVALID_CONFIG for text that is not JSON, with the parser error as cause', () => {
    const err = thrown(() => parseSpec('{"ociVersion": "1.0.2",}'));
    expect(err.code).toBe('ERR_INVALID_CONFIG');
    expect(err.message).toMatch(/not valid JSON/);
    expect(err.cause).toBeInstanceOf(SyntaxError);
    expect(thrown(() => parseSpec('')).code).toBe('ERR_INVALID_CONFIG');
  });

  it('ERR_INVALID_CONFIG for JSON that is not an object, or an unsupported version', () => {
    expect(thrown(() => parseSpec('null')).errors).toEqual([{ path: '/', message: 'must be object' }]);
    expect(thrown(() => parseSpec('[]')).code).toBe('ERR_INVALID_CONFIG');
    const err = thrown(() => parseSpec(JSON.stringify({ ociVersion: '2.0.0' })));
    expect(err.errors).toEqual([{ path: '/ociVersion', message: 'must be a runtime-spec version from 1.0.0 to 1.3.x (SemVer), got "2.0.0"' }]);
    expect(err.hint).toContain('1.0.0 .. 1.3.x');
  });

  it('ERR_TOO_LARGE above maxSize', () => {
    const text = formatSpec(defaultSpec());
    expect(thrown(() => parseSpec(text, { maxSize: 100 })).code).toBe('ERR_TOO_LARGE');
    expect(parseSpec(text, { maxSize: text.length })).toBeTruthy();
  });

  it('escapes JSON-pointer characters in paths', () => {
    const r = validateSpec({ ociVersion: '1.0.2', annotations: { 'a/b~c': 1 } });
    expect(r.errors).toEqual([{ path: '/annotations/a~1b~0c', message: 'must be string' }]);
  });
});

describe('parseState / parseFeatures', () => {
  it('parses a valid state and rejects a bad one with ERR_INVALID_STATE', () => {
    const s = { ociVersion: '1.0.2', id: 'redis', status: 'running', pid: 42, bundle: '/b' };
    expect(parseState(JSON.stringify(s))).toEqual(s);
    const err = thrown(() => parseState(JSON.stringify({ ...s, status: 'paused' })));
    expect(err.code).toBe('ERR_INVALID_STATE');
    expect(err.message).toContain('/status: must be one of "creating", "created", "running", "stopped"');
    expect(thrown(() => parseState('{')).code).toBe('ERR_INVALID_STATE');
  });

  it('parses a features document and rejects a bad one with ERR_INVALID_FEATURES', () => {
    expect(parseFeatures('{"ociVersionMin":"1.0.0","ociVersionMax":"1.3.0"}').ociVersionMax).toBe('1.3.0');
    expect(thrown(() => parseFeatures('{"ociVersionMin":"1.0.0"}')).code).toBe('ERR_INVALID_FEATURES');
  });
});

describe('RuntimeSpecError', () => {
  it('is branded for cross-copy checks and matches on code', () => {
    const err = new RuntimeSpecError('ERR_INVALID_USER', 'x', { hint: 'h' });
    expect(RuntimeSpecError.is(err)).toBe(true);
    expect(RuntimeSpecError.is(err, 'ERR_INVALID_USER')).toBe(true);
    expect(RuntimeSpecError.is(err, 'ERR_INVALID_CONFIG')).toBe(false);
    expect(RuntimeSpecError.is(new Error('x'))).toBe(false);
    expect(RuntimeSpecError.is(null)).toBe(false);
    expect((err as unknown as Record<symbol, unknown>)[Symbol.for('oci.error')]).toBe(true);
  });

  it('formatIssues', () => {
    expect(formatIssues([{ path: '/a', message: 'm' }])).toBe('/a: m');
    expect(formatIssues([])).toBe('');
  });
});
