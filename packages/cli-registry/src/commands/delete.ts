import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { accessFlags, accessOptions, authfileOption } from '../options.js';

type Args = Record<string, unknown> & { image: string };

export const deleteCommand: CommandModule<object, Args> = {
  command: 'delete <image>',
  describe: 'Delete an image manifest from a registry (docker://REF)',
  builder: (y: Argv) => y
    .positional('image', { type: 'string', demandOption: true, describe: 'docker://REF' })
    .options({ ...authfileOption, ...accessOptions('') }) as unknown as Argv<Args>,
  handler: async (argv: ArgumentsCamelCase<Args>) => {
    const { parseTransport } = await import('../transports.js');
    const { usage } = await import('../errors.js');
    const name = parseTransport(argv.image);
    if (name.transport !== 'docker') throw usage('delete works on docker:// images only');
    const rc = await import('@oci/registry-client');
    const { newClient } = await import('../open.js');
    const ref = rc.parseReference(name.reference);
    const client = await newClient(accessFlags(argv, ''), ref);
    try {
      await client.deleteManifest(ref);
    } finally {
      await client.close();
    }
  },
};
