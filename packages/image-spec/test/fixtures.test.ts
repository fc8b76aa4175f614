// Every manifest, index, config and oci-layout file found in the fixture images (built by
// @oci/fixtures with skopeo/umoci/GNU tar, never with our code) must be valid in OUR schemas and
// in the OFFICIAL ones, and every blob must verify against its digest.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  isConfigMediaType,
  isIndexMediaType,
  isManifestMediaType,
  parseConfig,
  parseIndex,
  parseLayoutFile,
  parseManifest,
  selectManifest,
  validateConfig,
  validateIndex,
  validateLayoutFile,
  validateManifest,
  verifyBytes,
  verifyingStream,
  type Descriptor,
  type ImageIndex,
  type ValidationResult,
} from '../src/index.js';
import { availableOfficialSets, loadOfficial, type OfficialValidators } from './helpers/official.js';

type FixtureName = 'hello' | 'busybox' | 'tricky';
interface FixtureInfo {
  name: string;
  layout: string;
  gzipLayout: string;
  indexLayout: string;
  dockerDir: string;
  manifestDigest: string;
  configDigest: string;
  dockerManifestDigest: string;
  indexManifests: Array<{ platform: { os: string; architecture: string; variant?: string }; manifestDigest: string }>;
}
type BuildFixture = (name: FixtureName) => Promise<FixtureInfo>;

let buildFixture: BuildFixture | undefined;
try {
  ({ buildFixture } = (await import('@oci/fixtures')) as { buildFixture: BuildFixture });
} catch {
  buildFixture = undefined;
}

type Kind = 'manifest' | 'index' | 'config' | 'layout';
interface Blob {
  path: string;
  digest: string;
  size: number;
}
interface Doc {
  where: string;
  kind: Kind;
  doc: unknown;
}

const ours: Record<Kind, (doc: unknown) => ValidationResult> = {
  manifest: validateManifest,
  index: validateIndex,
  config: validateConfig,
  layout: validateLayoutFile,
};
const officials: [string, OfficialValidators][] = availableOfficialSets().map((s) => [s, loadOfficial(s)]);

function blobPath(layout: string, digest: string): string {
  const [alg, enc] = digest.split(':') as [string, string];
  return join(layout, 'blobs', alg, enc);
}

/** Walks an OCI layout from index.json, verifying each blob and collecting every JSON document. */
function walkLayout(layout: string, out: Doc[], layers: Blob[]): void {
  const ociLayout = readFileSync(join(layout, 'oci-layout'));
  out.push({ where: `${layout}/oci-layout`, kind: 'layout', doc: parseLayoutFile(ociLayout) });
  const index = readFileSync(join(layout, 'index.json'));
  out.push({ where: `${layout}/index.json`, kind: 'index', doc: JSON.parse(index.toString()) });
  const seen = new Set<string>();
  const visit = (d: Descriptor): void => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    const bytes = readFileSync(blobPath(layout, d.digest));
    verifyBytes(bytes, d.digest, d.size);
    const where = `${layout} ${d.digest}`;
    if (isManifestMediaType(d.mediaType)) {
      const m = parseManifest(bytes, { mediaType: d.mediaType });
      out.push({ where, kind: 'manifest', doc: m });
      visit(m.config);
      for (const l of m.layers) layers.push({ path: blobPath(layout, l.digest), digest: l.digest, size: l.size });
    } else if (isIndexMediaType(d.mediaType)) {
      const x = parseIndex(bytes, { mediaType: d.mediaType });
      out.push({ where, kind: 'index', doc: x });
      x.manifests.forEach(visit);
    } else if (isConfigMediaType(d.mediaType)) {
      out.push({ where, kind: 'config', doc: parseConfig(bytes, { mediaType: d.mediaType }) });
    }
  };
  parseIndex(index).manifests.forEach(visit);
}

/** A skopeo `dir:` directory: manifest.json plus blobs named by their hex digest. */
function walkDockerDir(dir: string, out: Doc[]): string {
  const bytes = readFileSync(join(dir, 'manifest.json'));
  const m = parseManifest(bytes);
  out.push({ where: `${dir}/manifest.json`, kind: 'manifest', doc: m });
  const cfgBytes = readFileSync(join(dir, m.config.digest.split(':')[1] as string));
  verifyBytes(cfgBytes, m.config.digest, m.config.size);
  out.push({ where: `${dir} config`, kind: 'config', doc: parseConfig(cfgBytes, { mediaType: m.config.mediaType }) });
  return m.mediaType ?? '';
}

const NAMES: FixtureName[] = ['hello', 'busybox', 'tricky'];

describe.skipIf(buildFixture === undefined)('fixture images: valid in ours and in the official schemas', () => {
  const fixtures = new Map<FixtureName, FixtureInfo>();
  const docs = new Map<FixtureName, Doc[]>();
  const blobs = new Map<FixtureName, Blob[]>();

  beforeAll(async () => {
    for (const name of NAMES) {
      const info = await (buildFixture as BuildFixture)(name);
      fixtures.set(name, info);
      const out: Doc[] = [];
      const layers: Blob[] = [];
      for (const l of new Set([info.layout, info.gzipLayout, info.indexLayout])) if (existsSync(l)) walkLayout(l, out, layers);
      walkDockerDir(info.dockerDir, out);
      docs.set(name, out);
      blobs.set(name, layers);
    }
  }, 600_000);

  for (const name of NAMES) {
    it(`${name}: every document is valid in every schema set`, () => {
      const list = docs.get(name) ?? [];
      const kinds = new Set(list.map((d) => d.kind));
      expect([...kinds].sort()).toEqual(['config', 'index', 'layout', 'manifest']);
      for (const d of list) {
        expect({ where: d.where, errors: ours[d.kind](d.doc).errors }).toEqual({ where: d.where, errors: [] });
        for (const [set, v] of officials) {
          expect({ where: d.where, set, valid: v[d.kind](d.doc) }).toEqual({ where: d.where, set, valid: true });
        }
      }
    });

    it(`${name}: every layer blob (written by GNU tar/gzip/zstd) verifies through verifyingStream`, async () => {
      const layers = blobs.get(name) ?? [];
      expect(layers.length).toBeGreaterThan(0);
      for (const b of layers) {
        const v = verifyingStream({ digest: b.digest, size: b.size });
        await pipeline(createReadStream(b.path), v, new Writable({ write: (_c, _e, cb) => cb() }));
        expect(v.actualDigest).toBe(b.digest);
      }
    });

    it(`${name}: a layer with one flipped byte is refused`, async () => {
      const b = (blobs.get(name) ?? []).find((l) => l.size > 0) as Blob;
      const bytes = readFileSync(b.path);
      bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0x40;
      expect(() => verifyBytes(bytes, b.digest, b.size)).toThrow(expect.objectContaining({ code: 'ERR_DIGEST_MISMATCH' }));
    });

    it(`${name}: the Docker v2s2 manifest is recognised as such`, () => {
      const info = fixtures.get(name) as FixtureInfo;
      const m = parseManifest(readFileSync(join(info.dockerDir, 'manifest.json')));
      expect(m.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
      expect(m.config.mediaType).toBe('application/vnd.docker.container.image.v1+json');
    });

    it(`${name}: selectManifest picks each platform of the multi-platform index`, () => {
      const info = fixtures.get(name) as FixtureInfo;
      const top = parseIndex(readFileSync(join(info.indexLayout, 'index.json')));
      const ref = top.manifests[0] as Descriptor;
      const index: ImageIndex = isIndexMediaType(ref.mediaType) ? parseIndex(readFileSync(blobPath(info.indexLayout, ref.digest))) : top;
      expect(info.indexManifests.length).toBeGreaterThan(1);
      for (const { platform, manifestDigest } of info.indexManifests) {
        expect(selectManifest(index, platform)?.digest).toBe(manifestDigest);
      }
      expect(selectManifest(index, 'linux/amd64')?.digest).toBe(info.manifestDigest);
      expect(selectManifest(index, 'linux/x86_64')?.digest).toBe(info.manifestDigest);
    });
  }
});
