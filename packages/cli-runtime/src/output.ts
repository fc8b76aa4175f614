import { writeSync } from 'node:fs';

/**
 * Output on stdout without process.stdout: its first use builds a stream (it loads node:stream, net or tty:
 * ~4 ms of a 30 ms start, measured with --cpu-prof), which `state`, `list` and `ps` do not need for a few
 * lines. A synchronous write to fd 1; if fd 1 is non-blocking and full (EAGAIN), the rest goes through
 * process.stdout, which main() then drains before exiting. A closed pipe (EPIPE) ends the output quietly.
 */
let streamUsed = false;

export function out(text: string): void {
  let buf = Buffer.from(text, 'utf8');
  while (buf.length > 0) {
    let n: number;
    try {
      n = writeSync(1, buf);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw err;
      streamUsed = true;
      process.stdout.write(buf);
      return;
    }
    buf = buf.subarray(n);
  }
}

/** Whether process.stdout may hold buffered output (it was used here, or by yargs' help). */
export function stdoutStreamUsed(): boolean {
  return streamUsed;
}

export function markStdoutStreamUsed(): void {
  streamUsed = true;
}
