/** @internal Media type strings used by the client (the spec's values; @oci/image-spec owns the full set). */
export const MT = Object.freeze({
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNonDistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  DockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
});

/** The Accept list for manifest requests, in order of preference. */
export const MANIFEST_ACCEPT = [MT.OciIndex, MT.OciManifest, MT.DockerList, MT.DockerManifest];

export function isIndexType(mt: string | undefined): boolean {
  return mt === MT.OciIndex || mt === MT.DockerList;
}

export function isImageManifestType(mt: string | undefined): boolean {
  return mt === MT.OciManifest || mt === MT.DockerManifest;
}

/** Guesses the media type of a manifest document from its fields when the header is missing or generic. */
export function sniffManifestType(doc: unknown, header?: string): string {
  const h = header?.split(';')[0]?.trim();
  if (h && (isIndexType(h) || isImageManifestType(h))) return h;
  if (typeof doc === 'object' && doc !== null) {
    const d = doc as { mediaType?: unknown; manifests?: unknown; config?: unknown };
    if (typeof d.mediaType === 'string') return d.mediaType;
    if (Array.isArray(d.manifests)) return MT.OciIndex;
    if (d.config !== undefined) return MT.OciManifest;
  }
  return h ?? 'application/octet-stream';
}
