import type { CopyEvent } from '@oci/registry-client';

export interface Reporter {
  onProgress: (e: CopyEvent) => void;
  finish: () => void;
}

interface Line {
  digest: string;
  size: number;
  bytes: number;
  started: number;
  state: 'copying' | 'done' | 'skipped' | 'mounted';
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)}${units[i]}`;
}

/** Chooses how progress is shown: JSON lines on stdout (--json), bars on a TTY stderr, or nothing. */
export function createReporter(opts: { quiet: boolean; json: boolean; out?: NodeJS.WritableStream; err?: NodeJS.WriteStream }): Reporter {
  // process.stdout/stderr are made on first use (a stream, ~3 ms): touch them only when something is written
  if (opts.json) {
    const out = opts.out ?? process.stdout;
    const last = new Map<string, number>();
    return {
      onProgress(e) {
        if (e.type === 'blob-progress') {
          const now = Date.now();
          if (e.bytes !== e.size && now - (last.get(e.digest) ?? 0) < 250) return;
          last.set(e.digest, now);
        }
        out.write(`${JSON.stringify(e)}\n`);
      },
      finish() {},
    };
  }
  // node:tty (~2 ms) only when it matters: not for -q, --json or a caller's stream
  const isatty = (fd: number) => (process.getBuiltinModule('node:tty') as typeof import('node:tty')).isatty(fd);
  if (opts.quiet || !(opts.err ? opts.err.isTTY : isatty(2))) return { onProgress() {}, finish() {} };
  const err = opts.err ?? process.stderr;
  const lines = new Map<string, Line>();
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  const width = (): number => Math.max(10, Math.min(30, (err.columns ?? 80) - 60));
  const render = (): void => {
    let s = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const l of lines.values()) {
      const frac = l.size > 0 ? Math.min(1, l.bytes / l.size) : 1;
      const w = width();
      const bar = `${'='.repeat(Math.round(frac * w))}${' '.repeat(w - Math.round(frac * w))}`;
      const secs = Math.max(0.001, (Date.now() - l.started) / 1000);
      const tail = l.state === 'copying'
        ? `${formatBytes(l.bytes)} / ${formatBytes(l.size)} ${formatBytes(l.bytes / secs)}/s`
        : l.state === 'done' ? `${formatBytes(l.size)} done` : l.state === 'skipped' ? 'already present' : 'mounted';
      s += `\x1b[2KCopying blob ${l.digest.slice(7, 19)} [${bar}] ${tail}\n`;
    }
    drawn = lines.size;
    err.write(s);
  };
  const schedule = (): void => {
    timer ??= setTimeout(() => {
      timer = undefined;
      render();
    }, 100);
  };
  return {
    onProgress(e) {
      switch (e.type) {
        case 'blob-start':
          lines.set(e.digest, { digest: e.digest, size: e.size, bytes: 0, started: Date.now(), state: 'copying' });
          break;
        case 'blob-progress': {
          const l = lines.get(e.digest);
          if (l) l.bytes = e.bytes;
          break;
        }
        case 'blob-done': {
          const l = lines.get(e.digest) ?? { digest: e.digest, size: e.size, bytes: e.size, started: Date.now(), state: 'done' as const };
          l.bytes = e.size;
          l.state = e.outcome === 'skipped' || e.outcome === 'exists' ? 'skipped' : e.outcome === 'mounted' ? 'mounted' : 'done';
          lines.set(e.digest, l);
          break;
        }
        case 'manifest':
          if (e.top) {
            if (timer) clearTimeout(timer);
            timer = undefined;
            render();
            err.write('Writing manifest to image destination\n');
          }
          return;
        default:
          return;
      }
      schedule();
    },
    finish() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
