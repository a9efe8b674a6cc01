/**
 * Fine-tunes the bundled multi-fashion explainer with the per-class term L_pc added to the
 * NN-Explainer loss (so each class's mask must keep its own class and drop the other present
 * ones), checkpointing every `checkpointEvery` steps so a later run can continue with --resume.
 * Writes src/attribution/explainer/weights/explainer{tag}.safetensors (same format as the bundled
 * file) and docs/explainer-training{tag}.json. Run from the repository root:
 *
 *   npx esbuild scripts/train/explainer-finetune.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=dist/finetune.mjs
 *   node dist/finetune.mjs [maxSteps=400] [maxMinutes=9] [perClass=1] [lr=3e-4] [tag=-finetune] [--resume]
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadExplainerPair } from "../../src/attribution/explainer/bundled.ts";
import { explainerPools, SEEDS } from "../../src/attribution/explainer/data.ts";
import { EXPLAINER_LOSS_DEFAULTS } from "../../src/attribution/explainer/loss.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import { fileCheckpointStore } from "../../src/models/train/checkpoint-files.ts";
import { Adam } from "../../src/models/train/optim.ts";
import {
  type TermValues,
  trainExplainer,
  validationLoss,
} from "../../src/models/train/train-explainer.ts";

const args = process.argv.slice(2).filter((a) => a !== "--resume");
const resume = process.argv.includes("--resume");
const maxSteps = Number(args[0] ?? 400);
const maxMinutes = Number(args[1] ?? 9);
const perClass = Number(args[2] ?? 1);
const lr = Number(args[3] ?? 3e-4);
const tag = args[4] ?? "-finetune";
const batchSize = 16;
const checkEvery = 40;
const valCount = 64;
const weightsDir = join(process.cwd(), "src/attribution/explainer/weights");
const cacheDir = join(process.cwd(), ".cache/explainer-finetune");

const pools = explainerPools(loadFashionMnist("train"), loadFashionMnist("test"));
const { classifier, explainer } = loadExplainerPair("multi-fashion");
const f = (x: Parameters<typeof classifier.call>[0]) => classifier.call(x);
const loss = { ...EXPLAINER_LOSS_DEFAULTS, perClass };
const val = { pool: pools.val, seed: SEEDS.val, count: valCount };
const initialVal = validationLoss(explainer, f, val, loss);
console.log(
  `fine-tuning the bundled explainer: l_pc ${perClass}, lr ${lr}, batch ${batchSize}; initial validation loss ${initialVal.toFixed(4)}`,
);
let window: TermValues[] = [];
const mean = (k: keyof TermValues) => window.reduce((a, t) => a + t[k], 0) / window.length;
const result = trainExplainer(explainer, f, pools.train, {
  steps: maxSteps,
  batchSize,
  optimizer: new Adam(lr),
  trainSeed: SEEDS.train,
  val,
  checkEvery,
  maxMinutes,
  loss,
  checkpoint: { store: fileCheckpointStore(cacheDir), every: 20, resume },
  onStep(step, terms) {
    window.push(terms);
    if (step % 10 === 0) {
      const parts = (["classification", "perClass", "entropy", "area", "totalArea"] as const)
        .map((k) => `${k} ${mean(k).toFixed(4)}`)
        .join(", ");
      console.log(`step ${step} loss ${mean("total").toFixed(4)} (${parts})`);
      window = [];
    }
  },
  onCheck(step, v, improved) {
    console.log(
      `  check at step ${step}: validation loss ${v.toFixed(4)}${improved ? " (best)" : ""}`,
    );
  },
});
console.log(
  `${result.steps} steps in ${result.minutes.toFixed(1)} min; best check at step ${result.bestStep}; ${result.stoppedEarly ? "stopped early" : "stopped by the step or time budget"}`,
);
const summary = {
  steps: result.steps,
  minutes: Number(result.minutes.toFixed(2)),
  bestStep: result.bestStep,
  stoppedEarly: result.stoppedEarly,
  initialValidationLoss: initialVal,
  checks: result.checks,
  recipe: {
    from: "bundled explainer.safetensors (1080-step reference-loss run)",
    batchSize,
    lr,
    optimizer: "Adam",
    checkEvery,
    valCount,
    loss,
    trainSeed: SEEDS.train,
    maxSteps,
    maxMinutes,
  },
};
const tensors = new Map(
  [...explainer.stateDict()].map(([k, v]) => [
    k,
    { shape: [...v.shape], values: v.dataSync() as Float32Array },
  ]),
);
const bytes = writeSafetensors(tensors, {
  arch: "ExplainerNet",
  channels: explainer.channels.join(","),
  classes: String(explainer.classes),
  training: JSON.stringify(summary),
});
writeFileSync(join(weightsDir, `explainer${tag}.safetensors`), bytes);
writeFileSync(
  join(process.cwd(), `docs/explainer-training${tag}.json`),
  `${JSON.stringify(summary, null, 2)}\n`,
);
console.log(`wrote explainer${tag}.safetensors and docs/explainer-training${tag}.json`);
