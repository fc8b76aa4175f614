import type { Argv, ArgumentsCamelCase } from 'yargs';
import { parseRefArgs } from '../ref.js';
import { progressRenderer } from '../progress.js';
import { abortSignal, maxLayerSizeOf, maxLayerSizeOption, printJson, type CommonArgs } from '../common.js';

export interface CreateArgs extends CommonArgs {
  layout: string;
  bundle: string;
  ref: string[];
  platform: string | undefined;
  rootless: boolean | undefined;
  strict: boolean;
  maxLayerSize: string | undefined;
  args: string[] | undefined;
}

export const command = 'create <layout> <bundle> [args..]';
export const describe = 'Create a runtime bundle (rootfs/ + config.json) from an image (like oci-image-tool create)';

export function builder(y: Argv): Argv<CreateArgs> {
  return y
    .positional('layout', { type: 'string', describe: 'OCI image layout directory' })
    .positional('bundle', { type: 'string', describe: 'Bundle directory to create (must not exist or be empty)' })
    .positional('args', { type: 'string', array: true, describe: "Replace the image's Cmd (after --)" })
    .option('ref', { type: 'string', demandOption: true, describe: 'Ref: NAME, name=NAME, platform.os=, platform.arch=' })
    .option('platform', { type: 'string', describe: 'Platform inside an index: os/arch[/variant]' })
    .option('rootless', { type: 'boolean', describe: 'Rootless bundle: no chown, user namespace config (default: when not root)' })
    .option('strict', { type: 'boolean', default: false, describe: 'Turn warnings into errors' })
    .option('max-layer-size', maxLayerSizeOption) as unknown as Argv<CreateArgs>;
}

export async function handler(argv: ArgumentsCamelCase<CreateArgs>): Promise<void> {
  const sel = parseRefArgs(([] as string[]).concat(argv.ref), argv.platform);
  const maxLayerSize = maxLayerSizeOf(argv);
  const [{ Layout }, { createBundle }] = await Promise.all([import('@oci/layout'), import('@oci/unpack')]);
  const layout = await Layout.open(argv.layout);
  const progress = progressRenderer(!argv.json);
  const warnings: string[] = [];
  try {
    const extra = [...(argv.args ?? []), ...((argv['--'] as unknown[] | undefined) ?? [])].map(String);
    const r = await createBundle(layout, sel.name, argv.bundle, {
      platform: sel.platform,
      rootless: argv.rootless,
      strict: argv.strict,
      maxLayerSize,
      ...(extra.length > 0 ? { args: extra } : {}),
      signal: abortSignal(),
      onProgress: progress.onProgress,
      onWarning: (w) => warnings.push(`warning: ${w.code}: ${w.message}`),
    });
    progress.done();
    if (argv.json) {
      printJson({ bundle: argv.bundle, manifest: r.manifestDigest, config: r.configDigest, layers: r.layers, warnings: r.warnings, owners: r.owners });
    } else {
      for (const w of warnings) process.stderr.write(w + '\n');
    }
  } finally {
    progress.done();
  }
}
