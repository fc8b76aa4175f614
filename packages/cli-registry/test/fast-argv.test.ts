// The fast path of `copy` (src/fast-argv.ts) against yargs as the oracle: for every command line it accepts,
// the handler gets what yargs would give it; everything else is left to yargs.
import { describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { copyCommand, copyOptions } from '../src/commands/copy.js';
import { fastCopyArgv } from '../src/fast-argv.js';
import { globalOptions } from '../src/options.js';

async function viaYargs(args: string[]): Promise<Record<string, unknown> | Error> {
  let got: Record<string, unknown> | undefined;
  try {
    await yargs(args)
      .command({ ...copyCommand, handler: (a) => { got = a as Record<string, unknown>; } })
      .options(globalOptions)
      .strict()
      .exitProcess(false)
      .fail((msg, err) => { throw err ?? new Error(msg); })
      .parseAsync();
  } catch (err) {
    return err as Error;
  }
  return got ?? new Error('no handler call');
}

const S = 'docker://127.0.0.1:5000/a/b:latest';
const D = 'oci:/tmp/x:latest';

// command lines the fast path must take (the forms scripts and the benchmarks use)
const fast: string[][] = [
  ['copy', S, D],
  ['copy', '-q', '--src-tls-verify=false', '--src-no-creds', S, D],
  ['copy', S, D, '--quiet', '--json'],
  ['--debug', 'copy', S, D],
  ['--policy', '/p.json', 'copy', '--insecure-policy', S, D, '--tmpdir', '/tmp'],
  ['copy', '--all', '--dest-tls-verify=true', '--no-src-tls-verify', S, D],
  ['copy', '-a', '-f', 'oci', '--jobs', '2', '--retry-times=0', S, D],
  ['copy', '--override-os', 'linux', '--override-arch=arm64', '--override-variant', 'v8', S, D],
  ['copy', '--src-creds', 'user:pa=ss', '--dest-creds=u:p', '--authfile', '/a.json', '--src-authfile=/b.json', S, D],
  ['copy', '--dest-compress-format', 'zstd', '--dest-compress-level', '3', '--digestfile', '/d', S, D],
  ['copy', '--src-cert-dir', '/c', '--dest-cert-dir=/d', '--preserve-digests', '--format=v2s2', S, D],
  ['copy', '--registries-conf', '/r.conf', '--dest-no-creds', S, 'dir:/tmp/d'],
  ['copy', 'oci:/x:1', 'oci-archive:/y.tar:2'],
];

// lines left to yargs (help, usage errors, rarer forms)
const slow: string[][] = [
  ['copy', '--help', S, D],
  ['copy', S],
  ['copy', S, D, 'extra'],
  ['copy', '--bogus', S, D],
  ['copy', '-qa', S, D],
  ['copy', '--jobs', 'many', S, D],
  ['copy', '--format', 'docker', S, D],
  ['copy', '--quiet', 'true', S, D],
  ['copy', '--quiet=yes', S, D],
  ['copy', '-q', '-q', S, D],
  ['copy', '--no-src-creds', S, D],
  ['copy', '--src-creds', S, D],
  ['copy', '--', S, D],
  ['inspect', S],
  ['--version'],
  [],
];

const keys = ['source', 'destination', ...Object.keys(copyOptions), ...Object.keys(globalOptions)];
const pick = (a: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = { _: a._ };
  for (const k of keys) {
    out[k] = a[k];
    out[k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = a[k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
    const alias = copyOptions[k]?.alias;
    if (typeof alias === 'string') out[alias] = a[alias];
  }
  return out;
};

describe('copy without yargs', () => {
  it.each(fast.map((a) => [a.join(' '), a]))('%s: taken, and the same argv as yargs gives', async (_name, args) => {
    const mine = fastCopyArgv(args as string[]);
    expect(mine).toBeDefined();
    const theirs = await viaYargs(args as string[]);
    expect(theirs).not.toBeInstanceOf(Error);
    expect(pick(mine!)).toEqual(pick(theirs as Record<string, unknown>));
  });

  it.each(slow.map((a) => [a.join(' ') || '(nothing)', a]))('%s: left to yargs', (_name, args) => {
    expect(fastCopyArgv(args as string[])).toBeUndefined();
  });

  it('a value that only looks like a number stays the string yargs gives', async () => {
    const args = ['copy', '--src-creds', '123', '--digestfile=0x10', S, D];
    const mine = fastCopyArgv(args);
    const theirs = await viaYargs(args);
    if (mine !== undefined) expect(pick(mine)).toEqual(pick(theirs as Record<string, unknown>));
  });
});
