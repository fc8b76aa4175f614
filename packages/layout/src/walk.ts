import { isLayoutDigest } from './digest.js';
import type { Descriptor, ImageIndex, ImageManifest } from './spec.js';
import { isIndexMediaType, isManifestMediaType } from './spec.js';

/** The child descriptors a manifest or index document points at. Pure. @internal */
export function childrenOf(mediaType: string, doc: unknown): Descriptor[] {
  const out: Descriptor[] = [];
  if (typeof doc !== 'object' || doc === null) return out;
  if (isIndexMediaType(mediaType)) {
    const idx = doc as Partial<ImageIndex>;
    if (Array.isArray(idx.manifests)) out.push(...idx.manifests);
  } else if (isManifestMediaType(mediaType)) {
    const m = doc as Partial<ImageManifest>;
    if (m.config !== undefined) out.push(m.config);
    if (Array.isArray(m.layers)) out.push(...m.layers);
  }
  const subject = (doc as { subject?: Descriptor }).subject;
  if (subject !== undefined) out.push(subject);
  return out.filter((d) => typeof d === 'object' && d !== null);
}

/** Guess the media type of a document whose descriptor does not say (legacy refs, artifacts). Pure. @internal */
export function sniffMediaType(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const x = doc as { mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown };
  if (typeof x.mediaType === 'string' && (isIndexMediaType(x.mediaType) || isManifestMediaType(x.mediaType))) return x.mediaType;
  if (Array.isArray(x.manifests)) return 'application/vnd.oci.image.index.v1+json';
  if (typeof x.config === 'object' && Array.isArray(x.layers)) return 'application/vnd.oci.image.manifest.v1+json';
  return undefined;
}

/** @internal */
export function isDocumentMediaType(mediaType: string): boolean {
  return isIndexMediaType(mediaType) || isManifestMediaType(mediaType);
}

/** @internal */
export function descriptorKey(d: Descriptor): string | undefined {
  return isLayoutDigest(d.digest) ? d.digest : undefined;
}

function dropNullKeys(x: unknown): unknown {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return x;
  const out: Record<string, unknown> = {};
  // defineProperty, not `out[k] = v`: a "__proto__" key must stay data, never become the prototype.
  for (const [k, v] of Object.entries(x)) if (v !== null) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * Pre-1.0 writers (skopeo of 2017, the tutorials' layouts) wrote optional fields as `null`
 * (`"annotations": null`), which today's schemas refuse. Returns a copy of a manifest or index
 * without null-valued keys at the top level and in its descriptors, or `undefined` if there were
 * none. Pure. @internal
 */
export function withoutNullFields(doc: unknown): unknown {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const src = doc as Record<string, unknown>;
  let changed = false;
  const fix = (v: unknown): unknown => {
    const r = dropNullKeys(v);
    if (r !== v && Object.keys(r as object).length !== Object.keys(v as object).length) changed = true;
    return r;
  };
  const out = fix(src) as Record<string, unknown>;
  for (const key of ['config', 'subject']) if (out[key] !== undefined) out[key] = fix(out[key]);
  for (const key of ['layers', 'manifests']) if (Array.isArray(out[key])) out[key] = (out[key] as unknown[]).map(fix);
  return changed ? out : undefined;
}

/** JSON documents nested deeper than this are refused: nothing real comes close, and JSON.stringify overflows the stack on ~10 000. */
export const maxJsonDepth = 128;

/** True when `value` (parsed JSON) nests arrays/objects at most `max` deep. Iterative, stops early. Pure. @internal */
export function withinJsonDepth(value: unknown, max: number = maxJsonDepth): boolean {
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
