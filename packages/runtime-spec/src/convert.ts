import { basename } from 'node:path';
import { ImageAnnotation } from './constants.js';
import { defaultSpec } from './defaults.js';
import { RuntimeSpecError } from './errors.js';
import type { Mount, Spec } from './types.js';
import { readUserDatabase, resolveUser, type UserDatabase } from './user.js';

/**
 * The parts of an OCI image config (application/vnd.oci.image.config.v1+json) the conversion reads.
 * Structurally compatible with @oci/image-spec's ImageConfig (this package does not depend on it).
 */
export interface ImageConfigLike {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: {
    User?: string;
    ExposedPorts?: Record<string, unknown> | null;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, unknown> | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
  } | null;
}

export interface ImageConfigToSpecOptions {
  /** The unpacked root filesystem: its /etc/passwd and /etc/group resolve `User` (read without leaving it). */
  rootfs: string;
  /**
   * Replace the image's `Cmd` (the entrypoint is kept): `process.args = Entrypoint + args`. This is what
   * `docker run IMAGE ARGS...` does. Pass `entrypoint` too to replace the entrypoint.
   */
  args?: string[];
  /** Replace the image's `Entrypoint` (then `process.args = entrypoint + (args ?? Cmd)`). */
  entrypoint?: string[];
  /** The spec to start from (default `defaultSpec()`, i.e. `runc spec`). Not modified. */
  base?: Spec;
  /** `process.terminal` (default false). */
  terminal?: boolean;
  /** `root.path` (default: the rootfs directory's base name, e.g. `rootfs`). */
  rootPath?: string;
  /** `root.readonly` (default false: images expect a writable root, as umoci writes). */
  readonly?: boolean;
  /**
   * What to do with `Config.Volumes`: `'annotation'` (default) records them comma-separated in
   * `org.opencontainers.image.volumes` (not an image-spec key); `'tmpfs'` adds a tmpfs mount per volume as umoci
   * does; `'ignore'` drops them.
   */
  volumes?: 'annotation' | 'tmpfs' | 'ignore';
  /** Use this user database instead of reading the rootfs (for pure planning and tests). */
  userDatabase?: UserDatabase;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function bad(message: string, hint: string): RuntimeSpecError {
  return new RuntimeSpecError('ERR_INVALID_IMAGE_CONFIG', message, { hint });
}

function stringArray(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw bad(`image config ${field} must be an array of strings`, 'The image config is malformed; rebuild the image.');
  }
  return v as string[];
}

function envName(entry: string, field: string): string {
  const eq = entry.indexOf('=');
  if (eq <= 0) {
    throw bad(`image config ${field} entry ${JSON.stringify(entry)} is not NAME=value`, 'Every Env entry needs a name and "=".');
  }
  return entry.slice(0, eq);
}

/** Set NAME=value in env: replace the first entry of that name in place, or append. */
function setEnv(env: string[], entry: string, name: string): void {
  const i = env.findIndex((e) => e.startsWith(`${name}=`));
  if (i >= 0) env[i] = entry;
  else env.push(entry);
}

/**
 * Convert an image config into a runtime config as the image-spec conversion document says, on top of
 * `base` (default: `defaultSpec()`):
 * - `process.args` = Entrypoint + Cmd (`options.args` replaces Cmd, `options.entrypoint` replaces Entrypoint);
 *   when both are empty the base's args are kept.
 * - `process.env`: the base's env with each image `Env` entry replacing the entry of the same name in place or
 *   appended (so the default PATH stays unless the image sets one); `HOME` from /etc/passwd unless the image sets it.
 * - `process.cwd` = WorkingDir or `/`; `process.user` from `User` through the rootfs's /etc/passwd and /etc/group
 *   (ERR_INVALID_USER when a name cannot be resolved), `additionalGids` from group membership.
 * - annotations: os, architecture, variant, os.version, os.features, author, created, stopSignal, exposedPorts
 *   (comma-joined), then `Labels`, which win over the implicit ones.
 * - `process.terminal` false unless `options.terminal`.
 * Throws ERR_INVALID_IMAGE_CONFIG for a malformed config or a non-Linux image.
 */
export function imageConfigToSpec(imageConfig: ImageConfigLike, options: ImageConfigToSpecOptions): Spec {
  if (typeof imageConfig !== 'object' || imageConfig === null) {
    throw bad('image config must be a JSON object', 'Pass the parsed image config blob.');
  }
  if (imageConfig.os !== undefined && imageConfig.os !== 'linux') {
    throw bad(`image is for os "${String(imageConfig.os)}", not linux`, 'Select the linux image of a multi-platform index.');
  }
  const c = imageConfig.config ?? {};
  const spec = structuredClone(options.base ?? defaultSpec());
  const process = (spec.process ??= { cwd: '/', user: { uid: 0, gid: 0 } });

  // args
  const entrypoint = options.entrypoint ?? stringArray(c.Entrypoint, 'Entrypoint') ?? [];
  const cmd = options.args ?? stringArray(c.Cmd, 'Cmd') ?? [];
  const args = [...entrypoint, ...cmd];
  if (args.length > 0) process.args = args;
  process.terminal = options.terminal ?? false;

  // env
  const env = [...(process.env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  const imageEnvNames = new Set<string>();
  for (const entry of stringArray(c.Env, 'Env') ?? []) {
    const name = envName(entry, 'Env');
    imageEnvNames.add(name);
    setEnv(env, entry, name);
  }

  // cwd
  if (c.WorkingDir !== undefined && typeof c.WorkingDir !== 'string') {
    throw bad('image config WorkingDir must be a string', 'The image config is malformed; rebuild the image.');
  }
  process.cwd = c.WorkingDir ? c.WorkingDir : '/';

  // user
  if (c.User !== undefined && typeof c.User !== 'string') {
    throw bad('image config User must be a string', 'The image config is malformed; rebuild the image.');
  }
  const db = options.userDatabase ?? readUserDatabase(options.rootfs);
  const user = resolveUser(c.User ?? '', db);
  const prevUser = process.user;
  process.user = { uid: user.uid, gid: user.gid };
  if (prevUser?.umask !== undefined) process.user.umask = prevUser.umask;
  if (user.additionalGids.length > 0) process.user.additionalGids = user.additionalGids;
  if (user.home !== undefined && !imageEnvNames.has('HOME')) setEnv(env, `HOME=${user.home}`, 'HOME');
  process.env = env;

  // root
  spec.root = { path: options.rootPath ?? basename(options.rootfs), readonly: options.readonly ?? false };

  // annotations
  const implicit: Record<string, string> = {};
  const put = (key: string, v: unknown): void => {
    if (typeof v === 'string') implicit[key] = v;
  };
  put(ImageAnnotation.OS, imageConfig.os);
  put(ImageAnnotation.Architecture, imageConfig.architecture);
  put(ImageAnnotation.Variant, imageConfig.variant);
  put(ImageAnnotation.OSVersion, imageConfig['os.version']);
  if (Array.isArray(imageConfig['os.features'])) implicit[ImageAnnotation.OSFeatures] = imageConfig['os.features'].join(',');
  put(ImageAnnotation.Author, imageConfig.author);
  put(ImageAnnotation.Created, imageConfig.created);
  put(ImageAnnotation.StopSignal, c.StopSignal);
  if (c.ExposedPorts && typeof c.ExposedPorts === 'object') {
    implicit[ImageAnnotation.ExposedPorts] = Object.keys(c.ExposedPorts).join(',');
  }
  const volumes = c.Volumes && typeof c.Volumes === 'object' ? Object.keys(c.Volumes) : [];
  const volumeMode = options.volumes ?? 'annotation';
  if (volumeMode === 'annotation' && volumes.length > 0) implicit[ImageAnnotation.Volumes] = volumes.join(',');
  if (volumeMode === 'tmpfs') {
    const mounts: Mount[] = spec.mounts ?? [];
    for (const destination of volumes) {
      mounts.push({ destination, type: 'tmpfs', source: 'none', options: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime'] });
    }
    spec.mounts = mounts;
  }
  const labels: unknown = c.Labels ?? {};
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw bad('image config Labels must be an object', 'The image config is malformed.');
  const annotations: Record<string, string> = { ...spec.annotations, ...implicit };
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') throw bad(`image config label ${JSON.stringify(k)} is not a string`, 'Labels map strings to strings.');
    annotations[k] = v;
  }
  if (Object.keys(annotations).length > 0) {
    spec.annotations = Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  return spec;
}
