// src/generated/validators.cjs is ajv standalone code of exactly schema/*.json (drift check), and it judges
// documents as ajv compiling the schemas at run time would.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { generateValidators, SCHEMAS } from '../scripts/validators.mjs';

const require = createRequire(import.meta.url);

describe('generated validators', () => {
  it('src/generated/validators.cjs is what scripts/validators.mjs generates from schema/*.json (run it after editing a schema)', async () => {
    await expect((generateValidators as () => string)()).toMatchFileSnapshot('../src/generated/validators.cjs');
  });

  it('need no package at run time (no require of ajv or ajv-formats)', () => {
    const code = readFileSync(new URL('../src/generated/validators.cjs', import.meta.url), 'utf8');
    expect(code).not.toMatch(/\brequire\(/);
  });

  it('agree with ajv compiling the schemas at run time, first error and all errors', () => {
    const Ajv = require('ajv-draft-04') as { default?: unknown };
    const addFormats = require('ajv-formats') as { default?: unknown };
    const gen = require('../src/generated/validators.cjs') as Record<'first' | 'all', Record<string, ((d: unknown) => boolean) & { errors?: unknown }>>;
    const entries: Record<string, string> = { descriptor: 'descriptor.json', manifest: 'image-manifest.json', index: 'image-index.json', config: 'image-config.json', layout: 'oci-layout.json' };
    const docs: unknown[] = [
      {},
      { imageLayoutVersion: '1.0.0' },
      { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'x/y', digest: 'sha256:' + 'a'.repeat(64), size: 2 }, layers: [] },
      { schemaVersion: 2, manifests: [{ mediaType: 'bad', digest: 'nope', size: -1, urls: ['not a uri'] }] },
      { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, created: 'yesterday', history: [{ created: '2020-01-01T00:00:00Z' }] },
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: 'sha256:' + 'b'.repeat(64), size: 1, annotations: { k: 'x'.repeat(2000) } },
    ];
    for (const allErrors of [false, true]) {
      const Ctor = (Ajv.default ?? Ajv) as new (o: object) => { addSchema(s: object, k: string): void; getSchema(k: string): ((d: unknown) => boolean) & { errors?: unknown } };
      const ajv = new Ctor({ strict: false, allErrors, validateSchema: false });
      ((addFormats.default ?? addFormats) as (a: unknown, f: string[]) => void)(ajv, ['uri', 'date-time']);
      for (const f of SCHEMAS as string[]) ajv.addSchema(JSON.parse(readFileSync(new URL(`../schema/${f}`, import.meta.url), 'utf8')) as object, f);
      for (const [name, file] of Object.entries(entries)) {
        const want = ajv.getSchema(file)!;
        const got = gen[allErrors ? 'all' : 'first'][name]!;
        for (const d of docs) {
          expect(got(d), `${name} ${JSON.stringify(d).slice(0, 60)}`).toBe(want(d));
          expect(got.errors ?? null).toEqual(want.errors ?? null);
        }
      }
    }
  });
});
