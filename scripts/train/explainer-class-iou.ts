/**
 * How class-specific the explainer's masks are, on held-out canvases 0..n-1 of SEEDS.test: for
 * every (canvas, present class c), the mean discrete IoU (thresholds 0.1..0.9, map divided by its
 * maximum, as the evaluation table) of sigmoid(S_c) against c's own true mask ("own") and against
 * each other present class's true mask ("other", averaged over canvases with 2+ classes); the
 * evaluation table's image-level mean IoU (per-pixel max over the present classes vs the union);
 * and "own coverage", the mean of sigmoid(S_c) over c's own item, which falls when class-specific
 * masks cover only the parts of their item that the classifier needs.
 *
 *   npx esbuild scripts/train/explainer-class-iou.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=dist/class-iou.mjs
 *   node dist/class-iou.mjs [weights=src/attribution/explainer/weights/explainer.safetensors] [n=100] [start=0]
 */
import { readFileSync } from "node:fs";
import { classSpecificity } from "../../src/attribution/explainer/class-specificity.ts";
import { explainerPools, SEEDS } from "../../src/attribution/explainer/data.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { multiFashionSample } from "../../src/models/data/multi-fashion.ts";
import { readSafetensors } from "../../src/models/io/safetensors.ts";
import { explainerNetFrom } from "../../src/models/unet/explainer-net.ts";
import { tensor } from "../../src/ops/creation.ts";
import { sigmoid } from "../../src/ops/unary.ts";

const file = process.argv[2] ?? "src/attribution/explainer/weights/explainer.safetensors";
const n = Number(process.argv[3] ?? 100);
// Canvases start..start+n-1: a later range checks a choice made on the first 100 on unseen ones.
const start = Number(process.argv[4] ?? 0);
const explainer = explainerNetFrom(readSafetensors(new Uint8Array(readFileSync(file)), file));
const pools = explainerPools(loadFashionMnist("train"), loadFashionMnist("test"));
function* canvases() {
  for (let i = start; i < start + n; i++) {
    const s = multiFashionSample(pools.test, SEEDS.test, i);
    const masks = tidy(
      () =>
        sigmoid(explainer.call(tensor(s.image, [1, 1, s.size, s.size]))).dataSync() as Float32Array,
    );
    yield { masks, truth: s.masks, labels: s.labels };
  }
}
const r = classSpecificity(canvases());
const round = (v: number, d = 4) => Number(v.toFixed(d));
console.log(
  JSON.stringify({
    weights: file,
    canvases: `${start}..${start + n - 1}`,
    pairs: r.pairs,
    ownIoU: round(r.ownIoU),
    otherPairs: r.otherPairs,
    otherIoU: round(r.otherIoU),
    ratio: round(r.ratio, 3),
    imageMeanIoU: round(r.imageMeanIoU),
    ownCoverage: round(r.ownCoverage),
  }),
);
