import type { Argv, ArgumentsCamelCase } from 'yargs';
import { parseRefArgs } from '../ref.js';
import { progressRenderer } from '../progress.js';
import { abortSignal, maxLayerSizeOf, maxLayerSizeOption, printJson, type CommonArgs } from '../common.js';

export interface UnpackArgs extends CommonArgs {
  layout: string;
  rootfs: string;
  ref: string[];
  platform: string | undefined;
  rootless: boolean | undefined;
  strict: boolean;
  maxLayerSize: string | undefined;
}

export const command = 'unpack <layout> <rootfs>';
export const describe = 'Unpack the layers of an image into a root filesystem (like oci-image-tool unpack)';

export function builder(y: Argv): Argv<UnpackArgs> {
  return y
    .positional('layout', { type: 'string', describe: 'OCI image layout directory' })
    .positional('rootfs', { type: 'string', describe: 'Directory to create (must not exist or be empty)' })
    .option('ref', { type: 'string', demandOption: true, describe: 'Ref to unpack: NAME, name=NAME, platform.os=, platform.arch=' })
    .option('platform', { type: 'string', describe: 'Platform inside an index: os/arch[/variant]' })
    .option('rootless', { type: 'boolean', describe: 'Do not chown; skip device nodes (default: when not root)' })
    .option('strict', { type: 'boolean', default: false, describe: 'Turn warnings into errors' })
    .option('max-layer-size', maxLayerSizeOption) as unknown as Argv<UnpackArgs>;
}

export async function handler(argv: ArgumentsCamelCase<UnpackArgs>): Promise<void> {
  const sel = parseRefArgs(([] as string[]).concat(argv.ref), argv.platform);
  const maxLayerSize = maxLayerSizeOf(argv);
  const [{ Layout }, { unpackImage }] = await Promise.all([import('@oci/layout'), import('@oci/unpack')]);
  const layout = await Layout.open(argv.layout);
  const progress = progressRenderer(!argv.json);
  const warnings: string[] = [];
  try {
    const r = await unpackImage(layout, sel.name, argv.rootfs, {
      platform: sel.platform,
      rootless: argv.rootless,
      strict: argv.strict,
      maxLayerSize,
      signal: abortSignal(),
      onProgress: progress.onProgress,
      onWarning: (w) => warnings.push(`warning: ${w.code}: ${w.message}`),
    });
    progress.done();
    if (argv.json) {
      printJson({
        rootfs: argv.rootfs,
        manifest: r.manifestDigest,
        config: r.configDigest,
        layers: r.layers,
        warnings: r.warnings,
        owners: r.owners,
      });
    } else {
      for (const w of warnings) process.stderr.write(w + '\n');
    }
  } finally {
    progress.done();
  }
}
