import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runOk } from './process.js';

export interface TinyImage {
  /** The OCI image layout directory. */
  layout: string;
  ref: string;
  /** `oci:LAYOUT:REF`, for skopeo. */
  skopeoRef: string;
}

/**
 * A tiny OCI image layout made with umoci (one layer holding `files`), for
 * tests that need *an* image, fast. Real fixtures live in @oci/fixtures.
 */
export async function createTinyImage(dir: string, options: { ref?: string; files?: Record<string, string> } = {}): Promise<TinyImage> {
  const ref = options.ref ?? 'latest';
  const files = options.files ?? { 'etc/hello.txt': 'hello from @oci/testkit\n' };
  const layout = join(dir, 'layout');
  const src = join(dir, 'layer-src');
  for (const [p, content] of Object.entries(files)) {
    await mkdir(dirname(join(src, p)), { recursive: true });
    await writeFile(join(src, p), content);
  }
  await runOk('umoci', ['init', '--layout', layout]);
  await runOk('umoci', ['new', '--image', `${layout}:${ref}`]);
  await runOk('umoci', ['insert', '--image', `${layout}:${ref}`, src, '/']);
  return { layout, ref, skopeoRef: `oci:${layout}:${ref}` };
}
