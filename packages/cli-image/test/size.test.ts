import { describe, expect, it } from 'vitest';
import { parseSize } from '../src/common.js';

describe('--max-layer-size values', () => {
  it('takes bytes and binary units, case-insensitive', () => {
    expect(parseSize('1048576', '--x')).toBe(1 << 20);
    expect(parseSize('512K', '--x')).toBe(512 << 10);
    expect(parseSize('10g', '--x')).toBe(10 * 2 ** 30);
    expect(parseSize('1.5GiB', '--x')).toBe(1.5 * 2 ** 30);
    expect(parseSize('2TB', '--x')).toBe(2 * 2 ** 40);
    expect(parseSize('0', '--x')).toBe(0);
  });
  it('refuses anything else as a usage error (exit 2)', () => {
    for (const bad of ['', 'abc', '-1', '10X', '1e9', '10 G B']) {
      expect(() => parseSize(bad, '--max-layer-size'), bad).toThrow(expect.objectContaining({ code: 'ERR_USAGE', exitCode: 2 }));
    }
  });
});
