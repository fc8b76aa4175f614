import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

// The names other packages code against (docs: /tmp/oci-brief/contracts.md, "@oci/image-spec").
const CONTRACT = [
  'MediaType', 'isManifestMediaType', 'isIndexMediaType', 'layerCompression', 'AnnotationRefName',
  'parseDigest', 'isValidDigest', 'digestOf', 'createHasher', 'verifyingStream', 'verifyBytes',
  'parsePlatform', 'formatPlatform', 'normalizePlatform', 'platformMatches', 'hostPlatform', 'selectManifest',
  'validateManifest', 'validateIndex', 'validateConfig', 'validateDescriptor', 'validateLayoutFile',
  'parseManifest', 'parseIndex', 'parseConfig', 'ImageSpecError', 'isOciError',
];

describe('public API', () => {
  it('keeps every name of the contract', () => {
    for (const name of CONTRACT) expect(api, name).toHaveProperty(name);
  });
  it('matches the reviewed list of runtime exports', async () => {
    await expect(`${Object.keys(api).sort().join('\n')}\n`).toMatchFileSnapshot('./__snapshots__/api.txt');
  });
});
