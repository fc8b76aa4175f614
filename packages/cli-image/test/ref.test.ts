import { describe, expect, it } from 'vitest';
import { parseRefArgs } from '../src/ref.js';

describe('--ref (oci-image-tool syntax)', () => {
  it('accepts REF and name=REF', () => {
    expect(parseRefArgs(['latest'], undefined)).toEqual({ name: 'latest', platform: undefined });
    expect(parseRefArgs(['name=v1.0'], undefined)).toEqual({ name: 'v1.0', platform: undefined });
  });
  it('turns platform.* filters into a platform; --platform wins', () => {
    expect(parseRefArgs(['name=latest', 'platform.os=linux', 'platform.arch=arm', 'platform.variant=v7'], undefined).platform).toBe('linux/arm/v7');
    expect(parseRefArgs(['latest', 'platform.arch=arm64'], 'linux/amd64').platform).toBe('linux/amd64');
  });
  it('refuses unknown keys, empty values, two names and no name', () => {
    for (const bad of [['colour=red'], ['name='], ['a', 'name=b'], ['platform.os=linux']]) {
      expect(() => parseRefArgs(bad, undefined)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
    }
  });
});
