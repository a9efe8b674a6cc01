/**
 * Trains the multi-label classifier of the explainer experiment (MultiLabelCnn, channels
 * 8/16/32/64, batch norm while training, folded into the convs afterwards) on multi-object
 * Fashion-MNIST canvases with salient's engine, and writes
 * src/attribution/explainer/weights/classifier.safetensors (run from the repository root).
 * Recipe: Adam, batch 32, cosine decay from 2e-3 with 30 warm-up steps, fresh canvases every
 * step (training seed), then held-out scores on 1000 test canvases at logit threshold 0.
 *
 *   npx esbuild scripts/train/explainer-classifier.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=dist/train-explainer-classifier.mjs
 *   node dist/train-explainer-classifier.mjs [steps=600]
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { explainerPools, SEEDS } from "../../src/attribution/explainer/data.ts";
import { MultiLabelCnn } from "../../src/models/classifiers/multi-label-cnn.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { multiFashionBatch } from "../../src/models/data/multi-fashion.ts";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import { evaluateMultiLabel, fitMultiLabel } from "../../src/models/train/fit-multi-label.ts";
import { Adam } from "../../src/models/train/optim.ts";
import { cosineSchedule } from "../../src/models/train/schedule.ts";
import { tensor } from "../../src/ops/creation.ts";

const steps = Number(process.argv[2] ?? 600);
const batchSize = 32;
const channels = [8, 16, 32, 64] as const;
const pools = explainerPools(loadFashionMnist("train"), loadFashionMnist("test"));
const trainable = new MultiLabelCnn({ channels, seed: 0, batchNorm: true });
console.log(
  `MultiLabelCnn ${trainable.parameterCount()} parameters, ${steps} steps of ${batchSize}`,
);

const t0 = performance.now();
let window = 0;
const losses = fitMultiLabel(trainable, pools.train, {
  steps,
  batchSize,
  seed: SEEDS.train,
  optimizer: new Adam(2e-3),
  schedule: cosineSchedule(2e-3, steps, { warmup: Math.min(30, steps >> 2), floor: 2e-5 }),
  onStep(step, loss) {
    window += loss;
    if ((step + 1) % 50 === 0) {
      const min = ((performance.now() - t0) / 60000).toFixed(1);
      console.log(`step ${step + 1}/${steps} loss ${(window / 50).toFixed(4)} (${min} min)`);
      window = 0;
    }
  },
});
const minutes = (performance.now() - t0) / 60000;
const model = trainable.fused();
// Folding must not change the function: compare on a few validation canvases.
const probe = multiFashionBatch(pools.val, SEEDS.val, [0, 1, 2, 3]);
const px = tensor(probe.images, [4, 1, 64, 64]);
const a = trainable.call(px).dataSync();
const b = model.call(px).dataSync();
const gap = Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
console.log(`batch-norm folding: max logit difference ${gap.toExponential(2)}`);
const heldOut = evaluateMultiLabel((x) => model.call(x), pools.test, SEEDS.test, 1000);
const val = evaluateMultiLabel((x) => model.call(x), pools.val, SEEDS.val, 500);
console.log(`trained in ${minutes.toFixed(1)} min`);
console.log("held-out (1000 test canvases):", JSON.stringify(heldOut));
console.log("validation (500 canvases):", JSON.stringify(val));

const tensors = new Map(
  [...model.stateDict()].map(([k, v]) => [
    k,
    { shape: [...v.shape], values: v.dataSync() as Float32Array },
  ]),
);
const bytes = writeSafetensors(tensors, {
  arch: "MultiLabelCnn",
  channels: channels.join(","),
  recipe: `Adam bs${batchSize} ${steps} steps cosine 2e-3 warmup 30 batch norm (folded) seed 0 data seed ${SEEDS.train}`,
  minutes: minutes.toFixed(1),
  heldout: JSON.stringify(heldOut),
  losses: JSON.stringify(losses.map((l) => Number(l.toFixed(4)))),
});
writeFileSync(
  join(process.cwd(), "src/attribution/explainer/weights/classifier.safetensors"),
  bytes,
);
console.log(`wrote classifier.safetensors (${bytes.length} bytes)`);
