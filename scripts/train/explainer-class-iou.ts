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
 *   node dist/class-iou.mjs [weights=src/attribution/explainer/weights/explainer.safetensors] [n=100]
 */
import { readFileSync } from "node:fs";
import { explainerPools, SEEDS } from "../../src/attribution/explainer/data.ts";
import { localisation } from "../../src/attribution/metrics/localisation.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { multiFashionSample } from "../../src/models/data/multi-fashion.ts";
import { readSafetensors } from "../../src/models/io/safetensors.ts";
import { explainerNetFrom } from "../../src/models/unet/explainer-net.ts";
import { tensor } from "../../src/ops/creation.ts";
import { sigmoid } from "../../src/ops/unary.ts";

const file = process.argv[2] ?? "src/attribution/explainer/weights/explainer.safetensors";
const n = Number(process.argv[3] ?? 100);
const explainer = explainerNetFrom(readSafetensors(new Uint8Array(readFileSync(file)), file));
const pools = explainerPools(loadFashionMnist("train"), loadFashionMnist("test"));
const own: number[] = [];
const other: number[] = [];
const image: number[] = [];
const coverage: number[] = [];
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
for (let i = 0; i < n; i++) {
  const s = multiFashionSample(pools.test, SEEDS.test, i);
  const hw = s.size * s.size;
  const masks = tidy(
    () =>
      sigmoid(explainer.call(tensor(s.image, [1, 1, s.size, s.size]))).dataSync() as Float32Array,
  );
  const present = [...s.labels.keys()].filter((c) => s.labels[c] === 1);
  const truth = (c: number) => s.masks.subarray(c * hw, (c + 1) * hw);
  const map = (c: number) => masks.subarray(c * hw, (c + 1) * hw);
  for (const c of present) {
    own.push(localisation(map(c), truth(c)).meanIoU);
    let covered = 0;
    let pixels = 0;
    for (let p = 0; p < hw; p++) {
      if (!truth(c)[p]) continue;
      covered += map(c)[p];
      pixels++;
    }
    coverage.push(covered / pixels);
    for (const d of present) if (d !== c) other.push(localisation(map(c), truth(d)).meanIoU);
  }
  const combined = new Float32Array(hw);
  const union = new Uint8Array(hw);
  for (const c of present) {
    for (let p = 0; p < hw; p++) {
      combined[p] = Math.max(combined[p], map(c)[p]);
      union[p] |= truth(c)[p];
    }
  }
  image.push(localisation(combined, union).meanIoU);
}
console.log(
  JSON.stringify({
    weights: file,
    canvases: n,
    pairs: own.length,
    ownIoU: Number(mean(own).toFixed(4)),
    otherPairs: other.length,
    otherIoU: Number(mean(other).toFixed(4)),
    ratio: Number((mean(own) / mean(other)).toFixed(3)),
    imageMeanIoU: Number(mean(image).toFixed(4)),
    ownCoverage: Number(mean(coverage).toFixed(4)),
  }),
);
