#!/usr/bin/env bash
# Browser smoke test: esbuild bundles test/browser/page.ts, headless Chromium (Debian package,
# WebGPU on SwiftShader) runs it through playwright-core, and the gradient is checked against
# closed forms. Ends with "browser: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-apt.sh chromium || { echo "browser: could not install chromium"; exit 1; }
out=.cache/browser
rm -rf "$out" && mkdir -p "$out"
cp test/browser/index.html "$out/"
npx esbuild test/browser/page.ts --bundle --format=esm --target=es2022 --outfile="$out/page.js" --log-level=warning || {
  echo "browser: 0 passed, 1 failed"
  exit 1
}
npx esbuild test/browser/smoke-inputs.ts --format=esm --outfile="$out/smoke-inputs.mjs" --log-level=warning
node test/browser/smoke.test.mjs "$(pwd)/$out" | tee "$out/smoke.log"
rc=${PIPESTATUS[0]}
# The explorer end to end (scripts/test-app.sh); the closing line totals both.
bash scripts/test-app.sh | tee "$out/app.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
read -r p f < <(cat "$out/smoke.log" "$out/app.log" | grep -Eo '[0-9]+ passed, [0-9]+ failed' |
  awk '{p += $1; f += $3} END {print p + 0, f + 0}')
echo "browser: $p passed, $f failed"
exit $rc
