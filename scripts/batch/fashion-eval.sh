#!/usr/bin/env bash
# The bundled classifier evaluated over Fashion-MNIST test images as batch + merge: three
# methods, the deletion/insertion/sparseness metrics, true labels as targets.
#   scripts/batch/fashion-eval.sh            # N=1000 images into out/fashion-eval
#   N=200 SHARDS=2 scripts/batch/fashion-eval.sh
#   TINY=1 scripts/batch/fashion-eval.sh     # 10 images, for CI
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-1000}
SHARDS=${SHARDS:-1}
OUT=${OUT:-out/fashion-eval}
STEPS=${STEPS:-32}
if [ -n "${TINY:-}" ]; then N=10; STEPS=4; OUT=${OUT}-tiny; fi

bash scripts/ensure-apt.sh dataset-fashion-mnist
# SALIENT: the CLI command (default the built one, rebuilt when it lacks batch).
SALIENT=${SALIENT:-node dist/cli.js}
[ "$SALIENT" != "node dist/cli.js" ] || $SALIENT batch --help >/dev/null 2>&1 || node scripts/build.mjs
mkdir -p "$OUT"
npx esbuild scripts/batch/fashion-images.ts --bundle --platform=node --format=esm \
  --packages=external --outfile=dist/fashion-images.mjs --log-level=warning
node dist/fashion-images.mjs "$OUT/data" "$N"

run() {
  $SALIENT batch --manifest "$OUT/data/manifest.csv" --model fashion-cnn \
    --methods gradient,integrated-gradients,smoothgrad --steps "$STEPS" --samples 10 \
    --metrics deletion,insertion,sparseness --out "$OUT/run" --resume "$@"
}
pids=()
for ((i = 0; i < SHARDS; i++)); do
  run --shard "$i/$SHARDS" >"$OUT/shard-$i.log" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
tail -n 1 "$OUT"/shard-*.log
$SALIENT merge "$OUT/run"
