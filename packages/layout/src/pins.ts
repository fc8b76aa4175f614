import type { Descriptor } from './spec.js';

// In-process protection of fresh blobs against gc(): a blob put by this process is about to be
// referenced (putBlob(layer) ... putJson(manifest) ... tag()). Until a tag makes it reachable, a
// gc() in the same process keeps it, for at most `pinTtlMs`. Other processes are protected by
// gc's `gracePeriodMs` (mtimes) and by their live temp files, not by this.

/** How long a put blob stays protected from gc in this process if no tag covers it. */
export const pinTtlMs = 10 * 60_000;

const pins = new Map<string, Map<string, number>>();
/** Per layout, refs tagged while pins existed: what they reach is unpinned when gc() next looks at the pins. */
const tagged = new Map<string, Map<string, Descriptor>>();

/** @internal */
export function pin(dir: string, digest: string): void {
  let m = pins.get(dir);
  if (m === undefined) pins.set(dir, (m = new Map()));
  const now = Date.now();
  m.set(digest, now + pinTtlMs);
  // A long-running process that puts without ever tagging or gc-ing must not grow without bound.
  if (m.size > 10_000) for (const [d, until] of m) if (until <= now) m.delete(d);
}

/** @internal */
export function unpin(dir: string, digests: Iterable<string>): void {
  const m = pins.get(dir);
  if (m === undefined) return;
  for (const d of digests) m.delete(d);
  if (m.size === 0) pins.delete(dir);
}

/** Digests pinned (and not expired) for the layout at `dir`. @internal */
export function pinned(dir: string): Set<string> {
  const m = pins.get(dir);
  const out = new Set<string>();
  if (m === undefined) return out;
  const now = Date.now();
  for (const [d, until] of m) {
    if (until > now) out.add(d);
    else m.delete(d);
  }
  if (m.size === 0) pins.delete(dir);
  return out;
}

/**
 * Notes that `entry` was tagged in the layout at `dir`: gc() unpins what it reaches before it reads the pins
 * (takeTagged). Done there, not at tag time: walking the new ref reads its manifest and config back, ~10 file
 * operations at the end of every copy, for a gc that a CLI process never runs. @internal
 */
export function unpinLater(dir: string, entry: Descriptor): void {
  let m = tagged.get(dir);
  if (m === undefined) tagged.set(dir, (m = new Map()));
  m.set(entry.digest, entry);
  // bounded like the pins: dropping the oldest leaves its blobs pinned until the pins expire (pinTtlMs)
  if (m.size > 10_000) m.delete(m.keys().next().value!);
}

/** The refs noted by unpinLater for `dir`, forgotten as they are handed out. @internal */
export function takeTagged(dir: string): Descriptor[] {
  const m = tagged.get(dir);
  tagged.delete(dir);
  return m === undefined ? [] : [...m.values()];
}

/** Forgets every pin (a restored process image has put nothing yet). @internal */
export function forgetPins(): void {
  pins.clear();
  tagged.clear();
}

/** @internal */
export function hasPins(dir: string): boolean {
  return pins.has(dir);
}
