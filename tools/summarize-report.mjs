// Reads vitest's JSON report and prints "N passed, N failed, N skipped".
// Exits 1 when a test failed, a suite failed to load, or nothing ran.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of report.testResults ?? []) {
  const tests = file.assertionResults ?? [];
  // A file that failed to load (syntax error, failing beforeAll) has no assertions: count it as one failure.
  if (file.status === 'failed' && !tests.some((t) => t.status === 'failed')) failed += 1;
  for (const t of tests) {
    if (t.status === 'passed') passed += 1;
    else if (t.status === 'failed') failed += 1;
    else skipped += 1;
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
