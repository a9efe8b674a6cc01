/**
 * How class-specific the explainer's masks are (own-item IoU against other-item IoU, the union's
 * image-level mean IoU, own coverage: see src/attribution/explainer/class-specificity.ts), on
 * held-out canvases start..start+n-1 of SEEDS.test.
 *
 *   npx esbuild scripts/train/explainer-class-iou.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=dist/class-iou.mjs
 *   node dist/class-iou.mjs [weights=src/attribution/explainer/weights/explainer.safetensors] [n=100] [start=0]
 */
import { readFileSync } from "node:fs";
import {
  classSpecificity,
  explainerCanvasCases,
} from "../../src/attribution/explainer/class-specificity.ts";
import { explainerPools, SEEDS } from "../../src/attribution/explainer/data.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { readSafetensors } from "../../src/models/io/safetensors.ts";
import { explainerNetFrom } from "../../src/models/unet/explainer-net.ts";

const file = process.argv[2] ?? "src/attribution/explainer/weights/explainer.safetensors";
const n = Number(process.argv[3] ?? 100);
// Canvases start..start+n-1: a later range checks a choice made on the first 100 on unseen ones.
const start = Number(process.argv[4] ?? 0);
const explainer = explainerNetFrom(readSafetensors(new Uint8Array(readFileSync(file)), file));
const pools = explainerPools(loadFashionMnist("train"), loadFashionMnist("test"));
const r = classSpecificity(
  explainerCanvasCases((x) => explainer.call(x), pools.test, SEEDS.test, start, n),
);
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
