// docs/errors.md lists every stable error code the published packages throw.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from './packages.js';

it('docs/errors.md names every ERR_ code found in packages/*/src', async () => {
  const { collectCodes } = await import(join(repoRoot, 'tools', 'gen-errors-doc.mjs'));
  const doc = readFileSync(join(repoRoot, 'docs', 'errors.md'), 'utf8');
  const missing = [...(collectCodes() as Map<string, Set<string>>).keys()].filter((c) => !doc.includes(`\`${c}\``));
  expect(missing, 'run node tools/gen-errors-doc.mjs').toEqual([]);
});
