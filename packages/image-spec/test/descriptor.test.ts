import { describe, expect, it } from 'vitest';
import { descriptorOf, digestOf, EmptyJSONDescriptor, MediaType, validateDescriptor } from '../src/index.js';

describe('descriptorOf', () => {
  it('describes bytes and strings', () => {
    expect(descriptorOf('{}', MediaType.EmptyJSON)).toEqual({ mediaType: MediaType.EmptyJSON, digest: EmptyJSONDescriptor.digest, size: 2 });
    expect(descriptorOf(new Uint8Array([1, 2, 3]), MediaType.Layer).size).toBe(3);
    expect(descriptorOf('é', MediaType.Layer).size).toBe(2);
  });
  it('adds optional members and embeds data that validates', () => {
    const d = descriptorOf('{}', MediaType.EmptyJSON, {
      embed: true,
      annotations: { a: 'b' },
      platform: { os: 'linux', architecture: 'amd64' },
      artifactType: 'application/vnd.example+json',
      urls: ['https://example.com/x'],
      algorithm: 'sha512',
    });
    expect(d.data).toBe('e30=');
    expect(d.digest).toBe(digestOf('{}', 'sha512'));
    expect(validateDescriptor(d)).toEqual({ valid: true, errors: [] });
  });
  it('embeds a subarray correctly', () => {
    const buf = Buffer.from('xx{}yy').subarray(2, 4);
    expect(descriptorOf(buf, MediaType.EmptyJSON, { embed: true }).data).toBe('e30=');
  });
  it('refuses unsupported algorithms', () => {
    expect(() => descriptorOf('x', MediaType.Layer, { algorithm: 'md5' })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_DIGEST' }));
  });
});
