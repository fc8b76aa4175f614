// Importing the package must not load ajv (about 100 ms): only validation needs it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe.skipIf(!existsSync(dist))('start-up cost (built package)', () => {
  const probe = (body: string): string =>
    execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `import * as m from ${JSON.stringify(dist)}; import { createRequire } from 'node:module'; const r = createRequire(import.meta.url); ${body}; console.log(Object.keys(r.cache).some((k) => k.includes('/ajv')))`],
      { encoding: 'utf8' },
    ).trim();

  it('does not load ajv on import, digests or platforms', () => {
    expect(probe("m.digestOf('x'); m.parsePlatform('linux/amd64')")).toBe('false');
  });
  it('loads it on the first validation', () => {
    expect(probe("m.validateLayoutFile({ imageLayoutVersion: '1.0.0' })")).toBe('true');
  });
});
