import { describe, expect, it } from 'vitest';
import { CliError, exitCodeFor } from '../src/errors.js';

describe('exit statuses', () => {
  it('maps interrupted, usage, coded and internal errors like the other oci CLIs', () => {
    expect(exitCodeFor(new CliError('ERR_INTERRUPTED', 'interrupted'))).toBe(130);
    expect(exitCodeFor(new DOMException('aborted', 'AbortError'))).toBe(130);
    expect(exitCodeFor(new CliError('ERR_USAGE', 'bad'))).toBe(2);
    expect(exitCodeFor(Object.assign(new Error('x'), { code: 'ERR_INVALID_REFERENCE' }))).toBe(2);
    expect(exitCodeFor(Object.assign(new Error('no such image'), { code: 'ERR_MANIFEST_UNKNOWN' }))).toBe(1);
    expect(exitCodeFor(new TypeError('undefined is not a function'))).toBe(70);
    expect(exitCodeFor(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(70);
    expect(exitCodeFor(undefined)).toBe(70);
  });
});
