import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSchema, SCHEMA_FILES } from '../src/index.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${pkgDir}/package.json`, 'utf8')) as { exports: Record<string, unknown>; files: string[] };

describe('schema files', () => {
  it('are exported as a deliberate subpath and shipped', () => {
    expect(pkg.exports['./schema/*.json']).toBe('./schema/*.json');
    expect(pkg.files).toContain('schema');
  });
  for (const f of SCHEMA_FILES) {
    it(`${f} is draft-04 JSON, refers to siblings by file name only`, () => {
      expect(existsSync(`${pkgDir}/schema/${f}`)).toBe(true);
      const s = loadSchema(f);
      expect(s['$schema']).toBe('http://json-schema.org/draft-04/schema#');
      expect(s['id']).toBeUndefined();
      const refs = JSON.stringify(s).match(/"\$ref":"[^"]*"/g) ?? [];
      for (const r of refs) {
        const target = JSON.parse(r.slice(7)) as string;
        const file = target.split('#')[0];
        if (file) expect(SCHEMA_FILES).toContain(file);
      }
    });
  }
});
