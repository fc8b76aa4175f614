// skopeo (containers/image) as an oracle for selectManifest: for each wanted platform, the manifest
// `skopeo copy --override-os/--override-arch/--override-variant` picks from a multi-platform index
// must be the one we pick. Where containers/image and containerd (whose rules we follow) differ,
// the difference is listed explicitly.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, MediaType, parsePlatform, selectManifest, type Descriptor, type ImageIndex, type Platform } from '../src/index.js';

const available = spawnSync('skopeo', ['--version'], { stdio: 'ignore' }).status === 0;

const FULL: Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: '386' },
  { os: 'linux', architecture: 'arm', variant: 'v5' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
  { os: 'linux', architecture: 'ppc64le' },
];

/** Only fallbacks available: what runs on amd64 / arm64 / arm/v7 when the exact one is missing? */
const FALLBACKS: Platform[] = [
  { os: 'linux', architecture: '386' },
  { os: 'linux', architecture: 'arm', variant: 'v5' },
];

/** [want, what containers/image picks if it differs from us ('same' otherwise)] */
const FULL_WANTS: [string, 'same' | 'none'][] = [
  ['linux/amd64', 'same'],
  ['linux/386', 'same'],
  ['linux/arm/v5', 'same'],
  ['linux/arm/v6', 'same'],
  ['linux/arm/v7', 'same'],
  ['linux/arm/v8', 'same'],
  ['linux/arm64', 'same'],
  ['linux/arm64/v8', 'same'],
  ['linux/ppc64le', 'same'],
  ['linux/s390x', 'same'],
];

// containers/image 5.23 (skopeo 1.9.3) never runs 386 on amd64 nor 32-bit arm on arm64;
// containerd (and Docker) do, and so do we. `{ exact: true }` gives the strict behaviour.
const FALLBACK_WANTS: [string, 'same' | 'none'][] = [
  ['linux/amd64', 'none'],
  ['linux/arm64', 'none'],
  ['linux/arm/v7', 'same'],
  ['linux/arm/v6', 'same'],
];

const SCENARIOS: [string, Platform[], [string, 'same' | 'none'][]][] = [
  ['a full index', FULL, FULL_WANTS],
  ['an index with only fallbacks', FALLBACKS, FALLBACK_WANTS],
];

describe.skipIf(!available).each(SCENARIOS)('selectManifest agrees with skopeo on %s', (_name, ENTRIES, WANTS) => {
  const dir = mkdtempSync(join(tmpdir(), 'image-spec-select-'));
  const layout = join(dir, 'layout');
  let index: ImageIndex;

  const put = (bytes: Buffer): string => {
    const d = digestOf(bytes);
    writeFileSync(join(layout, 'blobs', 'sha256', d.slice(7)), bytes);
    return d;
  };

  beforeAll(() => {
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const layer = Buffer.alloc(1024); // an empty tar archive: two zero blocks
    const layerDesc = { mediaType: MediaType.Layer, digest: put(layer), size: layer.length };
    const manifests: Descriptor[] = ENTRIES.map((platform) => {
      const config = Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: [layerDesc.digest] } }));
      const m = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ImageManifest,
          config: { mediaType: MediaType.ImageConfig, digest: put(config), size: config.length },
          layers: [layerDesc],
        }),
      );
      return { mediaType: MediaType.ImageManifest, digest: put(m), size: m.length, platform };
    });
    index = { schemaVersion: 2, mediaType: MediaType.ImageIndex, manifests };
    const ib = Buffer.from(JSON.stringify(index));
    const top = { schemaVersion: 2, manifests: [{ mediaType: MediaType.ImageIndex, digest: put(ib), size: ib.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] };
    writeFileSync(join(layout, 'index.json'), JSON.stringify(top));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function skopeoPick(want: Platform): string | undefined {
    const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const args = ['copy', '-q', '--override-os', want.os, '--override-arch', want.architecture];
    if (want.variant) args.push('--override-variant', want.variant);
    const r = spawnSync('skopeo', [...args, `oci:${layout}:latest`, `dir:${out}`], { encoding: 'utf8' });
    if (r.status !== 0) {
      expect(r.stderr).toMatch(/no image found|choosing image instance/);
      return undefined;
    }
    const d = digestOf(readFileSync(join(out, 'manifest.json')));
    rmSync(out, { recursive: true, force: true });
    return d;
  }

  for (const [want, skopeo] of WANTS) {
    it(`${want}`, () => {
      const p = parsePlatform(want);
      // arm64 normalises to no variant; tell skopeo v8 explicitly in that case, as containerd means.
      const forSkopeo: Platform = p.architecture === 'arm64' && p.variant === undefined ? { ...p, variant: 'v8' } : p;
      const theirs = skopeoPick(forSkopeo);
      const ours = selectManifest(index, p)?.digest;
      if (skopeo === 'same') {
        expect(ours).toBe(theirs);
      } else {
        expect(theirs).toBeUndefined();
        expect(ours).toBeDefined();
        expect(selectManifest(index, p, { exact: true })).toBeUndefined();
      }
    });
  }
});
