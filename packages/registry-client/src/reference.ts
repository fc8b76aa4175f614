import { RegistryError } from './errors.js';

/** A parsed, normalised image reference (registry/repository[:tag][@digest]). */
export interface Reference {
  /** Registry host as users write it, normalised: 'docker.io', 'localhost:5000', 'ghcr.io'. */
  readonly registry: string;
  /** Repository path, e.g. 'library/busybox'. */
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';
/** The host that serves the API for docker.io. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
export const NAME_TOTAL_LENGTH_MAX = 255;

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const ANCHORED_ID_RE = /^[a-f0-9]{64}$/;

export interface ParseReferenceOptions {
  /** Add ':latest' when neither tag nor digest is given (default true). */
  defaultTag?: boolean;
}

function invalid(input: string, why: string): RegistryError {
  return new RegistryError('ERR_INVALID_REFERENCE', `invalid reference "${input}": ${why}`, {
    reference: input,
    hint: 'Write references as [registry[:port]/]repository[:tag][@algorithm:hex], repository in lowercase, e.g. docker.io/library/busybox:latest.',
  });
}

/** Checks the encoded part of a digest the way the distribution reference grammar does. */
function checkDigest(input: string, digest: string): void {
  if (!DIGEST_RE.test(digest)) throw invalid(input, `malformed digest "${digest}"`);
  const [alg, hex] = digest.split(':') as [string, string];
  const lengths: Record<string, number> = { sha256: 64, sha512: 128 };
  const want = lengths[alg];
  if (want !== undefined) {
    if (!/^[a-f0-9]+$/.test(hex) || hex.length !== want) {
      throw invalid(input, `digest "${digest}" must have ${want} lowercase hex characters`);
    }
  } else if (hex.length < 32) {
    throw invalid(input, `unsupported digest algorithm "${alg}"`);
  }
}

/**
 * Parses and normalises a reference as Docker and containerd do (ParseNormalizedNamed):
 * 'busybox' -> docker.io/library/busybox:latest, 'index.docker.io/x' -> docker.io/library/x,
 * host[:port] recognised by a '.' or ':' or 'localhost' in the first path component.
 * Throws RegistryError ERR_INVALID_REFERENCE.
 */
export function parseReference(input: string, options: ParseReferenceOptions = {}): Reference {
  if (typeof input !== 'string' || input.length === 0) throw invalid(String(input), 'empty reference');
  if (/\s/.test(input)) throw invalid(input, 'contains whitespace');
  if (input.includes('://')) throw invalid(input, 'a transport or scheme is not part of a reference');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    checkDigest(input, digest);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  const lastSlash = rest.lastIndexOf('/');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG_RE.test(tag)) throw invalid(input, `malformed tag "${tag}"`);
  }
  if (rest.length === 0) throw invalid(input, 'missing repository name');
  if (ANCHORED_ID_RE.test(rest)) {
    throw invalid(input, 'a 64-character hexadecimal string is an image ID, not a repository name');
  }
  let registry: string;
  let repository: string;
  const slash = rest.indexOf('/');
  const first = slash === -1 ? rest : rest.slice(0, slash);
  if (
    slash === -1 ||
    (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)
  ) {
    registry = DEFAULT_REGISTRY;
    repository = rest;
  } else {
    registry = first;
    repository = rest.slice(slash + 1);
    if (!DOMAIN_RE.test(registry)) throw invalid(input, `malformed registry host "${registry}"`);
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API_HOST) registry = DEFAULT_REGISTRY;
  if (repository.length === 0) throw invalid(input, 'missing repository name');
  if (repository.toLowerCase() !== repository) throw invalid(input, 'repository name must be lowercase');
  if (!PATH_RE.test(repository)) throw invalid(input, `malformed repository name "${repository}"`);
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  if (registry.length + 1 + repository.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(input, `repository name longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  if (tag === undefined && digest === undefined && options.defaultTag !== false) tag = DEFAULT_TAG;
  return Object.freeze({ registry, repository, tag, digest });
}

/** Like parseReference but returns undefined instead of throwing. */
export function tryParseReference(input: string, options?: ParseReferenceOptions): Reference | undefined {
  try {
    return parseReference(input, options);
  } catch {
    return undefined;
  }
}

/** The fully qualified string: docker.io/library/busybox:latest[@sha256:...]. */
export function formatReference(ref: Reference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The short form Docker prints: 'busybox:latest', 'user/app:1', 'ghcr.io/x/y@sha256:...'. */
export function familiarReference(ref: Reference): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DEFAULT_REGISTRY) {
    name = ref.repository.startsWith('library/') && ref.repository.split('/').length === 2
      ? ref.repository.slice('library/'.length)
      : ref.repository;
  }
  if (ref.tag !== undefined) name += `:${ref.tag}`;
  if (ref.digest !== undefined) name += `@${ref.digest}`;
  return name;
}

/** The repository name without tag or digest: docker.io/library/busybox. */
export function repositoryName(ref: Pick<Reference, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The host that serves the distribution API for a registry name (docker.io -> registry-1.docker.io). */
export function apiHost(registry: string): string {
  return registry === DEFAULT_REGISTRY ? DOCKER_HUB_API_HOST : registry;
}

/** What to ask the registry for: the digest if present, else the tag. */
export function manifestSelector(ref: Reference): string {
  const sel = ref.digest ?? ref.tag;
  if (sel === undefined) throw invalid(formatReference(ref), 'needs a tag or a digest');
  return sel;
}

/** A copy of `ref` with the tag/digest replaced. */
export function withSelector(ref: Reference, sel: { tag?: string | undefined; digest?: string | undefined }): Reference {
  return Object.freeze({ registry: ref.registry, repository: ref.repository, tag: sel.tag, digest: sel.digest });
}
