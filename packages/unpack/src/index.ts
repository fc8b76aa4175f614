export { UnpackError, type UnpackErrorOptions, type UnpackWarning } from './errors.js';
export { cleanEntryPath, parseLayer, type EntryKind, type LayerEntry } from './tar.js';
export { applyLayer, isRootless, type ApplyLayerOptions, type ApplyLayerResult, type OwnerRecord } from './apply.js';
export { createDecompressor, type Compression } from './decompress.js';
export { planUnpack, unpackImage, type LayerPlan, type UnpackOptions, type UnpackProgress, type UnpackResult } from './unpack.js';
export { createBundle, type CreateBundleOptions, type CreateBundleResult } from './bundle.js';
