#!/usr/bin/env bash
# The whole suite: the gates (type check, lint, WebGPU adapter present) and the tests (vitest on
# the CPU backend, the Deno WebGPU suite on lavapipe, headless Chromium: the browser smoke test and
# the explorer, and the packed package with its examples). Gates are reported on their own line;
# the closing line "N passed, N failed" totals the tests of every suite (the ONNX conformance
# suite counts its cases). Any failed gate or test makes the exit status 1.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
passed=0
failed=0
status=0
gates=()
gate() { # gate NAME ok|FAILED
  gates+=("$1 $2")
  [ "$2" = ok ] || status=1
}

step() { echo; echo "=== $*"; }

step "system packages used by the tests"
bash scripts/ensure-apt.sh libonnx-testdata dataset-fashion-mnist || status=1

step "gate: type check (tsc --noEmit, strict)"
if npx tsc --noEmit -p .; then gate "type-check" ok; else gate "type-check" FAILED; fi

step "gate: lint and format (biome)"
if npx biome check .; then gate "lint" ok; else gate "lint" FAILED; fi

step "vitest (CPU backend, models, attribution, importers, CLI)"
npx vitest run --reporter=default --reporter=json --outputFile=.cache/vitest.json
[ $? -eq 0 ] || status=1
if [ -f .cache/vitest.json ]; then
  # A file that fails outside its tests (an import error, a hook that throws or times out, its
  # tests then skipped) counts as one failure.
  read -r p f < <(node -e 'const r=require("./.cache/vitest.json");const broken=r.testResults.filter(t=>t.status==="failed"&&!t.assertionResults.some(a=>a.status==="failed")).length;console.log(r.numPassedTests, r.numFailedTests + broken)')
  echo "vitest: $p passed, $f failed"
  passed=$((passed + p)); failed=$((failed + f))
else
  failed=$((failed + 1))
fi

# Suites that need a WebGPU adapter, a browser or the packed package; each prints
# "suite: N passed, N failed", and may print "gate NAME: ok|FAILED" lines.
for suite in scripts/test-webgpu.sh scripts/test-browser.sh scripts/test-package.sh; do
  [ -x "$suite" ] || [ -f "$suite" ] || continue
  step "$suite"
  bash "$suite" 2>&1 | tee .cache/suite.log
  rc=${PIPESTATUS[0]}
  line=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' .cache/suite.log | tail -n 1)
  if [ -n "$line" ]; then
    passed=$((passed + $(echo "$line" | awk '{print $1}')))
    failed=$((failed + $(echo "$line" | awk '{print $3}')))
  fi
  while read -r name result; do gate "$name" "$result"; done < <(
    grep -Eo '^gate [a-z-]+: (ok|FAILED)' .cache/suite.log | sed 's/^gate //; s/://'
  )
  if [ "$rc" -ne 0 ]; then
    status=1
    [ -z "$line" ] && failed=$((failed + 1))
  fi
done

echo
echo "gates: ${gates[*]}"
[ "$failed" -gt 0 ] && status=1
echo "${passed} passed, ${failed} failed"
exit $status
