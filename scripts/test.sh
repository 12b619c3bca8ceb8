#!/usr/bin/env bash
# Every test: type check, lint, unit and integration tests (vitest), end-to-end tests (Playwright) when present.
# Ends with one line "tests: N passed, N failed, N skipped" that counts every test run.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp
status=0

echo "== typecheck"; npx tsc -p tsconfig.json --noEmit || status=1
echo "== lint"; npx biome check . || status=1

echo "== vitest"
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@" || status=1

e2e_json=""
if [ -f playwright.config.ts ] && [ $# -eq 0 ]; then
  echo "== e2e (Playwright, Debian's chromium)"
  PLAYWRIGHT_JSON_OUTPUT_NAME=.tmp/e2e.json npx playwright test --reporter=list,json || status=1
  e2e_json=.tmp/e2e.json
fi

node scripts/test-summary.mjs .tmp/vitest.json $e2e_json || status=1
exit $status
