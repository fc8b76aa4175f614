/** Media types of the OCI image-spec (v1.1) and of Docker's image manifest v2 schema 2. */
export const MediaType = Object.freeze({
  ImageManifest: 'application/vnd.oci.image.manifest.v1+json',
  ImageIndex: 'application/vnd.oci.image.index.v1+json',
  ImageConfig: 'application/vnd.oci.image.config.v1+json',
  Layer: 'application/vnd.oci.image.layer.v1.tar',
  LayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  LayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  LayerNonDistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  LayerNonDistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  LayerNonDistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  EmptyJSON: 'application/vnd.oci.empty.v1+json',
  ImageLayout: 'application/vnd.oci.layout.header.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  DockerManifestV1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const);

export type MediaTypeName = keyof typeof MediaType;
export type KnownMediaType = (typeof MediaType)[MediaTypeName];

/** The annotation holding a ref name in an OCI layout's index.json. */
export const AnnotationRefName = 'org.opencontainers.image.ref.name';

/** Pre-defined annotation keys of the image-spec (annotations.md). */
export const Annotation = Object.freeze({
  Created: 'org.opencontainers.image.created',
  Authors: 'org.opencontainers.image.authors',
  Url: 'org.opencontainers.image.url',
  Documentation: 'org.opencontainers.image.documentation',
  Source: 'org.opencontainers.image.source',
  Version: 'org.opencontainers.image.version',
  Revision: 'org.opencontainers.image.revision',
  Vendor: 'org.opencontainers.image.vendor',
  Licenses: 'org.opencontainers.image.licenses',
  RefName: AnnotationRefName,
  Title: 'org.opencontainers.image.title',
  Description: 'org.opencontainers.image.description',
  BaseImageDigest: 'org.opencontainers.image.base.digest',
  BaseImageName: 'org.opencontainers.image.base.name',
} as const);

/** The empty JSON descriptor (`{}`), used for artifacts without config or layers. */
export const EmptyJSONDescriptor = Object.freeze({
  mediaType: MediaType.EmptyJSON,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
} as const);

/** Strips parameters (`; charset=...`) and whitespace and lowercases a media type. */
export function baseMediaType(mt: string): string {
  const semi = mt.indexOf(';');
  return (semi === -1 ? mt : mt.slice(0, semi)).trim().toLowerCase();
}

/** True for an image manifest: OCI or Docker v2 schema 2. */
export function isManifestMediaType(mt: string | undefined): boolean {
  if (mt === undefined) return false;
  const b = baseMediaType(mt);
  return b === MediaType.ImageManifest || b === MediaType.DockerManifest;
}

/** True for an index: OCI image index or Docker manifest list. */
export function isIndexMediaType(mt: string | undefined): boolean {
  if (mt === undefined) return false;
  const b = baseMediaType(mt);
  return b === MediaType.ImageIndex || b === MediaType.DockerManifestList;
}

/** True for an image config: OCI or Docker. */
export function isConfigMediaType(mt: string | undefined): boolean {
  if (mt === undefined) return false;
  const b = baseMediaType(mt);
  return b === MediaType.ImageConfig || b === MediaType.DockerConfig;
}

export type LayerCompression = 'none' | 'gzip' | 'zstd';

const LAYER_COMPRESSION: ReadonlyMap<string, LayerCompression> = new Map<string, LayerCompression>([
  [MediaType.Layer, 'none'],
  [MediaType.LayerGzip, 'gzip'],
  [MediaType.LayerZstd, 'zstd'],
  [MediaType.LayerNonDistributable, 'none'],
  [MediaType.LayerNonDistributableGzip, 'gzip'],
  [MediaType.LayerNonDistributableZstd, 'zstd'],
  [MediaType.DockerLayer, 'none'],
  [MediaType.DockerLayerGzip, 'gzip'],
  [MediaType.DockerForeignLayerGzip, 'gzip'],
  ['application/vnd.docker.image.rootfs.diff.tar.zstd', 'zstd'],
  ['application/vnd.docker.image.rootfs.foreign.diff.tar', 'none'],
]);

/**
 * The compression of a layer media type: 'none', 'gzip' or 'zstd'; undefined if `mt` is not a
 * layer media type this package knows.
 */
export function layerCompression(mt: string | undefined): LayerCompression | undefined {
  if (mt === undefined) return undefined;
  return LAYER_COMPRESSION.get(baseMediaType(mt));
}

/** True for a (known) layer media type, OCI or Docker. */
export function isLayerMediaType(mt: string | undefined): boolean {
  return layerCompression(mt) !== undefined;
}

/** True for layers that registries may refuse to hold (non-distributable / foreign). */
export function isNonDistributableMediaType(mt: string | undefined): boolean {
  if (mt === undefined) return false;
  const b = baseMediaType(mt);
  return b.startsWith('application/vnd.oci.image.layer.nondistributable.') || b.startsWith('application/vnd.docker.image.rootfs.foreign.');
}
