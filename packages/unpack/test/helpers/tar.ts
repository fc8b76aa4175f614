// Test helpers: synthesise layer tars with tar-stream (no binary fixtures committed).
import * as tarStream from 'tar-stream';

export interface TarSpec {
  name: string;
  type?: tarStream.Headers['type'];
  linkname?: string;
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export async function makeTar(entries: TarSpec[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const content = e.content === undefined ? undefined : Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content);
    const header: tarStream.Headers = {
      name: e.name,
      type: e.type ?? 'file',
      mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(1_600_000_000_000),
      size: content?.length ?? 0,
    };
    if (e.linkname !== undefined) header.linkname = e.linkname;
    if (e.devmajor !== undefined) header.devmajor = e.devmajor;
    if (e.devminor !== undefined) header.devminor = e.devminor;
    if (e.pax !== undefined) (header as { pax?: Record<string, string> }).pax = e.pax;
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, content ?? null, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}
