/**
 * The explainer comparison table (src/attribution/explainer/evaluate.ts) on held-out canvases of
 * the Fashion-MNIST test split, with the weights in src/attribution/explainer/weights. Rows are
 * merged into docs/explainer-eval.json, so slow rows can be computed in separate runs.
 *
 *   npx esbuild scripts/train/explainer-eval.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=dist/explainer-eval.mjs
 *   node dist/explainer-eval.mjs [--images 100] [--curve-images 15] [--rows name,name,...]
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { explainerPools, SEEDS } from "../../src/attribution/explainer/data.ts";
import {
  type ClassMapMethod,
  constantMethod,
  type EvaluationRow,
  evaluateMethod,
  formatTable,
} from "../../src/attribution/explainer/evaluate.ts";
import {
  COMPARISON_DEFAULTS,
  comparisonMethods,
  explainerMethod,
} from "../../src/attribution/explainer/methods.ts";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { multiLabelCnnFrom } from "../../src/models/classifiers/multi-label-cnn.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { readSafetensors } from "../../src/models/io/safetensors.ts";
import { evaluateMultiLabel } from "../../src/models/train/fit-multi-label.ts";
import { explainerNetFrom } from "../../src/models/unet/explainer-net.ts";

const { values } = parseArgs({
  options: {
    images: { type: "string", default: "100" },
    "curve-images": { type: "string", default: "15" },
    rows: { type: "string" },
    out: { type: "string", default: "docs/explainer-eval.json" },
  },
});
const dir = join(process.cwd(), "src/attribution/explainer/weights");
const load = (f: string) => readSafetensors(new Uint8Array(readFileSync(join(dir, f))), f);
const classifier = multiLabelCnnFrom(load("classifier.safetensors"));
const f = (x: Tensor) => classifier.call(x);
const pools = explainerPools(loadFashionMnist("train"), loadFashionMnist("test"));
const options = {
  images: Number(values.images),
  seed: SEEDS.test,
  curveImages: Number(values["curve-images"]),
  pixelsPerStep: 128,
  tolerance: 4,
  threshold: 0,
  batchSize: 64,
};
const methods: Record<string, () => ClassMapMethod> = {
  explainer: () => {
    const net = explainerNetFrom(load("explainer.safetensors"));
    return explainerMethod((x) => net.call(x));
  },
  ...Object.fromEntries(
    Object.entries(comparisonMethods(f, classifier.gradCamLayer)).map(([k, m]) => [k, () => m]),
  ),
  "0": () => constantMethod("0"),
  "0.5": () => constantMethod("0.5"),
  "1": () => constantMethod("1"),
  perfect: () => constantMethod("perfect"),
};
// Object keys like "0" and "1" would sort first; the table keeps this order.
const ORDER = [
  "explainer",
  ...Object.keys(comparisonMethods(f, classifier.gradCamLayer)),
  "0",
  "0.5",
  "1",
  "perfect",
];
const names = values.rows ? values.rows.split(",") : ORDER;
for (const n of names)
  if (!methods[n]) throw new Error(`unknown row "${n}" (have: ${Object.keys(methods).join(", ")})`);

const outPath = join(process.cwd(), values.out);
const previous = existsSync(outPath) ? JSON.parse(readFileSync(outPath, "utf8")) : { rows: [] };
const sameSetup = JSON.stringify(previous.heldOut) === JSON.stringify(options);
const rows = new Map<string, EvaluationRow>(
  sameSetup ? (previous.rows as EvaluationRow[]).map((r) => [r.method, r]) : [],
);
const unmasked = evaluateMultiLabel(f, pools.test, SEEDS.test, options.images);
console.log(
  `classifier on the ${options.images} unmasked held-out canvases: ${JSON.stringify(unmasked)}`,
);
for (const n of names) {
  const t0 = performance.now();
  const row = await evaluateMethod(n, methods[n](), f, pools.test, options);
  rows.set(n, row);
  console.log(`${n}: ${((performance.now() - t0) / 60000).toFixed(1)} min`);
  const order = ORDER.filter((k) => rows.has(k));
  writeFileSync(
    outPath,
    `${JSON.stringify(
      {
        heldOut: options,
        description:
          "held-out canvases 0..images-1 of the test seed (Fashion-MNIST test split sources); deletion/insertion on the first curveImages images",
        settings: COMPARISON_DEFAULTS,
        classifierUnmasked: unmasked,
        rows: order.map((k) => rows.get(k)),
      },
      null,
      2,
    )}\n`,
  );
}
const order = ORDER.filter((k) => rows.has(k));
console.log(formatTable(order.map((k) => rows.get(k)!)));
