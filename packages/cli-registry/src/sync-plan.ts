// `oci-registry sync`: which images a sync source holds and where each one goes. Pure (no I/O): the command
// (commands/sync.ts) lists tags and directories, this module names things, so the naming rules, which are
// skopeo sync's, are tested on their own.
import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CliError, usage } from './errors.js';
import type { ImageName } from './transports.js';

export type SyncSourceTransport = 'docker' | 'dir' | 'oci' | 'yaml';
export type SyncDestTransport = 'docker' | 'dir' | 'oci';

/** One image to copy: where it is, and the name it has below the destination (skopeo's "suffix"). */
export interface SyncImage {
  source: ImageName;
  /** docker: `registry/repo:tag` (or `@digest`); dir: the path below the source directory; oci: the ref name. */
  suffix: string;
  /** The yaml source's per-registry access settings. */
  access?: SyncAccess | undefined;
}

export interface SyncAccess {
  username?: string | undefined;
  password?: string | undefined;
  tlsVerify?: boolean | undefined;
  certDir?: string | undefined;
}

/** The destination image of one source image: DEST joined with the suffix (its last component unless scoped). */
export function syncDestination(destTransport: SyncDestTransport, destination: string, suffix: string, scoped: boolean): ImageName {
  const name = posix.join(destination, scoped ? suffix : posix.basename(suffix));
  switch (destTransport) {
    case 'docker':
      return { transport: 'docker', reference: name };
    case 'dir':
      return { transport: 'dir', dir: name };
    case 'oci': {
      // DEST/busybox:latest is the layout DEST/busybox, ref latest (one layout per repository)
      const slash = name.lastIndexOf('/');
      const colon = name.indexOf(':', slash + 1);
      return colon === -1 ? { transport: 'oci', dir: name, ref: undefined } : { transport: 'oci', dir: name.slice(0, colon), ref: name.slice(colon + 1) || undefined };
    }
  }
}

/** The suffix of an image found in a `dir` source: its path below the source, or the source's name when it is the image. */
export function dirSuffix(sourceDir: string, imageDir: string): string {
  const base = sourceDir.replace(/\/+$/, '');
  const rel = imageDir.startsWith(base) ? imageDir.slice(base.length) : imageDir;
  return rel === '' ? posix.basename(base) : rel;
}

/** The way an ImageName is written on skopeo's command line (for messages and the digest file). */
export function imageNameString(name: ImageName): string {
  switch (name.transport) {
    case 'docker':
      return `docker://${name.reference}`;
    case 'dir':
      return `dir:${name.dir}`;
    case 'oci':
      return `oci:${name.dir}${name.ref ? `:${name.ref}` : ''}`;
    case 'oci-archive':
      return `oci-archive:${name.file}${name.ref ? `:${name.ref}` : ''}`;
  }
}

/** One repository of a yaml source: explicit refs (tags or digests), a tag regex, or every tag when neither is given. */
export interface YamlRepository {
  registry: string;
  repository: string;
  refs: string[] | undefined;
  tagRegex: RegExp | undefined;
  access: SyncAccess;
}

const REGISTRY_KEYS = new Set(['images', 'images-by-tag-regex', 'credentials', 'tls-verify', 'cert-dir']);

/**
 * Parses a skopeo sync YAML source:
 *   registry.example.com:
 *     images: { busybox: [], redis: ["1.0", "sha256:..."] }
 *     images-by-tag-regex: { nginx: ^1\.13\.[12]-alpine-perl$ }
 *     credentials: { username: u, password: p }
 *     tls-verify: false
 *     cert-dir: /path/to/certs
 * Unknown keys are refused (a typo would silently copy nothing). Pure.
 */
export function parseSyncYaml(text: string, file: string): YamlRepository[] {
  const bad = (why: string): CliError => new CliError('ERR_SYNC_YAML', `invalid sync source ${file}: ${why}`, {
    hint: 'The file maps registries to { images: { REPO: [TAG|DIGEST, ...] }, images-by-tag-regex: { REPO: REGEX }, credentials, tls-verify, cert-dir } (see skopeo-sync(1)).',
  });
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw bad((err as Error).message.split('\n')[0] ?? 'not YAML');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad('the top level must map registry names to settings');
  const out: YamlRepository[] = [];
  for (const [registry, cfg] of Object.entries(doc as Record<string, unknown>)) {
    if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw bad(`${registry}: settings must be a mapping`);
    const c = cfg as Record<string, unknown>;
    for (const k of Object.keys(c)) if (!REGISTRY_KEYS.has(k)) throw bad(`${registry}: unknown key "${k}"`);
    const access: SyncAccess = {};
    if (c.credentials !== undefined) {
      const cr = c.credentials as Record<string, unknown> | null;
      if (cr === null || typeof cr !== 'object' || typeof cr.username !== 'string' || (cr.password !== undefined && typeof cr.password !== 'string')) {
        throw bad(`${registry}: credentials needs username (and password) strings`);
      }
      access.username = cr.username;
      access.password = (cr.password as string | undefined) ?? '';
    }
    if (c['tls-verify'] !== undefined) {
      if (typeof c['tls-verify'] !== 'boolean') throw bad(`${registry}: tls-verify must be true or false`);
      access.tlsVerify = c['tls-verify'];
    }
    if (c['cert-dir'] !== undefined) {
      if (typeof c['cert-dir'] !== 'string') throw bad(`${registry}: cert-dir must be a path`);
      access.certDir = c['cert-dir'];
    }
    const images = c.images ?? {};
    if (images === null || typeof images !== 'object' || Array.isArray(images)) throw bad(`${registry}: images must map repositories to lists of tags or digests`);
    for (const [repository, refs] of Object.entries(images as Record<string, unknown>)) {
      if (refs !== null && (!Array.isArray(refs) || refs.some((r) => typeof r !== 'string' && typeof r !== 'number'))) {
        throw bad(`${registry}/${repository}: list tags or digests as strings`);
      }
      const list = (refs ?? []) as (string | number)[];
      out.push({ registry, repository, refs: list.length ? list.map(String) : undefined, tagRegex: undefined, access });
    }
    const byRegex = c['images-by-tag-regex'] ?? {};
    if (byRegex === null || typeof byRegex !== 'object' || Array.isArray(byRegex)) throw bad(`${registry}: images-by-tag-regex must map repositories to regular expressions`);
    for (const [repository, re] of Object.entries(byRegex as Record<string, unknown>)) {
      if (typeof re !== 'string') throw bad(`${registry}/${repository}: the tag regex must be a string`);
      let tagRegex: RegExp;
      try {
        tagRegex = new RegExp(re);
      } catch (err) {
        throw bad(`${registry}/${repository}: bad regular expression (${(err as Error).message})`);
      }
      out.push({ registry, repository, refs: undefined, tagRegex, access });
    }
  }
  return out;
}

/** A yaml ref is a digest when it looks like one (algorithm:hex), else a tag. */
export function yamlRefSuffix(registry: string, repository: string, ref: string): string {
  return /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(ref) ? `${registry}/${repository}@${ref}` : `${registry}/${repository}:${ref}`;
}

/** Checks the --src/--dest pair as skopeo does. */
export function checkSyncTransports(src: string, dest: string): { src: SyncSourceTransport; dest: SyncDestTransport } {
  if (!['docker', 'dir', 'oci', 'yaml'].includes(src)) throw usage(`"${src}" is not a valid source transport`, 'Use --src docker, dir, oci or yaml.');
  if (!['docker', 'dir', 'oci'].includes(dest)) throw usage(`"${dest}" is not a valid destination transport`, 'Use --dest docker, dir or oci.');
  if (src === 'dir' && dest === 'dir') throw usage('sync from dir to dir is not implemented', 'Copy the directories with cp -a or rsync.');
  return { src: src as SyncSourceTransport, dest: dest as SyncDestTransport };
}
