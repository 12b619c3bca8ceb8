#!/usr/bin/env bash
# Every test: type check, lint, unit and integration tests (vitest), end-to-end tests (Playwright) when present.
# Ends with one line "tests: N passed, N failed, N skipped" that counts every test run.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp
rm -f .tmp/vitest.json .tmp/vitest-rt.json .tmp/e2e.json
status=0

echo "== typecheck"; npx tsc -p tsconfig.json --noEmit || status=1
echo "== lint"; npx biome check . || status=1

reports=()
if [ $# -gt 0 ]; then
  echo "== vitest $*"
  npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@" || status=1
  reports+=(.tmp/vitest.json)
else
  # Tests that play audio in real time (drivers, JACK, PulseAudio, the host's live playback) run one file at a
  # time after the rest, so their deadlines are not measured against a machine busy with other test files.
  realtime=(test/audio test/host)
  excludes=()
  for d in "${realtime[@]}"; do excludes+=(--exclude "$d/**"); done
  echo "== vitest (in parallel)"
  # A hang inside native code (where vitest's own test timeout cannot fire) fails the phase instead of CI's clock.
  timeout -k 30 1800 npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json \
    "${excludes[@]}" || status=1
  echo "== vitest (real-time audio, one file at a time)"
  timeout -k 30 1800 npx vitest run --no-file-parallelism --reporter=default --reporter=json --outputFile.json=.tmp/vitest-rt.json \
    "${realtime[@]}" || status=1
  reports+=(.tmp/vitest.json .tmp/vitest-rt.json)
fi

e2e_json=""
if [ -f playwright.config.ts ] && [ $# -eq 0 ]; then
  echo "== e2e (Playwright, Debian's chromium)"
  PLAYWRIGHT_JSON_OUTPUT_NAME=.tmp/e2e.json npx playwright test --reporter=list,json || status=1
  e2e_json=.tmp/e2e.json
fi

node scripts/test-summary.mjs "${reports[@]}" $e2e_json || status=1
exit $status
