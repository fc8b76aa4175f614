import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushFixture } from '@oci/fixtures';
import { run, startRegistry, tmpDir, type RegistryHandle, type TmpDir } from '@oci/testkit';

const pkg = fileURLToPath(new URL('..', import.meta.url));

describe('README example', () => {
  let reg: RegistryHandle;
  let tmp: TmpDir;
  beforeAll(async () => {
    [reg, tmp] = await Promise.all([startRegistry({ mode: 'plain' }), tmpDir('rc-readme-')]);
    await pushFixture('busybox', reg, 'library/busybox', { format: 'oci' });
  });
  afterAll(async () => {
    await reg?.stop();
    await tmp?.cleanup();
  });

  it('runs as written (against the test registry instead of localhost:5000)', async () => {
    const readme = await readFile(join(pkg, 'README.md'), 'utf8');
    const code = /```js\n([\s\S]*?)```/.exec(readme)![1]!.replaceAll('localhost:5000', reg.host).replace("'./busybox'", JSON.stringify(join(tmp.path, 'busybox')));
    // run from inside the package so @oci/registry-client and @oci/layout resolve
    const file = join(pkg, `.readme-example-${process.pid}.mjs`);
    await writeFile(file, code);
    try {
      const r = await run(process.execPath, [file]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/copied sha256:/);
      expect(r.stdout).toMatch(/\[ 'latest' \]/);
    } finally {
      await run('rm', ['-f', file]);
    }
  });
});
