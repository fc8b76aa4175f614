/** A platform (image-index.md, config.md). */
export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  /** Reserved by the spec; kept for completeness. */
  features?: string[];
}

/** A content descriptor (descriptor.md). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
  /** Base64 of the content, embedded. */
  data?: string;
}

/** An image manifest (manifest.md); also the shape of a Docker v2 schema 2 manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An image index (image-index.md); also the shape of a Docker manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The `config` member of an image configuration (execution parameters). */
export interface ImageConfigConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  /** Docker extensions (Healthcheck, OnBuild, Shell, ...) pass through. */
  [key: string]: unknown;
}

export interface HistoryEntry {
  created?: string;
  author?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface RootFS {
  type: 'layers';
  diff_ids: string[];
}

/** An image configuration (config.md); also the shape of a Docker image config. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ImageConfigConfig;
  rootfs: RootFS;
  history?: HistoryEntry[];
  /** Docker extensions (container_config, docker_version, ...) pass through. */
  [key: string]: unknown;
}

/** The `oci-layout` file of an image layout. */
export interface ImageLayoutFile {
  imageLayoutVersion: string;
}
