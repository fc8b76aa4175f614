// Interim local copy of what @oci/layout needs from @oci/image-spec (replaced by re-exports when it lands).
export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  data?: string;
}
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}
export interface ImageConfig {
  architecture: string;
  os: string;
  rootfs: { type: 'layers'; diff_ids: string[] };
  [key: string]: unknown;
}

export const MediaType = Object.freeze({
  ImageManifest: 'application/vnd.oci.image.manifest.v1+json',
  ImageIndex: 'application/vnd.oci.image.index.v1+json',
  ImageConfig: 'application/vnd.oci.image.config.v1+json',
  ImageLayout: 'application/vnd.oci.layout.header.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
});
export const AnnotationRefName = 'org.opencontainers.image.ref.name';
export function isManifestMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ImageManifest || mt === MediaType.DockerManifest;
}
export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ImageIndex || mt === MediaType.DockerManifestList;
}
export interface ValidationResult {
  valid: boolean;
  errors: { path: string; message: string }[];
}
function descriptorOk(d: unknown): boolean {
  const x = d as Descriptor;
  return typeof x === 'object' && x !== null && typeof x.mediaType === 'string' && typeof x.digest === 'string' && Number.isSafeInteger(x.size) && x.size >= 0;
}
export function validateIndex(doc: unknown): ValidationResult {
  const x = doc as ImageIndex;
  const ok = typeof x === 'object' && x !== null && x.schemaVersion === 2 && Array.isArray(x.manifests) && x.manifests.every(descriptorOk);
  return { valid: ok, errors: ok ? [] : [{ path: '', message: 'not an image index' }] };
}
export function validateManifest(doc: unknown): ValidationResult {
  const x = doc as ImageManifest;
  const ok = typeof x === 'object' && x !== null && x.schemaVersion === 2 && descriptorOk(x.config) && Array.isArray(x.layers) && x.layers.every(descriptorOk);
  return { valid: ok, errors: ok ? [] : [{ path: '', message: 'not an image manifest' }] };
}
export function validateConfig(doc: unknown): ValidationResult {
  const x = doc as ImageConfig;
  const ok = typeof x === 'object' && x !== null && typeof x.os === 'string' && typeof x.architecture === 'string';
  return { valid: ok, errors: ok ? [] : [{ path: '', message: 'not an image config' }] };
}
export function validateDescriptor(doc: unknown): ValidationResult {
  const ok = descriptorOk(doc);
  return { valid: ok, errors: ok ? [] : [{ path: '', message: 'not a descriptor' }] };
}
export function hostPlatform(): Platform {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return { os: process.platform, architecture: arch };
}
export function selectManifest(index: ImageIndex, want?: Platform): Descriptor | undefined {
  const w = want ?? hostPlatform();
  return index.manifests.find((m) => m.platform?.os === w.os && m.platform.architecture === w.architecture && (w.variant === undefined || m.platform.variant === w.variant));
}
export function parsePlatform(s: string): Platform {
  const [os = '', architecture = '', variant] = s.split('/');
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}
