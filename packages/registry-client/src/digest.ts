import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from './errors.js';

const HEX_LEN: Record<string, number> = { sha256: 64, sha512: 128 };

/** @internal Splits and checks a digest; throws ERR_INVALID_DIGEST. */
export function splitDigest(digest: string): { algorithm: string; encoded: string } {
  const m = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(digest);
  const algorithm = m?.[1];
  const encoded = m?.[2];
  if (!algorithm || !encoded || HEX_LEN[algorithm] === undefined || encoded.length !== HEX_LEN[algorithm] || !/^[a-f0-9]+$/.test(encoded)) {
    throw new RegistryError('ERR_INVALID_DIGEST', `invalid or unsupported digest "${digest}"`, {
      digest,
      hint: 'Digests look like sha256:<64 lowercase hex> or sha512:<128 lowercase hex>.',
    });
  }
  return { algorithm, encoded };
}

/** @internal */
export function hasherFor(digest: string): Hash {
  return createHash(splitDigest(digest).algorithm);
}

/** @internal */
export function digestBytes(bytes: Uint8Array, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** @internal Throws ERR_DIGEST_MISMATCH / ERR_SIZE_MISMATCH. */
export function verifyBytes(bytes: Uint8Array, digest: string, size?: number): void {
  if (size !== undefined && bytes.length !== size) {
    throw new RegistryError('ERR_SIZE_MISMATCH', `content of ${digest} has ${bytes.length} bytes, expected ${size}`, {
      digest, expected: size, actual: bytes.length,
      hint: 'The registry (or something between us) served wrong content; nothing was stored. Retry, or report it to the registry operator.',
    });
  }
  const { algorithm } = splitDigest(digest);
  const actual = digestBytes(bytes, algorithm);
  if (actual !== digest) throw mismatch(digest, actual);
}

/** @internal */
export function mismatch(expected: string, actual: string): RegistryError {
  return new RegistryError('ERR_DIGEST_MISMATCH', `digest mismatch: expected ${expected}, got ${actual}`, {
    digest: expected, expected, actual,
    hint: 'The content was corrupted in transit or by the registry; nothing was stored. Retry; if it persists, the registry holds bad data.',
  });
}
