export { UnpackError, type UnpackErrorOptions, type UnpackWarning } from './errors.js';
export { cleanEntryPath, parseLayer, type EntryKind, type LayerEntry } from './tar.js';
export { applyLayer, isRootless, type ApplyLayerOptions, type ApplyLayerResult, type OwnerRecord } from './apply.js';
