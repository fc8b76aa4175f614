import type { CopyEvent } from '@oci/registry-client';

const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;

/**
 * A one-line pull progress for a TTY on stderr (bytes done / total and blobs done), or nothing when
 * stderr is not a terminal or `quiet` is set. Returns the callback and a function that ends the line.
 */
export function pullProgress(stream: NodeJS.WriteStream, quiet: boolean): { onProgress?: (e: CopyEvent) => void; end(): void } {
  if (quiet || !stream.isTTY) return { end() {} };
  let total = 0;
  let blobs = 0;
  let doneBlobs = 0;
  const bytes = new Map<string, number>();
  let last = 0;
  let shown = false;
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    let done = 0;
    for (const b of bytes.values()) done += b;
    stream.write(`\r\x1b[2Kpulling: ${mib(done)} / ${mib(total)}, ${doneBlobs}/${blobs} blobs`);
    shown = true;
  };
  return {
    onProgress(e) {
      if (e.type === 'plan') { total = e.bytes; blobs = e.blobs; }
      else if (e.type === 'blob-progress') bytes.set(e.digest, e.bytes);
      else if (e.type === 'blob-done') { bytes.set(e.digest, e.size); doneBlobs += 1; }
      draw(e.type !== 'blob-progress');
    },
    end() { if (shown) stream.write('\r\x1b[2K'); },
  };
}
