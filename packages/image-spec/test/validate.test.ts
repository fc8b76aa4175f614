import { describe, expect, it } from 'vitest';
import {
  validateConfig,
  validateDescriptor,
  validateIndex,
  validateLayoutFile,
  validateManifest,
  type ValidationResult,
} from '../src/index.js';
import { invalidCases, lenientCases, stricterCases, validCases, type Judge, type Kind } from './helpers/corpus.js';
import { availableOfficialSets, loadOfficial, type OfficialSet, type OfficialValidators } from './helpers/official.js';

const ours: Record<Kind, (doc: unknown) => ValidationResult> = {
  manifest: validateManifest,
  index: validateIndex,
  config: validateConfig,
  descriptor: validateDescriptor,
  layout: validateLayoutFile,
};

const officialSets = availableOfficialSets();
/** The newest official set present (v1.1.1 here; Debian's copy on a machine without it). */
const newest = officialSets[0] as OfficialSet;
const official = new Map<OfficialSet, OfficialValidators>(officialSets.map((s) => [s, loadOfficial(s)]));

function officialValid(set: OfficialSet, kind: Kind, doc: unknown): boolean {
  const v = official.get(set);
  if (!v) throw new Error(`no official schemas ${set}`);
  return v[kind](doc) === true;
}

describe('the official schemas are loaded', () => {
  it('finds at least one set of official schemas', () => {
    expect(officialSets.length).toBeGreaterThan(0);
  });
});

describe('valid corpus: valid in ours and in every official schema set', () => {
  for (const c of validCases) {
    it(`${c.kind}: ${c.name}`, () => {
      const r = ours[c.kind](c.doc);
      expect(r.errors).toEqual([]);
      expect(r.valid).toBe(true);
      for (const set of officialSets) expect({ set, valid: officialValid(set, c.kind, c.doc) }).toEqual({ set, valid: true });
    });
  }
});

describe('invalid corpus: rejected by ours and by the official schemas', () => {
  for (const c of invalidCases) {
    const judges: Judge[] = c.rejectedBy ?? ['ours', 'v1.1.1', 'debian'];
    it(`${c.kind}: ${c.name}`, () => {
      const r = ours[c.kind](c.doc);
      if (judges.includes('ours')) {
        expect(r.valid).toBe(false);
        expect(r.errors.length).toBeGreaterThan(0);
        for (const e of r.errors) {
          expect(typeof e.path).toBe('string');
          expect(e.message.length).toBeGreaterThan(0);
        }
      }
      for (const set of officialSets) {
        const expected = !judges.includes(set);
        expect({ set, valid: officialValid(set, c.kind, c.doc) }).toEqual({ set, valid: expected });
      }
    });
  }
});

describe('deliberately stricter than the official schemas', () => {
  for (const c of stricterCases) {
    it(`${c.kind}: ${c.name}`, () => {
      expect(ours[c.kind](c.doc).valid).toBe(false);
      expect(officialValid(newest, c.kind, c.doc)).toBe(true);
    });
  }
});

describe('deliberately more lenient than the official schemas', () => {
  for (const c of lenientCases) {
    it(`${c.kind}: ${c.name}`, () => {
      expect(ours[c.kind](c.doc).valid).toBe(true);
      expect(officialValid(newest, c.kind, c.doc)).toBe(false);
    });
  }
});

describe('error reports', () => {
  it('gives JSON-pointer paths and readable messages', () => {
    const r = validateManifest({
      schemaVersion: 2,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:abc', size: -1 },
      layers: [{ mediaType: 'nope', digest: 'sha256:' + 'a'.repeat(64), size: 1 }],
    });
    expect(r.valid).toBe(false);
    expect(r.errors).toEqual(
      expect.arrayContaining([
        { path: '/config/digest', message: expect.stringContaining('64 lowercase hex') },
        { path: '/config/size', message: 'must be >= 0' },
        { path: '/layers/0/mediaType', message: expect.stringContaining('media type') },
      ]),
    );
  });

  it('reports a missing required member at the root', () => {
    expect(validateIndex({ schemaVersion: 2 }).errors).toEqual([{ path: '', message: "must have required property 'manifests'" }]);
  });

  it('caps the number of problems reported for a hostile document', () => {
    const layers = Array.from({ length: 500 }, () => ({ mediaType: 1, digest: 2, size: 'x' }));
    const r = validateManifest({ schemaVersion: 2, config: {}, layers });
    expect(r.valid).toBe(false);
    expect(r.errors.length).toBeLessThanOrEqual(50);
  });
});

describe('hostile documents', () => {
  it('keeps paths short when keys are huge', () => {
    const key = 'k'.repeat(10_000);
    const r = validateManifest({ schemaVersion: 2, config: { mediaType: 'a/b', digest: 'sha256:' + 'a'.repeat(64), size: 1 }, layers: [{ mediaType: 'a/b', digest: 'sha256:' + 'a'.repeat(64), size: 1 }], annotations: { [key]: 1 } });
    expect(r.valid).toBe(false);
    expect(r.errors[0]?.path.length).toBeLessThanOrEqual(201);
  });
});
