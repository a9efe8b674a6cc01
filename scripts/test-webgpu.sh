#!/usr/bin/env bash
# The WebGPU suite: Deno + navigator.gpu on Mesa lavapipe (software Vulkan). Runs every file in
# test/webgpu/. Fails (exit 1) when no adapter appears, and never skips: the adapter check is a
# gate, and without an adapter every test that needs one runs and fails (counted as failed).
# Ends with "webgpu: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-apt.sh mesa-vulkan-drivers || { echo "webgpu: could not install mesa-vulkan-drivers"; exit 1; }
# The Vulkan loader wants a runtime dir; without one it prints errors on every start.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  XDG_RUNTIME_DIR=$(mktemp -d)
  export XDG_RUNTIME_DIR
  trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT
fi
export NO_COLOR=1
# Vulkan only: without it wgpu falls back to OpenGL on llvmpipe, which is slow and not what CI tests.
export DENO_WEBGPU_BACKEND="${DENO_WEBGPU_BACKEND:-vulkan}"
adapter=1
if ! npx deno run -A test/webgpu/check-adapter.ts; then
  adapter=0
  echo "webgpu: NO ADAPTER; running the suite anyway: every test that needs WebGPU will fail"
fi
log=$(mktemp)
start=$(date +%s)
# --no-check: tsc (npm run typecheck) is the type checker of record; Deno only runs the sources.
npx deno test -A --no-check test/webgpu/ 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
line=$(grep -Eo '[0-9]+ passed \| [0-9]+ failed' "$log" | tail -n 1)
passed=$(echo "$line" | awk '{print $1}')
failed=$(echo "$line" | awk '{print $4}')
rm -f "$log"
if [ -z "$line" ]; then passed=0; failed=1; fi
if [ "$rc" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then failed=1; fi
# The adapter check is a gate (reported on its own line by test-all.sh), not a test.
if [ "$adapter" -eq 1 ]; then
  echo "gate webgpu-adapter: ok"
else
  echo "gate webgpu-adapter: FAILED"
  rc=1
fi
echo "webgpu suite took $(( $(date +%s) - start ))s"
echo "webgpu: ${passed} passed, ${failed} failed"
exit $rc
