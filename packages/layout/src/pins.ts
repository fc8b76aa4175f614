// In-process protection of fresh blobs against gc(): a blob put by this process is about to be
// referenced (putBlob(layer) ... putJson(manifest) ... tag()). Until a tag makes it reachable, a
// gc() in the same process keeps it, for at most `pinTtlMs`. Other processes are protected by
// gc's `gracePeriodMs` (mtimes) and by their live temp files, not by this.

/** How long a put blob stays protected from gc in this process if no tag covers it. */
export const pinTtlMs = 10 * 60_000;

const pins = new Map<string, Map<string, number>>();

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

/** Forgets every pin (a restored process image has put nothing yet). @internal */
export function forgetPins(): void {
  pins.clear();
}

/** @internal */
export function hasPins(dir: string): boolean {
  return pins.has(dir);
}
