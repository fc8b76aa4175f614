export { CliError, USAGE_CODES } from './errors.js';
export { parseTransport } from './transports.js';
export type { ImageName } from './transports.js';
