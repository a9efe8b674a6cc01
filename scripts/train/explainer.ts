/**
 * Trains the NN-Explainer explainer (ExplainerNet, 8/16/32/64 channels) against the frozen
 * multi-label classifier from scripts/train/explainer-classifier.ts, with salient's engine on the
 * CPU. Writes src/attribution/explainer/weights/explainer.safetensors, a training summary to
 * docs/explainer-training.json and the per-step loss terms to docs/explainer-loss-curve.csv (run
 * from the repository root), then run explainer-pack.ts.
 *
 * Recipe: the reference's loss weights and area bounds (l_ent 1, l_tv 1, l_area 1, l_tot 0.1,
 * l_nc 0.3, a_min 0.05, a_max 0.3); Adam at 3e-4 (between the reference's 1e-5 and 1e-4: at
 * 1e-3 every mask collapsed to 0 within 50 steps, Adam's unit-size steps driving the saturating
 * sigmoid down before the classification term could shape it; 1e-4 was about 3x slower to get
 * going than 3e-4 in a side-by-side trial); batch 16 of fresh canvases per step;
 * encoder started from the classifier's convs; every 40 steps the loss on 64 validation canvases
 * for early stopping (patience 5, min_delta 0.001, best weights restored); a wall-clock budget.
 *
 *   npx esbuild scripts/train/explainer.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=dist/train-explainer.mjs
 *   node dist/train-explainer.mjs [maxSteps=3000] [maxMinutes=40] [lr=3e-4] [tag]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { explainerPools, SEEDS } from "../../src/attribution/explainer/data.ts";
import { EXPLAINER_LOSS_DEFAULTS } from "../../src/attribution/explainer/loss.ts";
import { multiLabelCnnFrom } from "../../src/models/classifiers/multi-label-cnn.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { readSafetensors } from "../../src/models/io/safetensors.ts";
import { Adam } from "../../src/models/train/optim.ts";
import {
  initEncoderFromClassifier,
  type TermValues,
  trainExplainer,
  validationLoss,
} from "../../src/models/train/train-explainer.ts";
import { ExplainerNet } from "../../src/models/unet/explainer-net.ts";
import { progressLog, runSummary, WEIGHTS_DIR, writeExplainerRun } from "./explainer-run.ts";

const maxSteps = Number(process.argv[2] ?? 3000);
const maxMinutes = Number(process.argv[3] ?? 40);
const batchSize = 16;
const lr = Number(process.argv[4] ?? 3e-4);
// Where to write (a tag lets two trial runs coexist): explainer{tag}.safetensors, explainer-training{tag}.json.
const tag = process.argv[5] ?? "";
const checkEvery = 40;
const valCount = 64;

const pools = explainerPools(loadFashionMnist("train"), loadFashionMnist("test"));
const classifier = multiLabelCnnFrom(
  readSafetensors(new Uint8Array(readFileSync(join(WEIGHTS_DIR, "classifier.safetensors")))),
);
const f = (x: Parameters<typeof classifier.call>[0]) => classifier.call(x);
const explainer = new ExplainerNet({ seed: 0 });
initEncoderFromClassifier(explainer, classifier);
const val = { pool: pools.val, seed: SEEDS.val, count: valCount };
const initialVal = validationLoss(explainer, f, val);
console.log(
  `ExplainerNet ${explainer.parameterCount()} parameters; batch ${batchSize}, lr ${lr}; initial validation loss ${initialVal.toFixed(4)}`,
);

const result = trainExplainer(explainer, f, pools.train, {
  steps: maxSteps,
  batchSize,
  optimizer: new Adam(lr),
  trainSeed: SEEDS.train,
  val,
  checkEvery,
  maxMinutes,
  ...progressLog(["classification", "entropy", "tv", "area", "totalArea", "nonClassArea"]),
});

const recipe = {
  batchSize,
  lr,
  optimizer: "Adam",
  checkEvery,
  valCount,
  patience: 5,
  minDelta: 0.001,
  loss: EXPLAINER_LOSS_DEFAULTS,
  encoderInit: "classifier features.{0,2,4,6}",
  trainSeed: SEEDS.train,
  maxSteps,
  maxMinutes,
};
const summary = runSummary(result, initialVal, recipe);
const bytes = writeExplainerRun(explainer, summary, tag);
// The summary went out as JSON (run `biome check --write` on it); the per-step curve as CSV.
const keys = Object.keys(result.history[0] ?? {}) as (keyof TermValues)[];
const csv = [
  ["step", ...keys].join(","),
  ...result.history.map((t, i) => [i + 1, ...keys.map((k) => t[k].toFixed(5))].join(",")),
];
writeFileSync(join(process.cwd(), `docs/explainer-loss-curve${tag}.csv`), `${csv.join("\n")}\n`);
console.log(
  `wrote explainer${tag}.safetensors (${bytes} bytes), docs/explainer-training${tag}.json and -loss-curve${tag}.csv`,
);
