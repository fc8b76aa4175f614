import type { Argv, ArgumentsCamelCase } from 'yargs';
import { abortSignal, printJson, setExitCode, type CommonArgs } from '../common.js';

export interface ValidateArgs extends CommonArgs {
  layout: string;
}

export interface Problem {
  code: string;
  message: string;
  digest?: string | undefined;
}

export const command = 'validate <layout>';
export const describe = 'Check a layout: oci-layout, index.json, every document against the schemas, every blob digest and size';

export function builder(y: Argv): Argv<ValidateArgs> {
  return y.positional('layout', { type: 'string', describe: 'OCI image layout directory' }) as unknown as Argv<ValidateArgs>;
}

export async function handler(argv: ArgumentsCamelCase<ValidateArgs>): Promise<void> {
  const [{ Layout }, spec, { planUnpack }] = await Promise.all([import('@oci/layout'), import('@oci/image-spec'), import('@oci/unpack')]);
  const problems: Problem[] = [];
  let warnings: Problem[] = [];
  let checked = 0;
  let layout: import('@oci/layout').Layout | undefined;
  try {
    layout = await Layout.open(argv.layout);
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (typeof e.code !== 'string') throw err;
    problems.push({ code: e.code, message: e.message });
  }
  if (layout !== undefined) {
    const v = await layout.verify({ signal: abortSignal() });
    problems.push(...v.problems);
    warnings = v.warnings;
    checked = v.checked;
    // images must also be unpackable: known layer media types, one diff_id per layer
    const seen = new Set<string>();
    const checkManifest = async (digest: string) => {
      if (seen.has(digest)) return;
      seen.add(digest);
      try {
        const m = await layout!.readJson<import('@oci/image-spec').ImageManifest>(digest);
        if (!m?.config?.digest) return;
        const c = await layout!.readJson<import('@oci/image-spec').ImageConfig>(m.config.digest);
        planUnpack(m, c);
      } catch (err) {
        const e = err as { code?: string; message: string };
        if (typeof e.code !== 'string') throw err;
        if (!problems.some((p) => p.digest === digest && p.code === e.code)) problems.push({ code: e.code, message: e.message, digest });
      }
    };
    let index: import('@oci/image-spec').ImageIndex | undefined;
    try {
      index = await layout.index();
    } catch {
      // already reported by verify()
    }
    for (const d of index?.manifests ?? []) {
      if (spec.isManifestMediaType(d.mediaType)) await checkManifest(d.digest);
      else if (spec.isIndexMediaType(d.mediaType)) {
        try {
          const idx = await layout.readJson<import('@oci/image-spec').ImageIndex>(d.digest);
          for (const c of idx.manifests ?? []) if (spec.isManifestMediaType(c.mediaType)) await checkManifest(c.digest);
        } catch {
          // reported by verify()
        }
      }
    }
  }
  const valid = problems.length === 0;
  if (argv.json) {
    printJson({ layout: argv.layout, valid, checked, problems, warnings });
  } else {
    if (valid) process.stdout.write(`${argv.layout}: valid OCI image layout (${checked} blobs checked)\n`);
    else {
      process.stdout.write(`${argv.layout}: INVALID, ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n`);
      for (const p of problems) process.stdout.write(`  ${p.code}${p.digest ? ` ${p.digest}` : ''}: ${p.message}\n`);
    }
    for (const w of warnings) process.stdout.write(`  warning: ${w.code}${w.digest ? ` ${w.digest}` : ''}: ${w.message}\n`);
  }
  if (!valid) setExitCode(1);
}
