#!/usr/bin/env bash
# The whole test suite: type check, lint, vitest (CPU), the Deno WebGPU suite (lavapipe), the
# browser smoke test and the package test (scripts/test-package.sh). Ends with one line
# "N passed, N failed" totalling every suite.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
passed=0
failed=0
status=0

step() { echo; echo "=== $*"; }

step "system packages used by the tests"
bash scripts/ensure-apt.sh libonnx-testdata dataset-fashion-mnist || status=1

step "type check (tsc --noEmit, strict)"
# The type check and the lint count as one test each in the closing total.
if npx tsc --noEmit -p .; then
  echo "type check: ok"; passed=$((passed + 1))
else
  echo "type check: FAILED"; failed=$((failed + 1)); status=1
fi

step "lint and format (biome)"
if npx biome check .; then
  echo "lint: ok"; passed=$((passed + 1))
else
  echo "lint: FAILED"; failed=$((failed + 1)); status=1
fi

step "vitest (CPU backend, models, attribution)"
npx vitest run --reporter=default --reporter=json --outputFile=.cache/vitest.json
[ $? -eq 0 ] || status=1
if [ -f .cache/vitest.json ]; then
  # Files that fail before running any test (e.g. an import error) count as one failure each.
  read -r p f < <(node -e 'const r=require("./.cache/vitest.json");const broken=r.testResults.filter(t=>t.status==="failed"&&t.assertionResults.length===0).length;console.log(r.numPassedTests, r.numFailedTests + broken)')
  passed=$((passed + p)); failed=$((failed + f))
else
  failed=$((failed + 1))
fi

# Suites that need a WebGPU adapter or a browser, and the package as users install it (packs the
# tarball into a fresh project: needs the npm registry); each prints "suite: N passed, N failed".
for suite in scripts/test-webgpu.sh scripts/test-browser.sh scripts/test-package.sh; do
  [ -x "$suite" ] || continue
  step "$suite"
  bash "$suite" 2>&1 | tee .cache/suite.log
  rc=${PIPESTATUS[0]}
  line=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' .cache/suite.log | tail -n 1)
  if [ -n "$line" ]; then
    passed=$((passed + $(echo "$line" | awk '{print $1}')))
    failed=$((failed + $(echo "$line" | awk '{print $3}')))
  fi
  if [ "$rc" -ne 0 ]; then
    status=1
    [ -z "$line" ] && failed=$((failed + 1))
  fi
done

echo
[ "$failed" -gt 0 ] && status=1
echo "${passed} passed, ${failed} failed"
exit $status
