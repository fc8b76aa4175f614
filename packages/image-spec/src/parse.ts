import { ImageSpecError, type ImageSpecErrorCode } from './errors.js';
import { baseMediaType, isConfigMediaType, isIndexMediaType, isManifestMediaType } from './media-types.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageLayoutFile, ImageManifest } from './types.js';
import {
  formatValidationErrors,
  validateConfig,
  validateDescriptor,
  validateIndex,
  validateLayoutFile,
  validateManifest,
  type ValidationResult,
} from './validate.js';

export interface ParseOptions {
  /** Refuse input longer than this many bytes (ERR_TOO_LARGE). */
  maxSize?: number | undefined;
  /**
   * The media type the content was announced with (descriptor or Content-Type). It must be of the
   * right kind, and agree with the document's own mediaType field (ERR_MEDIA_TYPE_MISMATCH).
   */
  mediaType?: string | undefined;
}

// ignoreBOM keeps a leading byte-order mark in the text so that JSON.parse refuses it, for bytes as
// for strings, as Go's encoding/json (skopeo, containerd, the registry) does.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Deeper nesting is refused: no OCI document comes close, and JSON.stringify overflows the stack at ~10 000. */
export const MAX_JSON_DEPTH = 128;

function withinDepth(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return false;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return true;
}

function parseJson(input: Uint8Array | string, what: string, options: ParseOptions): unknown {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (options.maxSize !== undefined && size > options.maxSize) {
    throw new ImageSpecError('ERR_TOO_LARGE', `The ${what} is ${size} bytes, more than the limit of ${options.maxSize}`, {
      hint: 'Raise maxSize if this document is legitimate.',
      expected: options.maxSize,
      actual: size,
    });
  }
  let text: string;
  try {
    text = typeof input === 'string' ? input : decoder.decode(input);
  } catch (cause) {
    throw new ImageSpecError('ERR_INVALID_JSON', `The ${what} is not valid UTF-8`, { cause, hint: 'The content is corrupt or not a JSON document.' });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ImageSpecError('ERR_INVALID_JSON', `The ${what} is not valid JSON: ${(cause as Error).message}`, {
      cause,
      hint: 'The content is corrupt or not a JSON document.',
    });
  }
  if (!withinDepth(doc, MAX_JSON_DEPTH)) {
    throw new ImageSpecError('ERR_INVALID_JSON', `The ${what} nests arrays or objects more than ${MAX_JSON_DEPTH} deep`, {
      hint: 'No OCI document is nested like this; the content is hostile or not what it claims to be.',
    });
  }
  return doc;
}

function fail(code: ImageSpecErrorCode, what: string, r: ValidationResult, hint: string): never {
  throw new ImageSpecError(code, `Invalid ${what}: ${formatValidationErrors(r.errors)}`, { hint, errors: r.errors });
}

function checkMediaType(
  what: string,
  doc: { mediaType?: unknown },
  announced: string | undefined,
  kind: (mt: string) => boolean,
): void {
  if (announced === undefined) return;
  const a = baseMediaType(announced);
  const own = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (!kind(a) || (own !== undefined && own !== a)) {
    throw new ImageSpecError('ERR_MEDIA_TYPE_MISMATCH', `The ${what} was announced as ${a}${own === undefined ? '' : ` but says it is ${own}`}`, {
      hint: `Expected ${what === 'index' ? 'an index' : 'a manifest'} media type; the descriptor or Content-Type does not match the content.`,
      expected: a,
      actual: own,
    });
  }
}

function manifestFrom(doc: unknown, options: ParseOptions): ImageManifest {
  const r = validateManifest(doc);
  if (!r.valid) fail('ERR_INVALID_MANIFEST', 'image manifest', r, 'The manifest does not follow the OCI image-spec; check how it was produced.');
  checkMediaType('manifest', doc as ImageManifest, options.mediaType, isManifestMediaType);
  return doc as ImageManifest;
}

function indexFrom(doc: unknown, options: ParseOptions): ImageIndex {
  const r = validateIndex(doc);
  if (!r.valid) fail('ERR_INVALID_INDEX', 'image index', r, 'The index does not follow the OCI image-spec; check how it was produced.');
  checkMediaType('index', doc as ImageIndex, options.mediaType, isIndexMediaType);
  return doc as ImageIndex;
}

/**
 * JSON-parses and validates an image manifest (OCI or Docker v2 schema 2).
 * @throws ImageSpecError ERR_INVALID_JSON, ERR_TOO_LARGE, ERR_INVALID_MANIFEST, ERR_MEDIA_TYPE_MISMATCH
 */
export function parseManifest(input: Uint8Array | string, options: ParseOptions = {}): ImageManifest {
  return manifestFrom(parseJson(input, 'manifest', options), options);
}

/**
 * JSON-parses and validates an image index (OCI or Docker manifest list).
 * @throws ImageSpecError ERR_INVALID_JSON, ERR_TOO_LARGE, ERR_INVALID_INDEX, ERR_MEDIA_TYPE_MISMATCH
 */
export function parseIndex(input: Uint8Array | string, options: ParseOptions = {}): ImageIndex {
  return indexFrom(parseJson(input, 'index', options), options);
}
/**
 * JSON-parses and validates an image configuration (OCI or Docker).
 * @throws ImageSpecError ERR_INVALID_JSON, ERR_TOO_LARGE, ERR_INVALID_CONFIG, ERR_MEDIA_TYPE_MISMATCH
 */
export function parseConfig(input: Uint8Array | string, options: ParseOptions = {}): ImageConfig {
  const doc = parseJson(input, 'image config', options);
  const r = validateConfig(doc);
  if (!r.valid) fail('ERR_INVALID_CONFIG', 'image config', r, 'The image configuration does not follow the OCI image-spec; check how it was produced.');
  if (options.mediaType !== undefined && !isConfigMediaType(options.mediaType)) {
    throw new ImageSpecError('ERR_MEDIA_TYPE_MISMATCH', `The image config was announced as ${baseMediaType(options.mediaType)}`, {
      hint: 'Expected an OCI or Docker image config media type.',
      expected: 'application/vnd.oci.image.config.v1+json',
      actual: baseMediaType(options.mediaType),
    });
  }
  return doc as ImageConfig;
}

/**
 * JSON-parses and validates a descriptor.
 * @throws ImageSpecError ERR_INVALID_JSON, ERR_TOO_LARGE, ERR_INVALID_DESCRIPTOR
 */
export function parseDescriptor(input: Uint8Array | string, options: Omit<ParseOptions, 'mediaType'> = {}): Descriptor {
  const doc = parseJson(input, 'descriptor', options);
  const r = validateDescriptor(doc);
  if (!r.valid) fail('ERR_INVALID_DESCRIPTOR', 'descriptor', r, 'A descriptor needs mediaType, digest and size.');
  return doc as Descriptor;
}

/**
 * JSON-parses and validates an `oci-layout` file.
 * @throws ImageSpecError ERR_INVALID_JSON, ERR_TOO_LARGE, ERR_INVALID_LAYOUT
 */
export function parseLayoutFile(input: Uint8Array | string, options: Omit<ParseOptions, 'mediaType'> = {}): ImageLayoutFile {
  const doc = parseJson(input, 'oci-layout file', options);
  const r = validateLayoutFile(doc);
  if (!r.valid) fail('ERR_INVALID_LAYOUT', 'oci-layout file', r, 'The oci-layout file must be {"imageLayoutVersion":"1.0.0"}.');
  return doc as ImageLayoutFile;
}

/**
 * Parses a manifest or an index, deciding by `options.mediaType`, else the document's own
 * mediaType field, else the presence of `manifests`.
 * @throws ImageSpecError as parseManifest / parseIndex
 */
export function parseManifestOrIndex(
  input: Uint8Array | string,
  options: ParseOptions = {},
): { kind: 'manifest'; manifest: ImageManifest } | { kind: 'index'; index: ImageIndex } {
  const doc = parseJson(input, 'manifest', options);
  const own = isRecord(doc) && typeof doc['mediaType'] === 'string' ? doc['mediaType'] : undefined;
  const mt = options.mediaType ?? own;
  const isIndex = mt !== undefined ? isIndexMediaType(mt) : isRecord(doc) && 'manifests' in doc;
  return isIndex ? { kind: 'index', index: indexFrom(doc, options) } : { kind: 'manifest', manifest: manifestFrom(doc, options) };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
