export type { Descriptor, HistoryEntry, ImageConfig, ImageConfigConfig, ImageIndex, ImageLayoutFile, ImageManifest, Platform, RootFS } from './types.js';
export { ImageSpecError, isOciError, OCI_ERROR_BRAND } from './errors.js';
export type { ImageSpecErrorCode, ImageSpecErrorOptions, ValidationIssue } from './errors.js';
export {
  Annotation,
  AnnotationRefName,
  baseMediaType,
  EmptyJSONDescriptor,
  isConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  isNonDistributableMediaType,
  layerCompression,
  MediaType,
} from './media-types.js';
export type { KnownMediaType, LayerCompression, MediaTypeName } from './media-types.js';
export {
  createHasher,
  DIGEST_ALGORITHMS,
  digestOf,
  isSupportedAlgorithm,
  isValidDigest,
  parseDigest,
  parseSupportedDigest,
  verifyBytes,
  verifyingStream,
} from './digest.js';
export type { DigestAlgorithm, Hasher, ParsedDigest, VerifyingStream, VerifyingStreamOptions } from './digest.js';
export { descriptorOf } from './descriptor.js';
export type { DescriptorOfOptions } from './descriptor.js';
export {
  formatPlatform,
  hostPlatform,
  normalizeArch,
  normalizeOS,
  normalizePlatform,
  parsePlatform,
  platformCandidates,
  platformMatches,
  selectManifest,
} from './platform.js';
export type { SelectManifestOptions } from './platform.js';
export {
  formatValidationErrors,
  loadSchema,
  SCHEMA_FILES,
  validateConfig,
  validateDescriptor,
  validateIndex,
  validateLayoutFile,
  validateManifest,
} from './validate.js';
export type { SchemaFile, ValidationResult } from './validate.js';
export { parseConfig, parseDescriptor, parseIndex, parseLayoutFile, parseManifest, parseManifestOrIndex } from './parse.js';
export type { ParseOptions } from './parse.js';
