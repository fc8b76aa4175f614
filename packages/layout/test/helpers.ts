import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Layout } from '../src/index.js';
import type { Descriptor } from '../src/spec.js';

export const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const distEntry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const dirs: string[] = [];

export async function tempDir(prefix = 'oci-layout-test-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export async function cleanupTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface TinyImage {
  manifest: Descriptor;
  config: Descriptor;
  layer: Descriptor;
  diffId: string;
}

/**
 * A small one-layer image built with GNU tar + gzip (not our code), stored through putBlob/putJson.
 */
export async function buildTinyImage(layout: Layout, work: string, opts: { text?: string; arch?: string; variant?: string } = {}): Promise<TinyImage> {
  const root = join(work, `root-${Math.random().toString(16).slice(2)}`);
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc', 'hello.txt'), opts.text ?? 'hello from @oci/layout\n');
  await mkdir(join(root, 'bin'));
  await writeFile(join(root, 'bin', 'tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
  const tarPath = `${root}.tar`;
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', root, '-cf', tarPath, '.']);
  execFileSync('gzip', ['-n', '-k', tarPath]);
  const diffId = sha256(await readFile(tarPath));
  const put = await layout.putBlob(createReadStream(`${tarPath}.gz`, { highWaterMark: 1 << 20 }));
  const layer: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: put.digest, size: put.size };
  const arch = opts.arch ?? 'amd64';
  const configDoc = {
    created: '2024-01-01T00:00:00Z',
    architecture: arch,
    ...(opts.variant ? { variant: opts.variant } : {}),
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/tool'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '2024-01-01T00:00:00Z', created_by: 'tar' }],
  };
  const config = await layout.putJson(configDoc, 'application/vnd.oci.image.config.v1+json');
  const manifest = await layout.putJson(
    { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] },
    'application/vnd.oci.image.manifest.v1+json',
  );
  return { manifest, config, layer, diffId };
}

export function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

export async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}
