import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

type Args = Record<string, unknown> & { file: string };

export const manifestDigestCommand: CommandModule<object, Args> = {
  command: 'manifest-digest <file>',
  describe: 'Print the digest of a manifest file (what a registry names it by), like skopeo manifest-digest',
  builder: (y: Argv) => y
    .positional('file', { type: 'string', demandOption: true, describe: 'A manifest or index, as stored (e.g. from inspect --raw)' })
    .options({ algorithm: { type: 'string', choices: ['sha256', 'sha512'], default: 'sha256', describe: 'Digest algorithm' } }) as unknown as Argv<Args>,
  handler: async (argv: ArgumentsCamelCase<Args>) => {
    const { readFile } = await import('node:fs/promises');
    const { createHash } = await import('node:crypto');
    const { CliError } = await import('../errors.js');
    let bytes: Buffer;
    try {
      bytes = await readFile(argv.file);
    } catch (err) {
      throw new CliError('ERR_USAGE', `cannot read ${argv.file}: ${(err as Error).message}`, { cause: err, hint: 'Give the path of a manifest file.' });
    }
    if (/"signatures"\s*:/.test(bytes.toString('utf8')) && /"schemaVersion"\s*:\s*1\b/.test(bytes.toString('utf8'))) {
      throw new CliError('ERR_UNSUPPORTED', `${argv.file} is a signed Docker schema 1 manifest`, { hint: 'Schema 1 manifests are not supported; convert the image with a current tool first.' });
    }
    const algorithm = String(argv.algorithm ?? 'sha256');
    process.stdout.write(`${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}\n`);
  },
};
