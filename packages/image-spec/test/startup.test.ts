// Importing the package must not load the validators, and nothing ever loads ajv (compiling the schemas at
// run time cost ~130 ms): validation uses the code generated ahead of time by scripts/validators.mjs.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe.skipIf(!existsSync(dist))('start-up cost (built package)', () => {
  const probe = (body: string): string =>
    execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `import * as m from ${JSON.stringify(dist)}; import { createRequire } from 'node:module'; const r = createRequire(import.meta.url); ${body}; const k = Object.keys(r.cache); console.log(k.some((x) => x.includes('/ajv')), k.some((x) => x.includes('validators.cjs')))`],
      { encoding: 'utf8' },
    ).trim();

  it('does not load ajv on import, digests or platforms', () => {
    expect(probe("m.digestOf('x'); m.parsePlatform('linux/amd64')")).toBe('false false');
  });
  it('loads the generated validators, never ajv, on the first validation', () => {
    expect(probe("m.validateLayoutFile({ imageLayoutVersion: '1.0.0' })")).toBe('false true');
  });
});
