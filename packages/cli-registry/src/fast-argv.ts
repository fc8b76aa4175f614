import type { Options } from 'yargs';
import { copyOptions } from './commands/copy.js';
import { globalOptions } from './options.js';

/**
 * The common command lines of one command, parsed without yargs.
 *
 * yargs costs ~20 ms of every start (its modules, the command table, parsing): a fifth of a registry re-copy. For
 * the commands scripts run in loops (`copy`), this reads the command line from the same option tables yargs is
 * given, and gives up — returns undefined, so yargs parses it, with its help and its usage errors — at anything
 * beyond the plain forms: `--name value`, `--name=value`, `--flag`, `--no-flag`, `--flag=true|false`, `-x` /
 * `-x value` for one-letter aliases, global options anywhere, exactly the command's positionals. What it returns
 * is what yargs gives the handler for that line (test/fast-argv.test.ts runs yargs as the oracle).
 */

export interface FastCommand {
  /** The command word. */
  name: string;
  /** Positional names, in order (each required). */
  positionals: string[];
  /** The command's options and the global ones, as given to yargs. */
  options: Record<string, Options>;
}

type Argv = Record<string, unknown> & { _: (string | number)[]; $0: string };

const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const aliasesOf = (opt: Options): readonly string[] => (opt.alias === undefined ? [] : typeof opt.alias === 'string' ? [opt.alias] : opt.alias);

export function parseFast(args: readonly string[], command: FastCommand, scriptName: string): Argv | undefined {
  const byName = new Map<string, [string, Options]>();
  for (const [key, opt] of Object.entries(command.options)) {
    byName.set(key, [key, opt]);
    for (const a of aliasesOf(opt)) byName.set(a, [key, opt]);
  }
  const values = new Map<string, unknown>();
  const positionals: string[] = [];
  let sawCommand = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--' || arg === '-') return undefined;
    if (!arg.startsWith('-')) {
      if (!sawCommand) {
        if (arg !== command.name) return undefined;
        sawCommand = true;
      } else {
        positionals.push(arg);
      }
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else {
      // one short alias, no groups (-qa) and no attached values (-fv2s2)
      if (arg.length !== 2) return undefined;
      name = arg.slice(1);
    }
    let found = byName.get(name);
    let negated = false;
    if (found === undefined && name.startsWith('no-') && inline === undefined) {
      found = byName.get(name.slice(3));
      negated = true;
    }
    // unknown (strict: a usage error), --help/--version: yargs' business
    if (found === undefined) return undefined;
    const [key, opt] = found;
    if (values.has(key)) return undefined; // repeated: yargs makes an array
    let value: unknown;
    if (opt.type === 'boolean') {
      if (negated) value = false;
      else if (inline === undefined) {
        // yargs takes a following "true"/"false" as the flag's value
        const next = args[i + 1];
        if (next === 'true' || next === 'false') return undefined;
        value = true;
      } else if (inline === 'true' || inline === 'false') value = inline === 'true';
      else return undefined;
    } else if (opt.type === 'string' || opt.type === 'number') {
      if (negated) return undefined;
      let text = inline;
      if (text === undefined) {
        const next = args[i + 1];
        if (next === undefined || next.startsWith('-')) return undefined;
        text = next;
        i++;
      }
      if (opt.type === 'number') {
        if (!/^(?:0|[1-9][0-9]{0,14})$/.test(text)) return undefined;
        value = Number(text);
      } else {
        // yargs-parser turns some strings into other things (hex, numbers with exponent...) only for number
        // options; strings stay as typed, except one that is empty or only quotes
        if (text === '' || /^["']|["']$/.test(text)) return undefined;
        value = text;
      }
      if (opt.choices !== undefined && !(opt.choices as unknown[]).includes(value)) return undefined;
    } else {
      return undefined;
    }
    values.set(key, value);
  }
  if (!sawCommand || positionals.length !== command.positionals.length) return undefined;

  const argv: Argv = { _: [command.name], $0: scriptName };
  for (const [key, opt] of Object.entries(command.options)) {
    const value = values.has(key) ? values.get(key) : opt.default;
    if (value === undefined) continue;
    argv[key] = value;
    argv[camel(key)] = value;
    for (const a of aliasesOf(opt)) argv[a] = value;
  }
  command.positionals.forEach((p, k) => {
    argv[p] = positionals[k];
  });
  return argv;
}

/** `copy` without yargs when its command line is plain; undefined: let yargs parse it. */
export function fastCopyArgv(args: readonly string[]): Argv | undefined {
  return parseFast(args, { name: 'copy', positionals: ['source', 'destination'], options: { ...copyOptions, ...globalOptions } }, 'oci-registry');
}
