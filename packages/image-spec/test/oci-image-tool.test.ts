// oci-image-tool (Debian's 1.0.0-rc1, Go) as a third oracle: it must agree with our verdicts on the
// hand-made corpus, the way Debian's schema copy (which it embeds) does.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { invalidCases, validCases, type Case, type InvalidCase } from './helpers/corpus.js';

const available = spawnSync('oci-image-tool', ['--version'], { stdio: 'ignore' }).status === 0;
const TYPE: Partial<Record<Case['kind'], string>> = { manifest: 'manifest', index: 'imageIndex', config: 'config' };

/** Validates all documents of one kind in one run; returns the set of file indexes it accepted. */
function judge(dir: string, type: string, docs: unknown[]): Set<number> {
  const files = docs.map((d, i) => {
    const f = join(dir, `${type}-${i}.json`);
    writeFileSync(f, JSON.stringify(d));
    return f;
  });
  let stdout: string;
  try {
    stdout = execFileSync('oci-image-tool', ['validate', '--type', type, ...files], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (e) {
    stdout = String((e as { stdout?: Buffer }).stdout ?? '');
  }
  const ok = new Set<number>();
  for (const line of stdout.split('\n')) {
    const m = /-(\d+)\.json: OK$/.exec(line);
    if (m) ok.add(Number(m[1]));
  }
  return ok;
}

describe.skipIf(!available)('oci-image-tool agrees with the corpus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'image-spec-oit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [kind, type] of Object.entries(TYPE) as [Case['kind'], string][]) {
    it(`${kind}: valid corpus accepted, invalid corpus refused`, () => {
      const valid = validCases.filter((c) => c.kind === kind);
      const invalid = invalidCases.filter((c: InvalidCase) => c.kind === kind);
      const accepted = judge(dir, type, [...valid, ...invalid].map((c) => c.doc));
      const verdicts = [...valid, ...invalid].map((c, i) => ({ case: c.name, accepted: accepted.has(i) }));
      const expected = [
        ...valid.map((c) => ({ case: c.name, accepted: true })),
        ...invalid.map((c) => ({ case: c.name, accepted: !(c.rejectedBy ?? ['debian']).includes('debian') })),
      ];
      expect(verdicts).toEqual(expected);
    });
  }
});
