import { createHash, type Hash } from 'node:crypto';
import { LayoutError } from './errors.js';

/** Digest algorithms this package can hash, with the exact length of their hex encoding. */
const registered: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

const grammar = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export interface ParsedDigest {
  algorithm: string;
  encoded: string;
}

/**
 * Parse and check a digest string against the image-spec grammar, and require a registered
 * algorithm (sha256, sha512) with a lower-case hex encoding of the right length. Because the
 * encoded part can hold no `/` and no `.`, a checked digest is always safe as a path component.
 * @internal
 */
export function parseLayoutDigest(digest: unknown): ParsedDigest {
  if (typeof digest !== 'string' || digest.length > 256 || !grammar.test(digest)) {
    throw new LayoutError('ERR_INVALID_DIGEST', `invalid digest ${JSON.stringify(String(digest).slice(0, 100))}`, {
      hint: 'a digest looks like "sha256:" followed by 64 lower-case hex characters',
      digest: typeof digest === 'string' ? digest.slice(0, 256) : undefined,
    });
  }
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  const length = registered[algorithm];
  if (length === undefined) {
    throw new LayoutError('ERR_UNSUPPORTED_DIGEST', `unsupported digest algorithm "${algorithm}" in ${digest}`, {
      hint: 'only sha256 and sha512 digests are supported',
      digest,
    });
  }
  if (encoded.length !== length || !/^[a-f0-9]+$/.test(encoded)) {
    throw new LayoutError('ERR_INVALID_DIGEST', `invalid ${algorithm} digest ${digest}`, {
      hint: `a ${algorithm} digest has exactly ${length} lower-case hex characters after "${algorithm}:"`,
      digest,
    });
  }
  return { algorithm, encoded };
}

/** True when `digest` would pass parseLayoutDigest. @internal */
export function isLayoutDigest(digest: unknown): digest is string {
  try {
    parseLayoutDigest(digest);
    return true;
  } catch {
    return false;
  }
}

/** A node:crypto hasher for a registered algorithm. @internal */
export function hasherFor(algorithm: string): Hash {
  if (registered[algorithm] === undefined) {
    throw new LayoutError('ERR_UNSUPPORTED_DIGEST', `unsupported digest algorithm "${algorithm}"`, {
      hint: 'only sha256 and sha512 digests are supported',
    });
  }
  return createHash(algorithm);
}

/** @internal */
export function isRegisteredAlgorithm(algorithm: string): boolean {
  return registered[algorithm] !== undefined;
}
