#!/usr/bin/env bash
# Installs what the tests need, builds, and runs the whole suite (vitest, every package and tool).
# Ends with one line "N passed, N failed, N skipped" computed from vitest's JSON report.
# Usage: bash tools/test.sh [vitest filters...]
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

mkdir -p test-results
report=test-results/vitest.json
rm -f "$report"
# Build the fixture images first (cached by recipe hash), so no test waits on a build.
node tools/fixtures/dist/cli.js build >&2 || { echo "0 passed, 1 failed"; exit 1; }
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
code=$?
if [[ ! -s "$report" ]]; then
  echo "vitest wrote no report (exit $code)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
node tools/summarize-report.mjs "$report"
sum=$?
if [[ $code -ne 0 || $sum -ne 0 ]]; then exit 1; fi
