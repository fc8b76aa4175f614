export { Layout, imageLayoutVersion, defaultMaxJsonSize } from './layout.js';
export type { RefEntry, ResolveOptions, Resolved, PutJsonOptions, ReadOptions } from './layout.js';
export type { BlobSource, PutBlobOptions, PutBlobResult, PutBlobProgress, GetBlobOptions } from './blobs.js';
export type { GcOptions, GcResult } from './gc.js';
export type { VerifyOptions, VerifyResult, VerifyProblem } from './verify.js';
export type { LockOptions, LockInfo } from './lock.js';
export { LayoutError } from './errors.js';
export type { LayoutErrorCode, LayoutErrorOptions } from './errors.js';
export { isValidRefName, assertRefName } from './refs.js';
