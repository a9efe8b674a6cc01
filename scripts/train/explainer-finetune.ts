/**
 * Fine-tunes the bundled multi-fashion explainer with salient's per-class terms added to the
 * NN-Explainer loss (L_pc: each class's mask alone keeps its own class and drops the others;
 * L_pd: removing it removes its class and keeps the others) and, with --union-distill, L_u (the
 * union of the present classes' masks stays close to the bundled explainer's union: a frozen
 * teacher, evaluated per batch outside the gradient), checkpointing every 20 steps in
 * .cache/explainer{tag}/ so a later run with the same tag can continue with --resume.
 * Writes src/attribution/explainer/weights/explainer{tag}.safetensors (same format as the bundled
 * file) and docs/explainer-training{tag}.json. Run from the repository root:
 *
 *   npx esbuild scripts/train/explainer-finetune.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=dist/finetune.mjs
 *   node dist/finetune.mjs --steps 400 --minutes 9 --per-class 1 --per-class-delete 0 \
 *     --area 1 --total-area 0.1 --entropy 1 --min-area 0.05 --union-distill 0 --lr 3e-4 \
 *     --tag -finetune [--from weights.safetensors] [--resume]
 *
 * (the values shown are the defaults; other loss weights are the reference's).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadExplainerPair } from "../../src/attribution/explainer/bundled.ts";
import { explainerPools, SEEDS } from "../../src/attribution/explainer/data.ts";
import { EXPLAINER_LOSS_DEFAULTS, explainerMasks } from "../../src/attribution/explainer/loss.ts";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { readSafetensors } from "../../src/models/io/safetensors.ts";
import { fileCheckpointStore } from "../../src/models/train/checkpoint-files.ts";
import { Adam } from "../../src/models/train/optim.ts";
import { trainExplainer, validationLoss } from "../../src/models/train/train-explainer.ts";
import { explainerNetFrom } from "../../src/models/unet/explainer-net.ts";
import { mul } from "../../src/ops/binary.ts";
import { progressLog, runSummary, writeExplainerRun } from "./explainer-run.ts";

const NUMERIC = {
  "--steps": 400,
  "--minutes": 9,
  "--per-class": 1,
  "--per-class-delete": 0,
  "--area": 1,
  "--total-area": EXPLAINER_LOSS_DEFAULTS.totalArea,
  "--entropy": EXPLAINER_LOSS_DEFAULTS.entropy,
  "--min-area": EXPLAINER_LOSS_DEFAULTS.minArea,
  "--union-distill": EXPLAINER_LOSS_DEFAULTS.unionDistill,
  "--teacher-sharpen": 1,
  "--lr": 3e-4,
};
type NumericFlag = keyof typeof NUMERIC;
const opts: Record<NumericFlag, number> = { ...NUMERIC };
let tag = "-finetune";
let from: string | undefined;
let resume = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--resume") resume = true;
  else if (a === "--tag") tag = argv[++i];
  else if (a === "--from") from = argv[++i];
  else if (a in NUMERIC) {
    const v = Number(argv[++i]);
    if (!Number.isFinite(v))
      throw new Error(`explainer-finetune: ${a} needs a number, got ${argv[i]}`);
    opts[a as NumericFlag] = v;
  } else {
    throw new Error(
      `explainer-finetune: unknown argument ${a} (expected ${Object.keys(NUMERIC).join(", ")}, --tag, --from, --resume)`,
    );
  }
}
const batchSize = 16;
const checkEvery = 40;
const valCount = 64;
const cacheDir = join(process.cwd(), `.cache/explainer${tag}`);

const pools = explainerPools(loadFashionMnist("train"), loadFashionMnist("test"));
const pair = loadExplainerPair("multi-fashion");
const { classifier } = pair;
const explainer = from
  ? explainerNetFrom(readSafetensors(new Uint8Array(readFileSync(from)), from))
  : pair.explainer;
const f = (x: Parameters<typeof classifier.call>[0]) => classifier.call(x);
const loss = {
  ...EXPLAINER_LOSS_DEFAULTS,
  perClass: opts["--per-class"],
  perClassDelete: opts["--per-class-delete"],
  area: opts["--area"],
  totalArea: opts["--total-area"],
  entropy: opts["--entropy"],
  minArea: opts["--min-area"],
  unionDistill: opts["--union-distill"],
};
// The teacher is always the bundled explainer (also with --from), frozen: never in Adam's list.
// --teacher-sharpen T > 1 scales its logits (union sigmoid(T max_c S_c)), so the student's union
// is asked to be as confident over the items as the teacher is over its most certain pixels.
const teacherNet = loadExplainerPair("multi-fashion").explainer;
const sharpen = opts["--teacher-sharpen"];
const teacher = loss.unionDistill
  ? (x: Tensor, y: Float32Array) => explainerMasks(mul(teacherNet.call(x), sharpen), y).target
  : undefined;
const val = { pool: pools.val, seed: SEEDS.val, count: valCount };
const initialVal = validationLoss(explainer, f, val, loss, 32, teacher);
console.log(
  `fine-tuning ${from ?? "the bundled explainer"}: l_pc ${loss.perClass}, l_pd ${loss.perClassDelete}, l_area ${loss.area}, l_tot ${loss.totalArea}, l_ent ${loss.entropy}, l_u ${loss.unionDistill} (teacher sharpened x${sharpen}), a_min ${loss.minArea}, lr ${opts["--lr"]}, batch ${batchSize}, tag ${tag}; initial validation loss ${initialVal.toFixed(4)}`,
);
const result = trainExplainer(explainer, f, pools.train, {
  steps: opts["--steps"],
  batchSize,
  optimizer: new Adam(opts["--lr"]),
  trainSeed: SEEDS.train,
  val,
  checkEvery,
  maxMinutes: opts["--minutes"],
  loss,
  teacher,
  checkpoint: { store: fileCheckpointStore(cacheDir), every: 20, resume },
  ...progressLog([
    "classification",
    "perClass",
    "perClassDelete",
    "unionDistill",
    "entropy",
    "area",
    "totalArea",
  ]),
});
const summary = runSummary(result, initialVal, {
  from: from ?? "bundled explainer.safetensors (1080-step reference-loss run)",
  batchSize,
  lr: opts["--lr"],
  optimizer: "Adam",
  checkEvery,
  valCount,
  loss,
  teacher: loss.unionDistill
    ? `bundled explainer.safetensors, union over present classes, logits x${sharpen}`
    : "none",
  trainSeed: SEEDS.train,
  maxSteps: opts["--steps"],
  maxMinutes: opts["--minutes"],
});
writeExplainerRun(explainer, summary, tag);
console.log(`wrote explainer${tag}.safetensors and docs/explainer-training${tag}.json`);
