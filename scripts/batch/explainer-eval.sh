#!/usr/bin/env bash
# The README's NN-Explainer table as batch + merge: the bundled multi-fashion classifier and
# explainer against the library's methods on the 100 held-out canvases (seed 3), deletion and
# insertion on the first 15, as scripts/train/explainer-eval.ts computes it in one process.
#   scripts/batch/explainer-eval.sh                     # the fast rows, into out/explainer-eval
#   METHODS=smoothgrad,occlusion,rise OUT=out/explainer-eval-slow SHARDS=2 scripts/batch/explainer-eval.sh
#   METHODS=all scripts/batch/explainer-eval.sh         # every row, constants and oracle too
#   TINY=1 scripts/batch/explainer-eval.sh              # 4 canvases, three fast rows (CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-100}
CURVES=${CURVES:-15}
SHARDS=${SHARDS:-1}
OUT=${OUT:-out/explainer-eval}
METHODS=${METHODS:-explainer,gradient-saliency,guided-backprop,grad-cam,integrated-gradients}
if [ -n "${TINY:-}" ]; then N=4; CURVES=2; METHODS=explainer,grad-cam,perfect; OUT=${OUT}-tiny; fi
[ "$METHODS" != all ] || METHODS=
bash scripts/ensure-apt.sh dataset-fashion-mnist
# SALIENT: the CLI command (default the built one, rebuilt when it lacks --explainer-eval).
SALIENT=${SALIENT:-node dist/cli.js}
[ "$SALIENT" != "node dist/cli.js" ] || $SALIENT batch --help 2>/dev/null | grep -q explainer-eval ||
  node scripts/build.mjs
mkdir -p "$OUT"

pids=()
for ((i = 0; i < SHARDS; i++)); do
  $SALIENT batch --explainer-eval --model multi-fashion --canvases "$N" --curve-canvases "$CURVES" \
    ${METHODS:+--methods "$METHODS"} --out "$OUT/run" --shard "$i/$SHARDS" --resume \
    >"$OUT/shard-$i.log" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
tail -n 1 "$OUT"/shard-*.log
$SALIENT merge "$OUT/run"
