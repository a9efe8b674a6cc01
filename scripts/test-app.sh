#!/usr/bin/env bash
# The explorer's end-to-end test: builds the page (scripts/build-app.mjs), bundles the CLI and the
# Node-side reference (test/browser/app-reference.ts), starts `salient app` and drives headless
# Chromium through it (test/browser/app.test.mjs). Ends with "app: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
out=.cache/app-e2e
rm -rf "$out" && mkdir -p "$out"
fail() { echo "app: 0 passed, 1 failed ($1)"; exit 1; }
node scripts/build-app.mjs "$out/app" >/dev/null || fail "the page did not build"
npx esbuild src/cli/main.ts --bundle --platform=node --format=esm --packages=external \
  --outfile="$out/cli.mjs" --log-level=warning || fail "the CLI did not bundle"
npx esbuild test/browser/app-reference.ts --bundle --platform=node --format=esm \
  --packages=external --outfile="$out/app-reference.mjs" --log-level=warning ||
  fail "the reference did not bundle"
SALIENT_APP_DIR="$out/app" node test/browser/app.test.mjs "$out/cli.mjs" "$out/app-reference.mjs"
