import type { Argv, ArgumentsCamelCase } from 'yargs';
import { humanSize, printJson, type CommonArgs } from '../common.js';

export interface LsArgs extends CommonArgs {
  layout: string;
}

export interface LsRow {
  ref: string | undefined;
  digest: string;
  mediaType: string;
  platform: string | undefined;
  /** Manifest + config + layers (compressed), for images; the index document's own size for indexes. */
  size: number;
  /** For an index: its image manifests. */
  manifests?: LsRow[];
}

export const command = 'ls <layout>';
export const describe = 'List the refs of a layout with digests, platforms and sizes';

export function builder(y: Argv): Argv<LsArgs> {
  return y.positional('layout', { type: 'string', describe: 'OCI image layout directory' }) as unknown as Argv<LsArgs>;
}

export async function handler(argv: ArgumentsCamelCase<LsArgs>): Promise<void> {
  const [{ Layout }, spec] = await Promise.all([import('@oci/layout'), import('@oci/image-spec')]);
  const layout = await Layout.open(argv.layout);
  type D = import('@oci/image-spec').Descriptor;
  const platformOf = (d: D, fallback?: string) => (d.platform ? spec.formatPlatform(d.platform) : fallback);
  const describeImage = async (d: D, ref: string | undefined): Promise<LsRow> => {
    let size = d.size;
    let platform = platformOf(d);
    try {
      const m = await layout.readJson<import('@oci/image-spec').ImageManifest>(d.digest);
      size += m.config.size + m.layers.reduce((a, l) => a + l.size, 0);
      if (platform === undefined) {
        const c = await layout.readJson<import('@oci/image-spec').ImageConfig>(m.config.digest);
        if (c.os && c.architecture) platform = [c.os, c.architecture, c.variant].filter(Boolean).join('/');
      }
    } catch {
      // a missing or broken manifest: `oci-image validate` says why
    }
    return { ref, digest: d.digest, mediaType: d.mediaType, platform, size };
  };
  const rows: LsRow[] = [];
  const named = await layout.listRefs();
  const index = await layout.index();
  const entries: { ref: string | undefined; d: D }[] = named.map((r) => ({ ref: r.name, d: r.descriptor }));
  for (const d of index.manifests) {
    if (!entries.some((e) => e.d === d || (e.d.digest === d.digest && e.ref === d.annotations?.[spec.AnnotationRefName]))) {
      entries.push({ ref: undefined, d });
    }
  }
  for (const { ref, d } of entries) {
    if (spec.isIndexMediaType(d.mediaType)) {
      const row: LsRow = { ref, digest: d.digest, mediaType: d.mediaType, platform: undefined, size: d.size, manifests: [] };
      try {
        const idx = await layout.readJson<import('@oci/image-spec').ImageIndex>(d.digest);
        for (const c of idx.manifests) row.manifests!.push(await describeImage(c, undefined));
      } catch {
        // see validate
      }
      rows.push(row);
    } else rows.push(await describeImage(d, ref));
  }
  if (argv.json) {
    printJson(rows);
    return;
  }
  const kind = (mt: string) =>
    spec.isIndexMediaType(mt) ? 'index' : mt.includes('docker') ? 'docker-manifest' : spec.isManifestMediaType(mt) ? 'manifest' : mt;
  const lines: string[][] = [['REF', 'DIGEST', 'TYPE', 'PLATFORM', 'SIZE']];
  for (const r of rows) {
    lines.push([r.ref ?? '<none>', r.digest, kind(r.mediaType), r.platform ?? '-', humanSize(r.size)]);
    for (const c of r.manifests ?? []) lines.push(['  └', c.digest, kind(c.mediaType), c.platform ?? '-', humanSize(c.size)]);
  }
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const l of lines) process.stdout.write(l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n');
}
