import { digestOf } from './digest.js';
import type { Descriptor, Platform } from './types.js';

export interface DescriptorOfOptions {
  /** Digest algorithm; default sha256. */
  algorithm?: string | undefined;
  annotations?: Record<string, string> | undefined;
  platform?: Platform | undefined;
  artifactType?: string | undefined;
  urls?: string[] | undefined;
  /** Embed the bytes as base64 `data` (only sensible for small content). */
  embed?: boolean | undefined;
}

/**
 * The descriptor of some bytes: digest, size and media type (plus the optional members given).
 * A string is taken as UTF-8.
 * @throws ImageSpecError ERR_UNSUPPORTED_DIGEST for an algorithm other than sha256 / sha512
 */
export function descriptorOf(data: Uint8Array | string, mediaType: string, options: DescriptorOfOptions = {}): Descriptor {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const d: Descriptor = { mediaType, digest: digestOf(bytes, options.algorithm ?? 'sha256'), size: bytes.byteLength };
  if (options.urls !== undefined) d.urls = [...options.urls];
  if (options.annotations !== undefined) d.annotations = { ...options.annotations };
  if (options.platform !== undefined) d.platform = { ...options.platform };
  if (options.artifactType !== undefined) d.artifactType = options.artifactType;
  if (options.embed === true) d.data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return d;
}
