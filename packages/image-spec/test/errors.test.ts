import { describe, expect, it } from 'vitest';
import { ImageSpecError, isOciError, OCI_ERROR_BRAND } from '../src/index.js';

describe('ImageSpecError', () => {
  it('carries code, hint, fields, cause, name and the shared brand', () => {
    const cause = new Error('inner');
    const e = new ImageSpecError('ERR_DIGEST_MISMATCH', 'boom', { hint: 'do this', expected: 'a', actual: 'b', digest: 'a', cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ImageSpecError');
    expect(e.code).toBe('ERR_DIGEST_MISMATCH');
    expect(e.hint).toBe('do this');
    expect(e.expected).toBe('a');
    expect(e.actual).toBe('b');
    expect(e.cause).toBe(cause);
    expect(OCI_ERROR_BRAND).toBe(Symbol.for('oci.error'));
    expect((e as unknown as Record<symbol, unknown>)[Symbol.for('oci.error')]).toBe(true);
  });
  it('is() and isOciError() check the brand and the code, not instanceof', () => {
    const e = new ImageSpecError('ERR_INVALID_DIGEST', 'x');
    expect(ImageSpecError.is(e)).toBe(true);
    expect(ImageSpecError.is(e, 'ERR_INVALID_DIGEST')).toBe(true);
    expect(ImageSpecError.is(e, 'ERR_DIGEST_MISMATCH')).toBe(false);
    expect(isOciError(e)).toBe(true);
    expect(isOciError(e, 'ERR_INVALID_DIGEST')).toBe(true);
    expect(isOciError(new Error('x'))).toBe(false);
    expect(isOciError(null)).toBe(false);
    expect(isOciError('ERR_X')).toBe(false);
    // an error from another copy of the package (or another @oci package): brand only
    const foreign = Object.assign(new Error('y'), { name: 'LayoutError', code: 'ERR_BLOB_UNKNOWN', [Symbol.for('oci.error')]: true });
    expect(isOciError(foreign, 'ERR_BLOB_UNKNOWN')).toBe(true);
    expect(ImageSpecError.is(foreign)).toBe(false);
  });
  it('brand is not enumerable (JSON and spreads stay clean)', () => {
    const e = new ImageSpecError('ERR_INVALID_DIGEST', 'x');
    expect(Object.getOwnPropertySymbols({ ...e })).toEqual([]);
  });
});
