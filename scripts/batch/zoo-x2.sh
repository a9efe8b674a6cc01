#!/usr/bin/env bash
# The README's x2 zoo study as batch + merge: LAM (fold 20) of five SR models on an edge, a
# texture and a flat window of each bundled photograph (80x80 centre crops, x2), with PSNR.
#   scripts/batch/zoo-x2.sh                  # about 30 CPU-minutes, into out/zoo-x2
#   SHARDS=2 scripts/batch/zoo-x2.sh         # two local processes
#   TINY=1 scripts/batch/zoo-x2.sh           # bicubic + fsrcnn-x2, 32x32 crops, fold 3 (CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARDS=${SHARDS:-1}
OUT=${OUT:-out/zoo-x2}
MODELS=${MODELS:-bicubic,fsrcnn-x2,esrgan-slim,esrgan-medium,esrgan-thick}
ARGS=(--windows docs/zoo-study-x2-windows.json --crop 80 --fold 20)
if [ -n "${TINY:-}" ]; then
  MODELS=bicubic,fsrcnn-x2
  ARGS=(--windows "edge=8,8,8;flat=16,16,8" --crop 32 --fold 3)
  OUT=${OUT}-tiny
fi
# SALIENT: the CLI command (default the built one, rebuilt when it lacks batch).
SALIENT=${SALIENT:-node dist/cli.js}
[ "$SALIENT" != "node dist/cli.js" ] || $SALIENT batch --help >/dev/null 2>&1 || node scripts/build.mjs
mkdir -p "$OUT"

pids=()
for ((i = 0; i < SHARDS; i++)); do
  $SALIENT batch --lam --images assets/photos --model "$MODELS" --scale 2 "${ARGS[@]}" \
    --out "$OUT/run" --shard "$i/$SHARDS" --resume >"$OUT-shard-$i.log" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
$SALIENT merge "$OUT/run"
