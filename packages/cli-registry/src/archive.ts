import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import { CliError } from './errors.js';

/** Extracts an oci-archive (a tar of an OCI layout) into a temp dir. Only plain files and dirs; no path escapes. */
export async function extractArchive(file: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-archive-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const ex = extract();
    const done = pipeline(createReadStream(file), ex);
    for await (const entry of ex) {
      const name = normalize(entry.header.name).replace(/^(\.\/)+/, '');
      if (name.startsWith('..') || name.startsWith(sep) || name.includes(`${sep}..${sep}`)) {
        entry.resume();
        throw new CliError('ERR_UNSAFE_PATH', `oci-archive ${file} has an unsafe path "${entry.header.name}"`);
      }
      const target = join(dir, name);
      if (entry.header.type === 'directory') {
        await mkdir(target, { recursive: true });
        entry.resume();
      } else if (entry.header.type === 'file') {
        await mkdir(dirname(target), { recursive: true });
        await pipeline(entry, createWriteStream(target, { mode: 0o644 }));
      } else {
        entry.resume();
      }
    }
    await done;
    return { dir, remove };
  } catch (err) {
    await remove();
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError('ERR_USAGE', `oci-archive ${file} does not exist`, { cause: err });
    }
    throw err;
  }
}

async function walk(root: string, rel = ''): Promise<{ rel: string; dir: boolean }[]> {
  const out: { rel: string; dir: boolean }[] = [];
  for (const e of (await readdir(join(root, rel), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name === '.oci-ts') continue; // layout-internal lock/ingest dir
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      out.push({ rel: r, dir: true });
      out.push(...(await walk(root, r)));
    } else if (e.isFile()) {
      out.push({ rel: r, dir: false });
    }
  }
  return out;
}

/** A temp layout that becomes `file` (a tar) on commit. */
export async function archiveWorkspace(file: string): Promise<{ dir: string; commit: () => Promise<void>; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-archive-'));
  return {
    dir,
    remove: () => rm(dir, { recursive: true, force: true }),
    async commit() {
      const p = pack();
      const tmp = `${file}.tmp-${process.pid}`;
      const writing = pipeline(p, createWriteStream(tmp));
      try {
        for (const e of await walk(dir)) {
          if (e.dir) {
            p.entry({ name: `${e.rel}/`, type: 'directory', mode: 0o755, mtime: new Date(0) });
            continue;
          }
          const st = await stat(join(dir, e.rel));
          const entry = p.entry({ name: e.rel, size: st.size, mode: 0o644, mtime: new Date(0) });
          await pipeline(createReadStream(join(dir, e.rel)), entry);
        }
        p.finalize();
        await writing;
        await rename(tmp, file);
      } catch (err) {
        p.destroy();
        await rm(tmp, { force: true });
        throw err;
      }
    },
  };
}
