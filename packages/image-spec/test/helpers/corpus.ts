// Hand-made corpus of image-spec documents for cross-checking our schemas against the official ones.
import { MediaType } from '../../src/media-types.js';

export type Kind = 'manifest' | 'index' | 'config' | 'descriptor' | 'layout';
/**
 * Who must reject a document: ours, the released official schemas (v1.1.1), Debian's older copy
 * (which oci-image-tool 1.0.0-rc1 embeds, so that tool is held to the same verdicts).
 */
export type Judge = 'ours' | 'v1.1.1' | 'debian';

export interface Case {
  name: string;
  kind: Kind;
  doc: unknown;
}
export interface InvalidCase extends Case {
  /** Defaults to every judge. */
  rejectedBy?: Judge[];
}

const hex = (c: string, n = 64): string => c.repeat(n);
export const D1 = `sha256:${hex('a')}`;
export const D2 = `sha256:${hex('b')}`;
export const D3 = `sha256:${hex('c')}`;
export const D512 = `sha512:${hex('d', 128)}`;
export const EMPTY = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

const clone = <T>(v: T): T => structuredClone(v);

/** Returns a copy of `doc` with the value at `path` (dot/number path) set, or deleted if value is DELETE. */
export const DELETE = Symbol('delete');
export function mutate(doc: unknown, path: (string | number)[], value: unknown): unknown {
  const out = clone(doc) as Record<string | number, unknown>;
  let cur: Record<string | number, unknown> = out;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === DELETE) delete cur[last];
  else cur[last] = value;
  return out;
}

export const baseManifest = {
  schemaVersion: 2,
  mediaType: MediaType.ImageManifest,
  config: { mediaType: MediaType.ImageConfig, digest: D1, size: 7023 },
  layers: [
    { mediaType: MediaType.LayerGzip, digest: D2, size: 32654 },
    { mediaType: MediaType.LayerZstd, digest: D3, size: 16724 },
  ],
  annotations: { 'com.example.key1': 'value1' },
};

export const baseIndex = {
  schemaVersion: 2,
  mediaType: MediaType.ImageIndex,
  manifests: [
    { mediaType: MediaType.ImageManifest, digest: D1, size: 7143, platform: { architecture: 'ppc64le', os: 'linux' } },
    { mediaType: MediaType.ImageManifest, digest: D2, size: 7682, platform: { architecture: 'amd64', os: 'linux' } },
  ],
  annotations: { 'com.example.key1': 'value1' },
};

export const baseConfig = {
  created: '2015-10-31T22:22:56.015925234Z',
  author: 'Alyssa P. Hacker <alyspdev@example.com>',
  architecture: 'amd64',
  os: 'linux',
  config: {
    User: 'alice',
    ExposedPorts: { '8080/tcp': {} },
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'FOO=oci_is_a'],
    Entrypoint: ['/bin/my-app-binary'],
    Cmd: ['--foreground', '--config', '/etc/my-app.d/default.cfg'],
    Volumes: { '/var/job-result-data': {}, '/var/log/my-app-logs': {} },
    WorkingDir: '/home/alice',
    Labels: { 'com.example.project.git.url': 'https://example.com/project.git' },
    StopSignal: 'SIGTERM',
  },
  rootfs: { diff_ids: [D1, D2], type: 'layers' },
  history: [
    { created: '2015-10-31T22:22:54.690851953Z', created_by: '/bin/sh -c #(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /' },
    { created: '2015-10-31T22:22:55.613815829Z', created_by: '/bin/sh -c #(nop) CMD ["sh"]', empty_layer: true },
  ],
};

export const baseDescriptor = { mediaType: MediaType.ImageManifest, digest: D1, size: 7682 };

export const validCases: Case[] = [
  // manifests
  { name: 'spec example manifest', kind: 'manifest', doc: baseManifest },
  { name: 'minimal manifest (no mediaType)', kind: 'manifest', doc: { schemaVersion: 2, config: baseManifest.config, layers: [baseManifest.layers[0]] } },
  { name: 'sha512 digests', kind: 'manifest', doc: mutate(mutate(baseManifest, ['config', 'digest'], D512), ['layers', 0, 'digest'], D512) },
  { name: 'unknown but well-formed algorithm', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'digest'], 'multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8') },
  { name: 'algorithm with separators and = in encoded', kind: 'manifest', doc: mutate(baseManifest, ['layers', 1, 'digest'], 'sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564') },
  { name: 'uncompressed layer', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'mediaType'], MediaType.Layer) },
  {
    name: 'non-distributable layer with https urls',
    kind: 'manifest',
    doc: mutate(baseManifest, ['layers', 0], { mediaType: MediaType.LayerNonDistributableGzip, digest: D2, size: 1, urls: ['https://mcr.microsoft.com/v2/windows/blobs/sha256:x', 'http://example.com/layer.tar.gz'] }),
  },
  {
    name: 'artifact manifest with empty config, subject, artifactType',
    kind: 'manifest',
    doc: {
      schemaVersion: 2,
      mediaType: MediaType.ImageManifest,
      artifactType: 'application/vnd.example.sbom.v1',
      config: { mediaType: MediaType.EmptyJSON, digest: EMPTY, size: 2, data: 'e30=' },
      layers: [{ mediaType: 'application/vnd.example.sbom.v1+json', digest: D3, size: 1234, annotations: { 'org.opencontainers.image.title': 'sbom.json' } }],
      subject: { mediaType: MediaType.ImageManifest, digest: D1, size: 7682 },
      annotations: { 'org.opencontainers.image.created': '2023-01-02T03:04:05Z' },
    },
  },
  {
    name: 'docker v2 schema 2 manifest',
    kind: 'manifest',
    doc: {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, size: 7023, digest: D1 },
      layers: [
        { mediaType: MediaType.DockerLayerGzip, size: 32654, digest: D2 },
        { mediaType: MediaType.DockerForeignLayerGzip, size: 16724, digest: D3, urls: ['https://example.com/foreign.tar.gz'] },
      ],
    },
  },
  { name: 'unknown extra fields are ignored', kind: 'manifest', doc: { ...baseManifest, 'x-extension': { anything: [1, 2] } } },
  { name: 'zero-size layer', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'size'], 0) },
  { name: 'mediaType with all allowed punctuation', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'mediaType'], 'application/vnd.a!b#c$d&e^f_g.h+i-j') },
  // indexes
  { name: 'spec example index', kind: 'index', doc: baseIndex },
  { name: 'empty index', kind: 'index', doc: { schemaVersion: 2, manifests: [] } },
  {
    name: 'layout index.json with ref names and no platform',
    kind: 'index',
    doc: { schemaVersion: 2, manifests: [{ mediaType: MediaType.ImageManifest, digest: D1, size: 405, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] },
  },
  {
    name: 'platform with os.version, os.features, variant',
    kind: 'index',
    doc: mutate(baseIndex, ['manifests', 0, 'platform'], { architecture: 'amd64', os: 'windows', 'os.version': '10.0.14393.1066', 'os.features': ['win32k'], variant: 'v3' }),
  },
  { name: 'nested index entry', kind: 'index', doc: mutate(baseIndex, ['manifests', 1], { mediaType: MediaType.ImageIndex, digest: D3, size: 300 }) },
  {
    name: 'docker manifest list',
    kind: 'index',
    doc: {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifestList,
      manifests: [
        { mediaType: MediaType.DockerManifest, size: 7143, digest: D1, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
        { mediaType: MediaType.DockerManifest, size: 7682, digest: D2, platform: { architecture: 'amd64', os: 'linux', features: ['sse4'] } },
      ],
    },
  },
  { name: 'index with subject and artifactType', kind: 'index', doc: { ...baseIndex, artifactType: 'application/vnd.example+type', subject: baseDescriptor } },
  // configs
  { name: 'spec example config', kind: 'config', doc: baseConfig },
  { name: 'minimal config', kind: 'config', doc: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } } },
  {
    name: 'nulls where the official schema allows them',
    kind: 'config',
    doc: mutate(mutate(mutate(mutate(baseConfig, ['config', 'Entrypoint'], null), ['config', 'Cmd'], null), ['config', 'Volumes'], null), ['config', 'Labels'], null),
  },
  { name: 'arm variant and windows os fields', kind: 'config', doc: { ...baseConfig, architecture: 'arm', variant: 'v7', 'os.version': '10.0.17763.1', 'os.features': ['win32k'] } },
  {
    name: 'docker config with docker-only fields',
    kind: 'config',
    doc: {
      ...baseConfig,
      container: 'f7a1ee2b0d9f',
      docker_version: '20.10.7',
      container_config: { Hostname: 'x', Cmd: ['/bin/sh', '-c', '#(nop) ', 'CMD ["sh"]'] },
      config: { ...baseConfig.config, Healthcheck: { Test: ['CMD', 'true'] }, OnBuild: null, ArgsEscaped: true, Shell: ['/bin/sh', '-c'] },
    },
  },
  { name: 'history without created', kind: 'config', doc: { ...baseConfig, history: [{ comment: 'imported', author: 'me' }] } },
  // descriptors
  { name: 'plain descriptor', kind: 'descriptor', doc: baseDescriptor },
  { name: 'empty JSON descriptor with data', kind: 'descriptor', doc: { mediaType: MediaType.EmptyJSON, digest: EMPTY, size: 2, data: 'e30=' } },
  { name: 'descriptor with everything', kind: 'descriptor', doc: { ...baseDescriptor, urls: ['https://example.com/x'], annotations: { a: 'b' }, artifactType: 'application/vnd.example+json', platform: { os: 'linux', architecture: 'arm64' } } },
  // layout
  { name: 'oci-layout 1.0.0', kind: 'layout', doc: { imageLayoutVersion: '1.0.0' } },
];

const digestsRejectedByAll = [
  ['no colon', 'sha256'],
  ['uppercase algorithm', `SHA256:${hex('a')}`],
  ['empty encoded', 'sha256:'],
  ['empty algorithm', `:${hex('a')}`],
  ['space in encoded', 'sha256:abc def'],
  ['slash in encoded', 'sha256:abc/def'],
  ['trailing separator in algorithm', `sha256+:${hex('a')}`],
  ['leading separator in algorithm', `+sha256:${hex('a')}`],
  ['two separators in a row', `sha+-256:${hex('a')}`],
  ['illegal algorithm character', `sha@256:${hex('a')}`],
  ['two colons', `sha256:${hex('a')}:x`],
  ['whitespace around', ` ${D1}`],
  ['not a string', 42],
] as const;

export const invalidCases: InvalidCase[] = [
  // manifests
  { name: 'schemaVersion 1', kind: 'manifest', doc: mutate(baseManifest, ['schemaVersion'], 1) },
  { name: 'schemaVersion 3', kind: 'manifest', doc: mutate(baseManifest, ['schemaVersion'], 3) },
  { name: 'schemaVersion as string', kind: 'manifest', doc: mutate(baseManifest, ['schemaVersion'], '2') },
  { name: 'missing schemaVersion', kind: 'manifest', doc: mutate(baseManifest, ['schemaVersion'], DELETE) },
  { name: 'missing config', kind: 'manifest', doc: mutate(baseManifest, ['config'], DELETE) },
  { name: 'missing layers', kind: 'manifest', doc: mutate(baseManifest, ['layers'], DELETE) },
  { name: 'empty layers', kind: 'manifest', doc: mutate(baseManifest, ['layers'], []) },
  { name: 'layers not an array', kind: 'manifest', doc: mutate(baseManifest, ['layers'], baseManifest.layers[0]) },
  { name: 'config not an object', kind: 'manifest', doc: mutate(baseManifest, ['config'], D1) },
  ...digestsRejectedByAll.map(([why, d]): InvalidCase => ({ name: `config digest: ${why}`, kind: 'manifest', doc: mutate(baseManifest, ['config', 'digest'], d) })),
  ...digestsRejectedByAll.map(([why, d]): InvalidCase => ({ name: `layer digest: ${why}`, kind: 'manifest', doc: mutate(baseManifest, ['layers', 1, 'digest'], d) })),
  { name: 'size as string', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'size'], '32654') },
  { name: 'fractional size', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'size'], 1.5) },
  { name: 'layer missing digest', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'digest'], DELETE) },
  { name: 'layer missing size', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'size'], DELETE) },
  { name: 'layer missing mediaType', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'mediaType'], DELETE) },
  { name: 'config missing digest', kind: 'manifest', doc: mutate(baseManifest, ['config', 'digest'], DELETE) },
  { name: 'mediaType without subtype', kind: 'manifest', doc: mutate(baseManifest, ['config', 'mediaType'], 'application') },
  { name: 'mediaType with parameters', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'mediaType'], 'application/vnd.oci.image.layer.v1.tar; charset=binary') },
  { name: 'mediaType starting with a dot', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'mediaType'], '.application/tar') },
  { name: 'mediaType empty subtype', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'mediaType'], 'application/') },
  { name: 'mediaType not a string', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'mediaType'], 7) },
  { name: 'manifest mediaType malformed', kind: 'manifest', doc: mutate(baseManifest, ['mediaType'], 'manifest') },
  { name: 'urls not URIs', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'urls'], ['not a uri']) },
  { name: 'urls relative reference', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'urls'], ['/v2/blobs/x']) },
  { name: 'urls a string', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'urls'], 'https://example.com/x') },
  { name: 'urls with a number', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'urls'], [1]) },
  { name: 'annotations not strings', kind: 'manifest', doc: mutate(baseManifest, ['annotations'], { 'com.example.n': 1 }) },
  { name: 'annotations an array', kind: 'manifest', doc: mutate(baseManifest, ['annotations'], ['a=b']) },
  { name: 'layer annotations not strings', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'annotations'], { 'com.example.b': true }) },
  { name: 'subject missing size', kind: 'manifest', doc: { ...baseManifest, subject: { mediaType: MediaType.ImageManifest, digest: D1 } }, rejectedBy: ['ours', 'v1.1.1'] },
  { name: 'artifactType malformed', kind: 'manifest', doc: { ...baseManifest, artifactType: 'sbom' }, rejectedBy: ['ours', 'v1.1.1'] },
  { name: 'manifest is an array', kind: 'manifest', doc: [baseManifest] },
  { name: 'manifest is null', kind: 'manifest', doc: null },
  { name: 'manifest is a string', kind: 'manifest', doc: 'manifest' },
  // indexes
  { name: 'index missing manifests', kind: 'index', doc: mutate(baseIndex, ['manifests'], DELETE) },
  { name: 'index manifests not an array', kind: 'index', doc: mutate(baseIndex, ['manifests'], {}) },
  { name: 'index schemaVersion 1', kind: 'index', doc: mutate(baseIndex, ['schemaVersion'], 1) },
  { name: 'index missing schemaVersion', kind: 'index', doc: mutate(baseIndex, ['schemaVersion'], DELETE) },
  { name: 'index entry missing size', kind: 'index', doc: mutate(baseIndex, ['manifests', 0, 'size'], DELETE) },
  { name: 'index entry negative-free but string size', kind: 'index', doc: mutate(baseIndex, ['manifests', 0, 'size'], '1') },
  ...digestsRejectedByAll.map(([why, d]): InvalidCase => ({ name: `index entry digest: ${why}`, kind: 'index', doc: mutate(baseIndex, ['manifests', 1, 'digest'], d) })),
  { name: 'platform missing os', kind: 'index', doc: mutate(baseIndex, ['manifests', 0, 'platform', 'os'], DELETE) },
  { name: 'platform missing architecture', kind: 'index', doc: mutate(baseIndex, ['manifests', 0, 'platform', 'architecture'], DELETE) },
  { name: 'platform os a number', kind: 'index', doc: mutate(baseIndex, ['manifests', 0, 'platform', 'os'], 1) },
  { name: 'platform os.features a string', kind: 'index', doc: mutate(baseIndex, ['manifests', 0, 'platform', 'os.features'], 'win32k') },
  { name: 'platform variant a number', kind: 'index', doc: mutate(baseIndex, ['manifests', 0, 'platform', 'variant'], 7) },
  { name: 'index entry urls not URIs', kind: 'index', doc: mutate(baseIndex, ['manifests', 0, 'urls'], ['::::']) },
  { name: 'index annotations not strings', kind: 'index', doc: mutate(baseIndex, ['annotations'], { a: ['b'] }) },
  { name: 'index entry annotations not strings', kind: 'index', doc: mutate(baseIndex, ['manifests', 0, 'annotations'], { 'org.opencontainers.image.ref.name': 1 }) },
  { name: 'index mediaType malformed', kind: 'index', doc: mutate(baseIndex, ['mediaType'], 'index') },
  // configs
  { name: 'config missing architecture', kind: 'config', doc: mutate(baseConfig, ['architecture'], DELETE) },
  { name: 'config missing os', kind: 'config', doc: mutate(baseConfig, ['os'], DELETE) },
  { name: 'config missing rootfs', kind: 'config', doc: mutate(baseConfig, ['rootfs'], DELETE) },
  { name: 'rootfs type not layers', kind: 'config', doc: mutate(baseConfig, ['rootfs', 'type'], 'layer') },
  { name: 'rootfs missing diff_ids', kind: 'config', doc: mutate(baseConfig, ['rootfs', 'diff_ids'], DELETE) },
  { name: 'rootfs missing type', kind: 'config', doc: mutate(baseConfig, ['rootfs', 'type'], DELETE) },
  { name: 'diff_ids not an array', kind: 'config', doc: mutate(baseConfig, ['rootfs', 'diff_ids'], D1) },
  { name: 'diff_ids with a number', kind: 'config', doc: mutate(baseConfig, ['rootfs', 'diff_ids'], [1]) },
  { name: 'created not a date-time', kind: 'config', doc: mutate(baseConfig, ['created'], 'yesterday') },
  { name: 'created without timezone', kind: 'config', doc: mutate(baseConfig, ['created'], '2015-10-31 22:22:56') },
  { name: 'architecture a number', kind: 'config', doc: mutate(baseConfig, ['architecture'], 64) },
  { name: 'Env a string', kind: 'config', doc: mutate(baseConfig, ['config', 'Env'], 'PATH=/bin') },
  { name: 'Env with a number', kind: 'config', doc: mutate(baseConfig, ['config', 'Env'], [1]) },
  { name: 'Cmd a string', kind: 'config', doc: mutate(baseConfig, ['config', 'Cmd'], 'sh') },
  { name: 'Entrypoint with a number', kind: 'config', doc: mutate(baseConfig, ['config', 'Entrypoint'], [1]) },
  { name: 'User a number', kind: 'config', doc: mutate(baseConfig, ['config', 'User'], 0) },
  { name: 'Labels not strings', kind: 'config', doc: mutate(baseConfig, ['config', 'Labels'], { a: 1 }) },
  { name: 'ExposedPorts values not objects', kind: 'config', doc: mutate(baseConfig, ['config', 'ExposedPorts'], { '80/tcp': 'yes' }) },
  { name: 'Volumes an array', kind: 'config', doc: mutate(baseConfig, ['config', 'Volumes'], ['/data']) },
  { name: 'ArgsEscaped a string', kind: 'config', doc: mutate(baseConfig, ['config', 'ArgsEscaped'], 'true') },
  { name: 'history not an array', kind: 'config', doc: mutate(baseConfig, ['history'], {}) },
  { name: 'history empty_layer a string', kind: 'config', doc: mutate(baseConfig, ['history', 0, 'empty_layer'], 'yes') },
  { name: 'history created bad', kind: 'config', doc: mutate(baseConfig, ['history', 0, 'created'], 'now') },
  { name: 'os.features a string', kind: 'config', doc: mutate(baseConfig, ['os.features'], 'win32k') },
  // descriptors
  { name: 'descriptor missing mediaType', kind: 'descriptor', doc: mutate(baseDescriptor, ['mediaType'], DELETE) },
  { name: 'descriptor missing digest', kind: 'descriptor', doc: mutate(baseDescriptor, ['digest'], DELETE) },
  { name: 'descriptor missing size', kind: 'descriptor', doc: mutate(baseDescriptor, ['size'], DELETE) },
  { name: 'descriptor size null', kind: 'descriptor', doc: mutate(baseDescriptor, ['size'], null) },
  ...digestsRejectedByAll.map(([why, d]): InvalidCase => ({ name: `descriptor digest: ${why}`, kind: 'descriptor', doc: mutate(baseDescriptor, ['digest'], d) })),
  { name: 'descriptor artifactType malformed', kind: 'descriptor', doc: { ...baseDescriptor, artifactType: 'x' }, rejectedBy: ['ours', 'v1.1.1'] },
  { name: 'descriptor data not a string', kind: 'descriptor', doc: { ...baseDescriptor, data: 1 }, rejectedBy: ['ours', 'v1.1.1'] },
  // layout
  { name: 'oci-layout version 2.0.0', kind: 'layout', doc: { imageLayoutVersion: '2.0.0' } },
  { name: 'oci-layout version as number', kind: 'layout', doc: { imageLayoutVersion: 1 } },
  { name: 'oci-layout empty', kind: 'layout', doc: {} },
];

/**
 * Documents the official schemas accept but ours refuse, on purpose (see docs/image-spec.md
 * "Where our schemas are stricter").
 */
export const stricterCases: Case[] = [
  { name: 'negative size', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'size'], -1) },
  { name: 'size beyond 2^53-1', kind: 'manifest', doc: mutate(baseManifest, ['layers', 0, 'size'], 2 ** 60) },
  { name: 'sha256 with 63 hex', kind: 'manifest', doc: mutate(baseManifest, ['config', 'digest'], `sha256:${hex('a', 63)}`) },
  { name: 'sha256 with uppercase hex', kind: 'manifest', doc: mutate(baseManifest, ['config', 'digest'], `sha256:${hex('A')}`) },
  { name: 'sha256 with base64 characters', kind: 'manifest', doc: mutate(baseManifest, ['config', 'digest'], `sha256:${hex('g')}`) },
  { name: 'sha512 with 64 hex', kind: 'manifest', doc: mutate(baseManifest, ['config', 'digest'], `sha512:${hex('a')}`) },
  { name: 'manifest with the index mediaType', kind: 'manifest', doc: mutate(baseManifest, ['mediaType'], MediaType.ImageIndex) },
  { name: 'manifest with an unknown mediaType', kind: 'manifest', doc: mutate(baseManifest, ['mediaType'], 'application/json') },
  { name: 'index with the manifest mediaType', kind: 'index', doc: mutate(baseIndex, ['mediaType'], MediaType.ImageManifest) },
  { name: 'annotation with an empty key and a number', kind: 'manifest', doc: mutate(baseManifest, ['annotations'], { '': 1 }) },
  { name: 'data not base64', kind: 'descriptor', doc: { mediaType: MediaType.EmptyJSON, digest: EMPTY, size: 2, data: '{}' } },
  { name: 'data that does not match the digest', kind: 'descriptor', doc: { mediaType: MediaType.EmptyJSON, digest: D1, size: 2, data: 'e30=' } },
  { name: 'data that does not match the size', kind: 'descriptor', doc: { mediaType: MediaType.EmptyJSON, digest: EMPTY, size: 3, data: 'e30=' } },
  { name: 'diff_ids not digests', kind: 'config', doc: mutate(baseConfig, ['rootfs', 'diff_ids'], ['layer1']) },
  { name: 'platform features a string', kind: 'index', doc: mutate(baseIndex, ['manifests', 0, 'platform', 'features'], 'sse4') },
];

/** Documents ours accepts but the official schemas refuse, on purpose (Docker compatibility). */
export const lenientCases: Case[] = [
  { name: 'Env null (Docker writes it)', kind: 'config', doc: mutate(baseConfig, ['config', 'Env'], null) },
];
