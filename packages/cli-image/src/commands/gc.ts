import type { Argv, ArgumentsCamelCase } from 'yargs';
import { abortSignal, humanSize, printJson, type CommonArgs } from '../common.js';

export interface GcArgs extends CommonArgs {
  layout: string;
  dryRun: boolean;
}

export const command = 'gc <layout>';
export const describe = 'Remove blobs that no ref reaches';

export function builder(y: Argv): Argv<GcArgs> {
  return y
    .positional('layout', { type: 'string', describe: 'OCI image layout directory' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Only say what would be removed' }) as unknown as Argv<GcArgs>;
}

export async function handler(argv: ArgumentsCamelCase<GcArgs>): Promise<void> {
  const { Layout } = await import('@oci/layout');
  const layout = await Layout.open(argv.layout);
  const r = await layout.gc({ dryRun: argv.dryRun, signal: abortSignal() });
  if (argv.json) {
    printJson({ dryRun: argv.dryRun, removed: r.removed, freedBytes: r.freedBytes, tempFilesRemoved: r.tempFilesRemoved });
    return;
  }
  const verb = argv.dryRun ? 'would remove' : 'removed';
  for (const d of r.removed) process.stdout.write(`${verb} ${d}\n`);
  process.stdout.write(`${verb} ${r.removed.length} blob${r.removed.length === 1 ? '' : 's'}, ${humanSize(r.freedBytes)}\n`);
}
