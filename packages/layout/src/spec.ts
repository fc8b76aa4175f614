// The names @oci/layout uses from @oci/image-spec, in one place.
export type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from '@oci/image-spec';
export {
  AnnotationRefName,
  MediaType,
  isIndexMediaType,
  isManifestMediaType,
  parsePlatform,
  selectManifest,
  validateConfig,
  validateDescriptor,
  validateIndex,
  validateManifest,
  validateLayoutFile,
  formatValidationErrors,
} from '@oci/image-spec';
