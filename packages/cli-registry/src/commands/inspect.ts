import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { accessFlags, accessOptions, authfileOption, platformFlags, platformOptions } from '../options.js';

type Args = Record<string, unknown> & { image: string };

export const inspectCommand: CommandModule<object, Args> = {
  command: 'inspect <image>',
  describe: 'Show an image: a JSON summary like skopeo inspect, the raw manifest (--raw) or the config (--config)',
  builder: (y: Argv) => y
    .positional('image', { type: 'string', demandOption: true, describe: 'docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF] or dir:DIR' })
    .options({
      raw: { type: 'boolean', describe: 'Print the manifest (or with --config the config) exactly as stored' },
      config: { type: 'boolean', describe: 'Print the image config instead of the summary' },
      'no-tags': { alias: 'n', type: 'boolean', describe: 'Do not list the repository tags' },
      // yargs reads --no-tags as the negation of a "tags" option: declare it so that --no-tags works as skopeo's
      tags: { type: 'boolean', hidden: true },
      format: { alias: 'f', type: 'string', describe: 'Print with a Go template, as skopeo: "{{.Digest}}", "{{json .Labels}}", "{{range .RepoTags}}{{.}} {{end}}"; "json" for the JSON' },
      ...platformOptions,
      ...authfileOption,
      ...accessOptions(''),
    }) as unknown as Argv<Args>,
  handler: async (argv: ArgumentsCamelCase<Args>) => {
    const { parseTransport } = await import('../transports.js');
    const name = parseTransport(argv.image);
    const format = typeof argv.format === 'string' ? argv.format : undefined;
    if (format !== undefined && argv.raw) {
      const { usage } = await import('../errors.js');
      throw usage('raw output does not support --format');
    }
    const { formatInspect, goStructView, goConfigView } = format !== undefined ? await import('../inspect-template.js') : { formatInspect: undefined, goStructView: undefined, goConfigView: undefined };
    const { openSource, newClient } = await import('../open.js');
    const rc = await import('@oci/registry-client');
    const { goIndent, inspectView, ociConfigView } = await import('../inspect-format.js');
    const flags = accessFlags(argv, '');
    const source = await openSource(name, flags);
    try {
      const root = await source.endpoint.getRoot();
      if (argv.raw && !argv.config) {
        process.stdout.write(root.bytes);
        return;
      }
      const plan = await rc.planCopy(source.endpoint, { acceptsDockerMediaTypes: true }, { platform: platformFlags(argv) });
      const image = plan.images[0]!;
      const manifest = JSON.parse(image.source.bytes.toString('utf8')) as Record<string, unknown>;
      const configDesc = image.blobs[0]!;
      const stream = await source.endpoint.getBlob(configDesc);
      const parts: Buffer[] = [];
      let n = 0;
      for await (const c of stream) {
        n += (c as Buffer).length;
        if (n > 16 << 20) {
          stream.destroy();
          throw new rc.RegistryError('ERR_TOO_LARGE', `config ${configDesc.digest} is over 16 MiB`);
        }
        parts.push(c as Buffer);
      }
      const configBytes = Buffer.concat(parts);
      if (argv.config) {
        const view = ociConfigView(JSON.parse(configBytes.toString('utf8')));
        process.stdout.write(argv.raw ? configBytes : formatInspect ? formatInspect(format!, goConfigView!(view), () => goIndent(view)) : goIndent(view));
        return;
      }
      let repoTags: string[] = [];
      let displayName: string | undefined;
      if (name.transport === 'docker') {
        const ref = rc.parseReference(name.reference);
        displayName = rc.repositoryName(ref);
        if (!argv['no-tags'] && argv.tags !== false) {
          const client = await newClient(flags, ref);
          try {
            repoTags = await client.listTags(ref);
          } finally {
            await client.close();
          }
        }
      }
      const view = inspectView({ name: displayName, digest: root.digest, repoTags, manifest, config: JSON.parse(configBytes.toString('utf8')) });
      process.stdout.write(formatInspect ? formatInspect(format!, goStructView!(view), () => goIndent(view)) : goIndent(view));
    } finally {
      await source.close();
    }
  },
};
