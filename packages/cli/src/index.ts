export { defaultCacheDir, cachePaths } from './cache.js';
export type { CachePaths } from './cache.js';
export { parseImage, ensureImage } from './image.js';
export type { ImageSource, PullOptions } from './image.js';
export { OciCliError, EXIT, exitCodeFor } from './errors.js';
