// Decompression by layer media type. gzip: node:zlib (runs on the libuv thread
// pool, so it overlaps with tar parsing and file writes on the main thread).
// zstd: Node 20 has none, so we spawn Debian's `zstd -dc` (native speed, streaming,
// bounded memory, no npm dependency with prebuilt binaries).
import { spawn } from 'node:child_process';
import { Duplex, PassThrough } from 'node:stream';
import * as zlib from 'node:zlib';
import { UnpackError } from './errors.js';

export type Compression = 'none' | 'gzip' | 'zstd';

export function createDecompressor(compression: Compression): Duplex {
  switch (compression) {
    case 'none':
      return new PassThrough({ highWaterMark: 1 << 20 });
    case 'gzip':
      return zlib.createGunzip({ chunkSize: 256 << 10 });
    case 'zstd':
      return zstdDecompressor();
  }
}

function zstdDecompressor(): Duplex {
  const child = spawn('zstd', ['-dc', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  child.stdout.pipe(out, { end: false });
  const duplex = Duplex.from({ writable: child.stdin, readable: out });
  child.on('error', (err) => {
    const e = new UnpackError(
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'ERR_UNSUPPORTED_MEDIA_TYPE' : 'ERR_BAD_LAYER',
      `zstd layer: cannot run zstd: ${err.message}`,
      { cause: err, hint: 'install the zstd command (Debian: apt-get install zstd) to unpack zstd layers' },
    );
    out.destroy(e);
  });
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else if (!out.destroyed) {
      out.destroy(
        new UnpackError('ERR_BAD_LAYER', `zstd layer could not be decompressed: ${stderr.trim() || `zstd exited with ${code ?? signal}`}`, {
          hint: 'the layer blob is truncated or corrupt; fetch the image again',
        }),
      );
    }
  });
  child.stdin.on('error', () => {}); // EPIPE when zstd fails early; reported by 'close'
  duplex.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return duplex;
}
