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

/**
 * `oci-runtime COMMAND --help` (or `-h`, or `oci-runtime help COMMAND`): the command's help in runc's (urfave/cli's)
 * layout, from the same table the parser reads. yargs, configured to stop at the first positional as urfave does,
 * prints nothing for a command's help.
 */
export function commandHelp(argv: readonly string[]): string | undefined {
  // the words, without the values of global options (`--root DIR run --help` is run's help)
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) words.push(a);
    else if (words.length === 0 && !a.includes('=') && GLOBAL_OPTIONS[a.replace(/^--?/, '')]?.type === 'string') i++;
  }
  const wantsHelp = argv.includes('--help') || argv.includes('-h') || words[0] === 'help';
  const name = words[0] === 'help' ? words[1] : words[0];
  const def = name === undefined ? undefined : COMMANDS[name];
  if (!wantsHelp || def === undefined) return undefined;
  const opts = Object.entries(def.options).map(([k, d]) => {
    const value = d.type === 'boolean' ? '' : ' value';
    const names = [`--${k}${value}`, ...(d.alias ? [`-${d.alias}${value}`] : [])].join(', ');
    const dflt = d.default !== undefined && d.default !== false && d.default !== 0 ? ` (default: ${String(d.default)})` : '';
    return [names, `${d.describe}${dflt}`] as const;
  });
  opts.push(['--help, -h', 'show help']);
  const width = Math.max(...opts.map(([n]) => n.length));
  return [
    'NAME:', `   oci-runtime ${name} - ${def.describe}`, '',
    'USAGE:', `   oci-runtime ${def.usage}`, '',
    'OPTIONS:', ...opts.map(([n, d]) => `   ${n.padEnd(width)}  ${d}`), '',
  ].join('\n');
}

/** The slow path: help, version and usage errors, rendered by yargs from the same tables. */
export async function yargsMain(argv: string[], parsed: Parsed | undefined): Promise<number> {
  const help = commandHelp(argv);
  if (help !== undefined) {
    process.stdout.write(help);
    return 0;
  }
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
