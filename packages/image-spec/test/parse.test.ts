import { describe, expect, it } from 'vitest';
import {
  ImageSpecError,
  MediaType,
  parseConfig,
  parseDescriptor,
  parseIndex,
  parseLayoutFile,
  parseManifest,
  parseManifestOrIndex,
  type ImageSpecErrorCode,
} from '../src/index.js';
import { baseConfig, baseDescriptor, baseIndex, baseManifest } from './helpers/corpus.js';

function codeOf(fn: () => unknown): ImageSpecErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    expect(ImageSpecError.is(e)).toBe(true);
    const err = e as ImageSpecError;
    expect(err.hint).toBeTruthy();
    return err.code;
  }
  return undefined;
}

const json = (v: unknown): string => JSON.stringify(v);
const bytes = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

describe('parseManifest', () => {
  it('parses strings and bytes', () => {
    expect(parseManifest(json(baseManifest))).toEqual(baseManifest);
    expect(parseManifest(bytes(baseManifest))).toEqual(baseManifest);
    expect(parseManifest(Buffer.from(json(baseManifest)))).toEqual(baseManifest);
  });
  it('ERR_INVALID_JSON for broken JSON, empty input and bad UTF-8', () => {
    expect(codeOf(() => parseManifest('{'))).toBe('ERR_INVALID_JSON');
    expect(codeOf(() => parseManifest(''))).toBe('ERR_INVALID_JSON');
    expect(codeOf(() => parseManifest(new Uint8Array([0x7b, 0xff, 0x7d])))).toBe('ERR_INVALID_JSON');
  });
  it('ERR_INVALID_MANIFEST with the first problems in the message and all in errors', () => {
    try {
      parseManifest(json({ schemaVersion: 1 }));
      expect.unreachable();
    } catch (e) {
      const err = e as ImageSpecError;
      expect(err.code).toBe('ERR_INVALID_MANIFEST');
      expect(err.message).toContain("must have required property 'config'");
      expect(err.message).toContain('/schemaVersion');
      expect(err.errors?.length).toBeGreaterThanOrEqual(3);
    }
  });
  it('ERR_TOO_LARGE beyond maxSize', () => {
    expect(codeOf(() => parseManifest(json(baseManifest), { maxSize: 10 }))).toBe('ERR_TOO_LARGE');
    expect(parseManifest(json(baseManifest), { maxSize: 4 * 1024 * 1024 })).toEqual(baseManifest);
  });
  it('checks the announced media type', () => {
    expect(parseManifest(json(baseManifest), { mediaType: MediaType.ImageManifest })).toEqual(baseManifest);
    expect(codeOf(() => parseManifest(json(baseManifest), { mediaType: MediaType.DockerManifest }))).toBe('ERR_MEDIA_TYPE_MISMATCH');
    expect(codeOf(() => parseManifest(json(baseManifest), { mediaType: MediaType.ImageIndex }))).toBe('ERR_MEDIA_TYPE_MISMATCH');
    const { mediaType: _omit, ...noMediaType } = baseManifest;
    expect(parseManifest(json(noMediaType), { mediaType: `${MediaType.DockerManifest}; charset=utf-8` })).toEqual(noMediaType);
  });
  it('refuses an index handed to parseManifest', () => {
    expect(codeOf(() => parseManifest(json(baseIndex)))).toBe('ERR_INVALID_MANIFEST');
  });
});

describe('parseIndex / parseConfig / parseDescriptor / parseLayoutFile', () => {
  it('parse valid documents', () => {
    expect(parseIndex(json(baseIndex))).toEqual(baseIndex);
    expect(parseConfig(json(baseConfig))).toEqual(baseConfig);
    expect(parseConfig(json(baseConfig), { mediaType: MediaType.DockerConfig })).toEqual(baseConfig);
    expect(parseDescriptor(json(baseDescriptor))).toEqual(baseDescriptor);
    expect(parseLayoutFile('{"imageLayoutVersion":"1.0.0"}')).toEqual({ imageLayoutVersion: '1.0.0' });
  });
  it('throw their own codes', () => {
    expect(codeOf(() => parseIndex(json({ schemaVersion: 2 })))).toBe('ERR_INVALID_INDEX');
    expect(codeOf(() => parseIndex(json(baseIndex), { mediaType: MediaType.ImageManifest }))).toBe('ERR_MEDIA_TYPE_MISMATCH');
    expect(codeOf(() => parseConfig(json({ os: 'linux' })))).toBe('ERR_INVALID_CONFIG');
    expect(codeOf(() => parseConfig(json(baseConfig), { mediaType: MediaType.LayerGzip }))).toBe('ERR_MEDIA_TYPE_MISMATCH');
    expect(codeOf(() => parseDescriptor(json({ digest: 'x' })))).toBe('ERR_INVALID_DESCRIPTOR');
    expect(codeOf(() => parseLayoutFile('{"imageLayoutVersion":"2.0.0"}'))).toBe('ERR_INVALID_LAYOUT');
    expect(codeOf(() => parseLayoutFile('not json'))).toBe('ERR_INVALID_JSON');
    expect(codeOf(() => parseConfig('[]'))).toBe('ERR_INVALID_CONFIG');
    expect(codeOf(() => parseIndex('null'))).toBe('ERR_INVALID_INDEX');
  });
});

describe('parseManifestOrIndex', () => {
  it('decides by announced media type, own mediaType, or shape', () => {
    expect(parseManifestOrIndex(json(baseManifest)).kind).toBe('manifest');
    expect(parseManifestOrIndex(json(baseIndex)).kind).toBe('index');
    const { mediaType: _a, ...bareIndex } = baseIndex;
    expect(parseManifestOrIndex(json(bareIndex)).kind).toBe('index');
    expect(parseManifestOrIndex(json(bareIndex), { mediaType: MediaType.DockerManifestList }).kind).toBe('index');
    expect(codeOf(() => parseManifestOrIndex(json(bareIndex), { mediaType: MediaType.ImageManifest }))).toBe('ERR_INVALID_MANIFEST');
  });
});
