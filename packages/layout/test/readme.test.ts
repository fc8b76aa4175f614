import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { cleanupTempDirs, distEntry, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

it.skipIf(!existsSync(distEntry))('the README example runs as written', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const file = join(await tempDir(), 'example.mjs');
  await writeFile(file, code!.replace("from '@oci/layout'", `from ${JSON.stringify(distEntry)}`));
  const { stdout } = await promisify(execFile)(process.execPath, [file]);
  expect(stdout).toContain('v1 -> sha256:');
  expect(stdout).toContain('resolved sha256:');
  expect(stdout).toContain('refused: ERR_DIGEST_MISMATCH');
  expect(stdout).toContain('verify ok: true');
  expect(stdout).toContain('gc removed 3 blobs');
});
