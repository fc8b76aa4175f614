import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildFixture } from '@oci/fixtures';
import { run } from '@oci/testkit';

const BIN = fileURLToPath(new URL('../bin/oci-registry.js', import.meta.url));

describe('manifest-digest', () => {
  it('prints what skopeo manifest-digest prints (OCI manifest, Docker v2s2 manifest, OCI index)', async () => {
    const [hello, busybox] = await Promise.all([buildFixture('hello'), buildFixture('busybox')]);
    const files = [
      join(hello.layout, 'blobs', 'sha256', hello.manifestDigest.slice(7)),
      join(busybox.dockerDir, 'manifest.json'),
      join(hello.indexLayout, 'index.json'),
    ];
    for (const f of files) {
      const [a, b] = await Promise.all([run('skopeo', ['manifest-digest', f]), run(process.execPath, [BIN, 'manifest-digest', f])]);
      expect(a.code, a.stderr).toBe(0);
      expect({ code: b.code, out: b.stdout }).toEqual({ code: 0, out: a.stdout });
    }
    const missing = await run(process.execPath, [BIN, 'manifest-digest', '/nonexistent/manifest.json']);
    expect(missing.code).toBe(2);
  }, 120_000);
});
