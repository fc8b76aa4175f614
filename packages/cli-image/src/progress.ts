// Progress on stderr when it is a TTY (never in --json mode or when piped).
import type { UnpackProgress } from '@oci/unpack';

function mb(n: number): string {
  return (n / 1e6).toFixed(1);
}

export function progressRenderer(enabled: boolean): { onProgress?: (p: UnpackProgress) => void; done(): void } {
  if (!enabled || !process.stderr.isTTY) return { done() {} };
  let last = 0;
  let shown = false;
  return {
    onProgress(p) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      shown = true;
      const pct = p.size > 0 ? Math.min(100, Math.floor((p.bytes / p.size) * 100)) : 100;
      process.stderr.write(`\r\x1b[Klayer ${p.layer + 1}/${p.layers} ${p.digest.slice(7, 19)} ${mb(p.bytes)}/${mb(p.size)} MB ${pct}% ${p.entries} entries`);
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}
