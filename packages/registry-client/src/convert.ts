import { RegistryError } from './errors.js';
import { MT } from './media.js';

/** A descriptor as it appears in manifests (the fields we carry through conversions). */
export interface PlainDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[] | undefined;
  annotations?: Record<string, string> | undefined;
  platform?: Record<string, unknown> | undefined;
  artifactType?: string | undefined;
  [key: string]: unknown;
}

const LAYER_TO_OCI: Record<string, string> = {
  [MT.DockerLayerGzip]: MT.OciLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar': MT.OciLayer,
  'application/vnd.docker.image.rootfs.diff.tar.zstd': MT.OciLayerZstd,
  [MT.DockerForeignLayerGzip]: MT.OciLayerNonDistributableGzip,
};

/** JSON as Go's encoding/json writes it (what skopeo hashes): compact, with <, >, & and U+2028/9 escaped. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Orders descriptor fields as image-spec's Go struct does (mediaType, digest, size, urls, annotations, data, platform, artifactType). */
function orderDescriptor(d: PlainDescriptor, mediaType: string): Record<string, unknown> {
  const out: Record<string, unknown> = { mediaType, digest: d.digest, size: d.size };
  if (d.urls && d.urls.length) out.urls = d.urls;
  if (d.annotations && Object.keys(d.annotations).length) out.annotations = sortKeys(d.annotations);
  if (d.data !== undefined && d.data !== '') out.data = d.data;
  if (d.platform) out.platform = orderPlatform(d.platform);
  if (d.artifactType) out.artifactType = d.artifactType;
  return out;
}

function orderPlatform(p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { architecture: p.architecture, os: p.os };
  if (p['os.version']) out['os.version'] = p['os.version'];
  if (Array.isArray(p['os.features']) && p['os.features'].length) out['os.features'] = p['os.features'];
  if (p.variant) out.variant = p.variant;
  if (Array.isArray(p.features) && p.features.length) out.features = p.features;
  return out;
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

/** The fields of an image manifest a conversion reads; ERR_MANIFEST_INVALID when it is not JSON or lacks them. */
function manifestToConvert(bytes: Uint8Array): { config: PlainDescriptor; layers: PlainDescriptor[]; annotations?: Record<string, string> } {
  let doc: { config?: PlainDescriptor; layers?: PlainDescriptor[]; annotations?: Record<string, string> };
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new RegistryError('ERR_MANIFEST_INVALID', 'cannot convert a manifest that is not JSON', { cause: err });
  }
  if (!doc.config || !Array.isArray(doc.layers)) {
    throw new RegistryError('ERR_MANIFEST_INVALID', 'cannot convert: the manifest has no config or layers');
  }
  return { config: doc.config, layers: doc.layers, ...(doc.annotations ? { annotations: doc.annotations } : {}) };
}

/** True when a manifest of this type must be converted for a destination that only takes OCI types. */
export function needsOciConversion(mediaType: string): boolean {
  return mediaType === MT.DockerManifest || mediaType === MT.DockerList;
}

/**
 * Converts a Docker v2 schema 2 manifest to an OCI image manifest as skopeo does for `oci:` destinations:
 * same config and layer blobs, OCI media types, Go's field order and escaping. Pure.
 */
export function convertManifestToOci(bytes: Uint8Array): Buffer {
  const doc = manifestToConvert(bytes);
  const config = orderDescriptor(doc.config, doc.config.mediaType === MT.DockerConfig ? MT.OciConfig : doc.config.mediaType);
  const layers = doc.layers.map((l) => {
    const mt = LAYER_TO_OCI[l.mediaType] ?? l.mediaType;
    if (!mt.startsWith('application/vnd.oci.image.layer.')) {
      throw new RegistryError('ERR_UNSUPPORTED', `cannot convert layer media type ${l.mediaType} to OCI`);
    }
    return orderDescriptor(l, mt);
  });
  const out: Record<string, unknown> = { schemaVersion: 2, mediaType: MT.OciManifest, config, layers };
  if (doc.annotations && Object.keys(doc.annotations).length) out.annotations = sortKeys(doc.annotations);
  return Buffer.from(goJson(out), 'utf8');
}

/**
 * Rewrites an index/manifest list as an OCI index whose entries point at (possibly converted) children.
 * `replace` maps old child digests to their new descriptors. Pure.
 */
export function convertIndexToOci(bytes: Uint8Array, replace: Map<string, { digest: string; size: number; mediaType: string }>): Buffer {
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as { manifests?: PlainDescriptor[]; annotations?: Record<string, string> };
  const manifests = (doc.manifests ?? []).map((d) => {
    const r = replace.get(d.digest);
    const base = r ? { ...d, digest: r.digest, size: r.size } : d;
    const mt = r?.mediaType ?? (d.mediaType === MT.DockerManifest ? MT.OciManifest : d.mediaType === MT.DockerList ? MT.OciIndex : d.mediaType);
    return orderDescriptor(base, mt);
  });
  const out: Record<string, unknown> = { schemaVersion: 2, mediaType: MT.OciIndex, manifests };
  if (doc.annotations && Object.keys(doc.annotations).length) out.annotations = sortKeys(doc.annotations);
  return Buffer.from(goJson(out), 'utf8');
}

const LAYER_TO_DOCKER: Record<string, string> = {
  [MT.OciLayerGzip]: MT.DockerLayerGzip,
  [MT.OciLayer]: 'application/vnd.docker.image.rootfs.diff.tar',
  [MT.OciLayerNonDistributableGzip]: MT.DockerForeignLayerGzip,
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'application/vnd.docker.image.rootfs.foreign.diff.tar',
};

/** A Docker v2 schema 2 descriptor in distribution's Go field order: mediaType, size, digest, urls. */
function dockerDescriptor(d: PlainDescriptor, mediaType: string): Record<string, unknown> {
  const out: Record<string, unknown> = { mediaType, size: d.size, digest: d.digest };
  if (d.urls && d.urls.length) out.urls = d.urls;
  return out;
}

/** True when a manifest of this type must be converted for a destination that only takes Docker v2s2 types. */
export function needsDockerConversion(mediaType: string): boolean {
  return mediaType === MT.OciManifest || mediaType === MT.OciIndex;
}

/**
 * Converts an OCI image manifest to Docker v2 schema 2 as skopeo does for `--format v2s2`: same config and layer
 * blobs, Docker media types, distribution's field order; annotations are dropped (v2s2 has none). zstd layers and
 * non-image configs cannot be expressed: ERR_UNSUPPORTED. Pure.
 */
export function convertManifestToDocker(bytes: Uint8Array): Buffer {
  const doc = manifestToConvert(bytes);
  if (doc.config.mediaType !== MT.OciConfig && doc.config.mediaType !== MT.DockerConfig) {
    throw new RegistryError('ERR_UNSUPPORTED', `cannot convert a manifest with config type ${doc.config.mediaType} to Docker v2 schema 2`, {
      hint: 'Only container images convert; copy artifacts in OCI format (drop --format v2s2).',
    });
  }
  const layers = doc.layers.map((l) => {
    if (l.mediaType.startsWith('application/vnd.docker.')) return dockerDescriptor(l, l.mediaType);
    const mt = LAYER_TO_DOCKER[l.mediaType];
    if (mt === undefined) {
      throw new RegistryError('ERR_UNSUPPORTED', `layer ${l.digest} (${l.mediaType}) cannot be in a Docker v2 schema 2 manifest`, {
        hint: l.mediaType.includes('zstd')
          ? 'Docker v2s2 has no zstd layers: copy in OCI format, or add --dest-compress-format gzip to recompress them.'
          : 'Copy in OCI format (drop --format v2s2).',
      });
    }
    return dockerDescriptor(l, mt);
  });
  const out = { schemaVersion: 2, mediaType: MT.DockerManifest, config: dockerDescriptor(doc.config, MT.DockerConfig), layers };
  return Buffer.from(goJson(out), 'utf8');
}

/**
 * Rewrites an index as a Docker manifest list whose entries point at (possibly converted) children, in
 * distribution's field order; entries without a platform get an empty one, as distribution writes. Pure.
 */
export function convertIndexToDocker(bytes: Uint8Array, replace: Map<string, { digest: string; size: number; mediaType: string }>): Buffer {
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as { manifests?: PlainDescriptor[] };
  const manifests = (doc.manifests ?? []).map((d) => {
    const r = replace.get(d.digest);
    const base = r ? { ...d, digest: r.digest, size: r.size } : d;
    const mt = r?.mediaType ?? (d.mediaType === MT.OciManifest ? MT.DockerManifest : d.mediaType === MT.OciIndex ? MT.DockerList : d.mediaType);
    const out = dockerDescriptor(base, mt);
    out.platform = orderPlatform(d.platform ?? { architecture: '', os: '' });
    return out;
  });
  return Buffer.from(goJson({ schemaVersion: 2, mediaType: MT.DockerList, manifests }), 'utf8');
}
