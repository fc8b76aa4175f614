import { createHasher, isOciError, isSupportedAlgorithm, parseSupportedDigest, type Hasher } from '@oci/image-spec';
import { LayoutError } from './errors.js';

export interface ParsedDigest {
  algorithm: 'sha256' | 'sha512';
  encoded: string;
}

/**
 * Parse a digest with @oci/image-spec's grammar and require a supported algorithm (sha256,
 * sha512), rethrowing as LayoutError ERR_INVALID_DIGEST / ERR_UNSUPPORTED_DIGEST. Because a
 * supported digest's encoded part is lower-case hex, a checked digest is always safe as a path
 * component (`sha256:../../x` is refused here).
 * @internal
 */
export function parseLayoutDigest(digest: unknown): ParsedDigest {
  try {
    return parseSupportedDigest(digest as string);
  } catch (err) {
    if (isOciError(err)) {
      const code = err.code === 'ERR_UNSUPPORTED_DIGEST' ? 'ERR_UNSUPPORTED_DIGEST' : 'ERR_INVALID_DIGEST';
      throw new LayoutError(code, err.message, {
        hint: err.hint ?? 'a digest looks like "sha256:" followed by 64 lower-case hex characters',
        digest: typeof digest === 'string' ? digest.slice(0, 256) : undefined,
        cause: err,
      });
    }
    throw err;
  }
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

/** A streaming hasher; `digest()` returns "alg:hex". @internal */
export function hasherFor(algorithm: string): Hasher {
  if (!isSupportedAlgorithm(algorithm)) {
    throw new LayoutError('ERR_UNSUPPORTED_DIGEST', `unsupported digest algorithm "${algorithm}"`, {
      hint: 'only sha256 and sha512 digests are supported',
    });
  }
  return createHasher(algorithm);
}

/** @internal */
export function isRegisteredAlgorithm(algorithm: string): boolean {
  return isSupportedAlgorithm(algorithm);
}
