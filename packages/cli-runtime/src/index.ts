export const packageName = '@oci/cli-runtime';
export { parseArgs, COMMANDS, GLOBAL_OPTIONS } from './options.js';
export type { Parsed, CommandDef, OptDef, OptType } from './options.js';
