import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { accessFlags, accessOptions, authfileOption } from '../options.js';

type Args = Record<string, unknown> & { repository: string };

export const listTagsCommand: CommandModule<object, Args> = {
  command: 'list-tags <repository>',
  describe: 'List the tags of a repository as JSON ({Repository, Tags}, like skopeo)',
  builder: (y: Argv) => y
    .positional('repository', { type: 'string', demandOption: true, describe: 'docker://REGISTRY/REPOSITORY (no tag)' })
    .options({ ...authfileOption, ...accessOptions('') }) as unknown as Argv<Args>,
  handler: async (argv: ArgumentsCamelCase<Args>) => {
    const { parseTransport } = await import('../transports.js');
    const { usage } = await import('../errors.js');
    const name = parseTransport(argv.repository);
    if (name.transport !== 'docker') throw usage('list-tags works on docker:// repositories only');
    const rc = await import('@oci/registry-client');
    const ref = rc.parseReference(name.reference, { defaultTag: false });
    if (ref.tag !== undefined || ref.digest !== undefined) throw usage(`"${argv.repository}" names a tag or digest; give the repository only`);
    const { newClient } = await import('../open.js');
    const { goIndent } = await import('../inspect-format.js');
    const client = await newClient(accessFlags(argv, ''), ref);
    try {
      const tags = await client.listTags(ref);
      process.stdout.write(goIndent({ Repository: rc.repositoryName(ref), Tags: tags }));
    } finally {
      await client.close();
    }
  },
};
