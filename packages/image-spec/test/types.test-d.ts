import { describe, expectTypeOf, it } from 'vitest';
import {
  createHasher,
  layerCompression,
  MediaType,
  parseDigest,
  parseManifest,
  parsePlatform,
  selectManifest,
  validateManifest,
  verifyingStream,
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type ImageSpecError,
  type ImageSpecErrorCode,
  type Platform,
  type ValidationResult,
} from '../src/index.js';
import type { Transform } from 'node:stream';

describe('public types', () => {
  it('documents', () => {
    expectTypeOf<ImageManifest['schemaVersion']>().toEqualTypeOf<2>();
    expectTypeOf<ImageManifest['layers']>().toEqualTypeOf<Descriptor[]>();
    expectTypeOf<ImageIndex['manifests']>().toEqualTypeOf<Descriptor[]>();
    expectTypeOf<Descriptor['platform']>().toEqualTypeOf<Platform | undefined>();
    expectTypeOf<ImageConfig['rootfs']['type']>().toEqualTypeOf<'layers'>();
    expectTypeOf<NonNullable<ImageConfig['config']>['Cmd']>().toEqualTypeOf<string[] | null | undefined>();
  });
  it('functions', () => {
    expectTypeOf(parseDigest).returns.toEqualTypeOf<{ algorithm: string; encoded: string }>();
    expectTypeOf(parseManifest).returns.toEqualTypeOf<ImageManifest>();
    expectTypeOf(parsePlatform).returns.toEqualTypeOf<Platform>();
    expectTypeOf(selectManifest).returns.toEqualTypeOf<Descriptor | undefined>();
    expectTypeOf(validateManifest).returns.toEqualTypeOf<ValidationResult>();
    expectTypeOf(layerCompression).returns.toEqualTypeOf<'none' | 'gzip' | 'zstd' | undefined>();
    expectTypeOf(verifyingStream).returns.toMatchTypeOf<Transform>();
    expectTypeOf(createHasher('sha256').digest).returns.toBeString();
  });
  it('constants are literal and readonly', () => {
    expectTypeOf(MediaType.ImageManifest).toEqualTypeOf<'application/vnd.oci.image.manifest.v1+json'>();
    expectTypeOf<ImageSpecError['code']>().toEqualTypeOf<ImageSpecErrorCode>();
    // @ts-expect-error MediaType is readonly
    MediaType.ImageManifest = 'x';
  });
});
