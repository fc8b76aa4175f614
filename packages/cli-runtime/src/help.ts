import type { Argv, Options } from 'yargs';
import { COMMANDS, GLOBAL_OPTIONS } from './options.js';
import type { OptDef, Parsed } from './options.js';

function toYargs(defs: Record<string, OptDef>): Record<string, Options> {
  const out: Record<string, Options> = {};
  for (const [k, d] of Object.entries(defs)) {
    out[k] = { type: d.type, describe: d.describe, ...(d.alias ? { alias: d.alias } : {}), ...(d.default !== undefined ? { default: d.default } : {}) };
  }
  return out;
}

/** The slow path: help, version and usage errors, rendered by yargs from the same tables. */
export async function yargsMain(argv: string[], parsed: Parsed | undefined): Promise<number> {
  const { default: yargs } = await import('yargs');
  let y: Argv = yargs(argv)
    .scriptName('oci-runtime')
    .usage('oci-runtime: an OCI runtime (runc\'s command line)\n\nUsage: oci-runtime [global options] command [command options] [arguments...]')
    .options(toYargs(GLOBAL_OPTIONS))
    .strict()
    .help('help')
    .alias('help', 'h')
    .version('version', 'print the version', `oci-runtime version 0.1.0\nspec: 1.3.0`)
    .alias('version', 'v')
    .parserConfiguration({ 'halt-at-non-option': true })
    .demandCommand(1, 'a command is required')
    .wrap(Math.min(120, process.stdout.columns ?? 100))
    .exitProcess(false);
  for (const [name, def] of Object.entries(COMMANDS)) {
    y = y.command(def.usage, def.describe, (c) => c.options(toYargs(def.options)).parserConfiguration({ 'halt-at-non-option': true }));
  }
  let failed = false;
  y = y.fail((msg, err) => {
    failed = true;
    process.stderr.write(`${msg ?? err?.message ?? 'invalid usage'}\n`);
  });
  const known = parsed && parsed.args.length < (COMMANDS[parsed.command]?.min ?? 0);
  if (known) {
    process.stderr.write(`oci-runtime: "${parsed!.command}" requires a container id\nusage: oci-runtime ${COMMANDS[parsed!.command]!.usage}\n`);
    return 1;
  }
  await y.parseAsync();
  const isHelp = argv.includes('--help') || argv.includes('-h') || argv.includes('--version') || argv.includes('-v');
  if (isHelp && !failed) return 0;
  if (!failed) process.stderr.write('oci-runtime: invalid usage (see oci-runtime --help)\n');
  return 1;
}
