/**
 * Controlled study: does attention widen the pixels an SR network uses, at equal size, data and
 * training? An EDSR-style CNN, a SwinIR-style and a HAT-style x2 network of (nearly) equal
 * parameter count are trained on the same RGB patches with the same optimiser, batch and steps,
 * then compared on held-out photos: PSNR, and LAM's diffusion index on labelled edge / texture /
 * flat windows (docs/zoo-study-x2-windows.json). Writes docs/attention-study.md.
 *
 * Training: Adam with a cosine learning-rate decay from 1e-3 to 1e-5 over `--steps`; the weights
 * at 80%, 90% and 100% of the steps are kept as snapshots, and the report gives each metric as
 * mean and spread over the snapshots (late-training noise is what the spread measures).
 *
 * Resumable: each model's weights, Adam moments, step count and schedule are checkpointed under
 * .cache/attention-study/cosine/; `--resume` continues from there up to `--steps` (total per
 * model, which must equal the checkpoint's: the schedule is stretched over it).
 *
 *   npm run study:attention -- [--steps 1000] [--resume] [--max-minutes M] [--fold 20]
 *       [--models edsr,swinir,hat] [--train-only] [--seed S] [--out FILE.md]
 *
 * --max-minutes bounds each model's training in this run (it stops early, checkpointed, and a
 * later --resume continues); --models restricts this run to some models (to train them in
 * parallel processes); --train-only skips evaluation and the report; --seed (default 0) changes
 * the initial weights and the batch stream, with its own cache folder; --out writes the report
 * elsewhere (default docs/attention-study.md). Evaluations are cached per snapshot and fold, so a
 * final `--resume` run over all models only evaluates what is missing and writes the report.
 *
 * Data: bundled photos (assets/photos) minus the held-out ones, plus scikit-image's colour sample
 * photos when installed (/usr/lib/python3/dist-packages/skimage/data, package python3-skimage).
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import type { LamWindow } from "../../src/attribution/lam/window.ts";
import { variableGrads } from "../../src/autodiff/grad.ts";
import type { Tensor, Variable } from "../../src/autodiff/tensor.ts";
import { keep, tidy } from "../../src/autodiff/tidy.ts";
import { runLamOn } from "../../src/cli/lam.ts";
import { lamImagesFromHr } from "../../src/cli/lam-images.ts";
import { psnr } from "../../src/models/eval/psnr.ts";
import { readSafetensors, writeSafetensors } from "../../src/models/io/safetensors.ts";
import type { Module } from "../../src/models/nn/module.ts";
import { Edsr } from "../../src/models/zoo/edsr.ts";
import { Hat } from "../../src/models/zoo/hat.ts";
import { SwinIr } from "../../src/models/zoo/swinir.ts";
import { div, mul, sub } from "../../src/ops/binary.ts";
import { tensor } from "../../src/ops/creation.ts";
import { mean } from "../../src/ops/reduce.ts";
import { resize } from "../../src/ops/resize.ts";
import { abs, clamp } from "../../src/ops/unary.ts";
import { Random } from "../../src/random.ts";
import { readImage } from "../../src/viz/image-io-node.ts";
import {
  attentionReport,
  type Evaluation,
  type OtherSeed,
  type SnapshotEvaluation,
  type StudyRow,
  type StudySetup,
} from "./attention-report.ts";
import {
  type CosineSchedule,
  cosineSchedule,
  learningRate,
  sameSchedule,
  snapshotSteps,
} from "./attention-schedule.ts";

// npm runs scripts in the package root (the bundle lives in dist/, so not relative to this file)
const ROOT = process.cwd();
/** Seed of the initial weights and of the batch stream (0: the committed run). */
const SEED = (() => {
  const i = process.argv.indexOf("--seed");
  if (i < 0) return 0;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0)
    throw new Error(`--seed must be a non-negative integer, got "${process.argv[i + 1]}"`);
  return v;
})();
// each seed has its own checkpoints, snapshots and evaluations
const CACHE = join(ROOT, ".cache/attention-study", SEED === 0 ? "cosine" : `cosine-seed${SEED}`);
const SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data";
const HELD_OUT = ["coffee", "rocket"];
const SCALE = 2;
const PATCH = 32; // HR patch; LR 16x16 = 2 x 2 windows of 8
const BATCH = 8;
const LR_MAX = 1e-3;
const LR_MIN = 1e-5;
const SNAPSHOT_FRACTIONS = [0.8, 0.9, 1];
const EVAL_CROP = 80; // the zoo study's crop: LR 40x40, windows in HR pixels of the crop

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!(v > 0))
    throw new Error(`--${name} must be a positive number, got "${process.argv[i + 1]}"`);
  return v;
}
const STEPS = Math.floor(flag("steps", 1000));
const SCHEDULE = cosineSchedule(LR_MAX, LR_MIN, STEPS);
const SNAPSHOTS = snapshotSteps(STEPS, SNAPSHOT_FRACTIONS);
const TRAIN_ONLY = process.argv.includes("--train-only");
const MAX_MINUTES = flag("max-minutes", 1e9);
const FOLD = Math.floor(flag("fold", 20));
const RESUME = process.argv.includes("--resume");
const MODELS = (() => {
  const i = process.argv.indexOf("--models");
  if (i < 0) return null;
  const names = (process.argv[i + 1] ?? "").split(",");
  for (const n of names)
    if (!["edsr", "swinir", "hat"].includes(n))
      throw new Error(`--models takes a comma list of edsr, swinir, hat; got "${n}"`);
  return names;
})();
const OUT = (() => {
  const i = process.argv.indexOf("--out");
  return i < 0 ? "docs/attention-study.md" : process.argv[i + 1];
})();

interface Contender {
  name: string;
  note: string;
  build: () => Module;
  /** RGB in [0, 1] -> [0, 1]. */
  run: (m: Module, x: Tensor) => Tensor;
}

const unit = (m: Module, x: Tensor) => m.call(x);
const CONTENDERS: Contender[] = [
  {
    name: "edsr",
    note: "EDSR-style CNN: 24 features, 2 residual blocks",
    build: () =>
      new Edsr(SCALE, {
        nResblocks: 2,
        nFeats: 24,
        resScale: 1,
        nColors: 3,
        rgbRange: 255,
        seed: SEED,
      }),
    run: (m, x) => div(m.call(mul(x, 255)), 255),
  },
  {
    name: "swinir",
    note: "SwinIR-style: embed 27, one residual Swin group of 3 blocks, 3 heads, window 8",
    build: () =>
      new SwinIr(SCALE, {
        embedDim: 27,
        depths: [3],
        numHeads: [3],
        windowSize: 8,
        mlpRatio: 2,
        imgSize: 64,
        upsampler: "pixelshuffle",
        numFeat: 16,
        seed: SEED,
      }),
    run: unit,
  },
  {
    name: "hat",
    note: "HAT-style: embed 24, one residual hybrid group of 2 HABs + OCAB, 3 heads, window 8",
    build: () =>
      new Hat(SCALE, {
        embedDim: 24,
        depths: [2],
        numHeads: [3],
        windowSize: 8,
        compressRatio: 3,
        squeezeFactor: 6,
        convScale: 0.01,
        overlapRatio: 0.5,
        mlpRatio: 2,
        numFeat: 16,
        seed: SEED,
      }),
    run: unit,
  },
];

interface RgbImage {
  name: string;
  height: number;
  width: number;
  /** Planar [3, h, w] in [0, 1]. */
  data: Float32Array;
}

function trainingImages(): RgbImage[] {
  const files: [string, string][] = readdirSync(join(ROOT, "assets/photos"))
    .filter((f) => f.endsWith(".png") && !HELD_OUT.includes(f.replace(/\.png$/, "")))
    .map((f) => [f.replace(/\.png$/, ""), join(ROOT, "assets/photos", f)]);
  if (existsSync(SKIMAGE))
    for (const f of readdirSync(SKIMAGE)) {
      const name = f.replace(/\.(png|jpg)$/, "");
      if (name === f || HELD_OUT.includes(name) || files.some(([n]) => n === name)) continue;
      files.push([`skimage/${name}`, join(SKIMAGE, f)]);
    }
  const out: RgbImage[] = [];
  for (const [name, path] of files) {
    try {
      const img = readImage(path, 3);
      // the study trains on colour photos only: skip the greyscale samples (equal channels)
      let grey = true;
      const hw = img.width * img.height;
      for (let p = 0; p < hw && grey; p += 97) grey = img.data[p] === img.data[hw + p];
      if (!grey && img.width >= PATCH && img.height >= PATCH)
        out.push({ name, height: img.height, width: img.width, data: img.data });
    } catch {
      // an unreadable sample (format the decoder lacks) is left out, not fatal
    }
  }
  return out;
}

/** A batch of random HR patches [n, 3, PATCH, PATCH] (mirrored at random) and their LR versions. */
function batch(images: RgbImage[], rng: Random): { lr: Tensor; hr: Tensor } {
  const out = new Float32Array(BATCH * 3 * PATCH * PATCH);
  for (let i = 0; i < BATCH; i++) {
    const im = images[rng.int(images.length)];
    const top = rng.int(im.height - PATCH + 1);
    const left = rng.int(im.width - PATCH + 1);
    const mirror = rng.uniform() < 0.5;
    const hw = im.height * im.width;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < PATCH; y++)
        for (let x = 0; x < PATCH; x++) {
          const sx = mirror ? PATCH - 1 - x : x;
          out[((i * 3 + c) * PATCH + y) * PATCH + x] =
            im.data[c * hw + (top + y) * im.width + left + sx];
        }
  }
  return tidy(() => {
    const hr = keep(tensor(out, [BATCH, 3, PATCH, PATCH]));
    const lr = keep(resize(hr, [PATCH / SCALE, PATCH / SCALE], { mode: "antialias-bicubic" }));
    return { lr, hr };
  });
}

/** Adam whose moments are plain arrays, so a checkpoint can hold them. */
class CheckpointedAdam {
  m = new Map<string, Float32Array>();
  v = new Map<string, Float32Array>();
  constructor(public t: number) {}
  step(params: [string, Variable][], grads: Map<Variable, Tensor>, lr: number): void {
    this.t++;
    const c1 = 1 - 0.9 ** this.t;
    const c2 = 1 - 0.999 ** this.t;
    for (const [name, p] of params) {
      const g = grads.get(p);
      if (!g) continue;
      const gv = g.dataSync();
      const m = this.m.get(name) ?? new Float32Array(gv.length);
      const v = this.v.get(name) ?? new Float32Array(gv.length);
      const w = Float32Array.from(p.dataSync());
      for (let i = 0; i < gv.length; i++) {
        m[i] = 0.9 * m[i] + 0.1 * gv[i];
        v[i] = 0.999 * v[i] + 0.001 * gv[i] * gv[i];
        w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-8);
      }
      this.m.set(name, m);
      this.v.set(name, v);
      p.assign(tensor(w, p.shape));
    }
  }
}

interface TrainState {
  step: number;
  seconds: number;
  /** Mean L1 loss of each block of 25 steps. */
  losses: number[];
  schedule: CosineSchedule;
}

function checkpointPaths(name: string) {
  return { weights: join(CACHE, `${name}.safetensors`), state: join(CACHE, `${name}.json`) };
}

const snapshotPath = (name: string, step: number) => join(CACHE, `${name}.step${step}.safetensors`);
const evalPath = (name: string, step: number) =>
  join(CACHE, `${name}.step${step}.fold${FOLD}.eval.json`);

function modelEntries(net: Module): Map<string, { values: Float32Array; shape: number[] }> {
  const entries = new Map<string, { values: Float32Array; shape: number[] }>();
  for (const [k, v] of net.stateDict())
    entries.set(`model.${k}`, { values: Float32Array.from(v.dataSync()), shape: [...v.shape] });
  return entries;
}

function loadModel(net: Module, file: string): void {
  const f = readSafetensors(new Uint8Array(readFileSync(file)));
  net.loadStateDict(
    new Map([...f].filter(([k]) => k.startsWith("model.")).map(([k, v]) => [k.slice(6), v])),
  );
}

/** The weights after `step` updates, kept for evaluation (written atomically). */
function saveSnapshot(name: string, net: Module, step: number): void {
  mkdirSync(CACHE, { recursive: true });
  const file = snapshotPath(name, step);
  writeFileSync(`${file}.tmp`, writeSafetensors(modelEntries(net)));
  renameSync(`${file}.tmp`, file);
}

function save(name: string, net: Module, adam: CheckpointedAdam, state: TrainState): void {
  mkdirSync(CACHE, { recursive: true });
  const entries = modelEntries(net);
  for (const [k, m] of adam.m) entries.set(`adam_m.${k}`, { values: m, shape: [m.length] });
  for (const [k, v] of adam.v) entries.set(`adam_v.${k}`, { values: v, shape: [v.length] });
  const p = checkpointPaths(name);
  writeFileSync(`${p.weights}.tmp`, writeSafetensors(entries));
  writeFileSync(`${p.state}.tmp`, JSON.stringify(state));
  // weights first, then the state that names their step; each rename is atomic
  for (const f of [p.weights, p.state]) renameSync(`${f}.tmp`, f);
}

function load(name: string, net: Module, adam: CheckpointedAdam): TrainState | null {
  const p = checkpointPaths(name);
  if (!existsSync(p.weights) || !existsSync(p.state)) return null;
  const state = JSON.parse(readFileSync(p.state, "utf8")) as TrainState;
  if (!state.schedule || !sameSchedule(state.schedule, SCHEDULE))
    throw new Error(
      `${name}: the checkpoint in ${CACHE} was trained with schedule ${JSON.stringify(state.schedule ?? "none")}, ` +
        `this run asks for ${JSON.stringify(SCHEDULE)}; resume with --steps ${state.schedule?.total ?? "(its total)"}, ` +
        `or delete ${CACHE}/${name}.* to start over`,
    );
  loadModel(net, p.weights);
  const f = readSafetensors(new Uint8Array(readFileSync(p.weights)));
  for (const [k, v] of f) {
    if (k.startsWith("adam_m.")) adam.m.set(k.slice(7), Float32Array.from(v.values));
    if (k.startsWith("adam_v.")) adam.v.set(k.slice(7), Float32Array.from(v.values));
  }
  adam.t = state.step;
  return state;
}

async function train(c: Contender, net: Module, images: RgbImage[]): Promise<TrainState> {
  const adam = new CheckpointedAdam(0);
  const state = (RESUME && load(c.name, net, adam)) || {
    step: 0,
    seconds: 0,
    losses: [],
    schedule: SCHEDULE,
  };
  const before = state.seconds;
  const params = net.namedParameters();
  const vars = params.map(([, v]) => v);
  const t0 = performance.now();
  const startStep = state.step;
  let block = 0;
  while (state.step < STEPS && (performance.now() - t0) / 60000 < MAX_MINUTES) {
    // the batch stream depends only on the step, so a resumed run sees what an unbroken one would
    const rng = new Random(1000 + state.step + SEED * 10_000_000);
    const { lr, hr } = batch(images, rng);
    const loss = tidy(() => {
      const { value, grads } = variableGrads(() => mean(abs(sub(c.run(net, lr), hr))), vars);
      adam.step(params, grads, learningRate(SCHEDULE, state.step));
      return value.dataSync()[0];
    });
    lr.dispose();
    hr.dispose();
    block += loss;
    state.step++;
    if (SNAPSHOTS.includes(state.step)) saveSnapshot(c.name, net, state.step);
    if (state.step % 25 === 0) {
      state.losses.push(block / 25);
      block = 0;
      state.seconds = before + (performance.now() - t0) / 1000;
      save(c.name, net, adam, state);
      const sPerStep = (performance.now() - t0) / 1000 / (state.step - startStep);
      console.log(
        `${c.name}: step ${state.step}, L1 ${state.losses.at(-1)!.toFixed(4)}, lr ${learningRate(SCHEDULE, state.step - 1).toExponential(2)}, ${sPerStep.toFixed(2)} s/step`,
      );
    }
  }
  state.seconds = before + (performance.now() - t0) / 1000;
  save(c.name, net, adam, state);
  return state;
}

type Windows = Record<string, Record<string, [number, number, number]>>;

async function evaluate(
  name: string,
  run: (x: Tensor) => Tensor,
  windows: Windows,
): Promise<Evaluation> {
  const out: Evaluation = { psnr: {}, di: {} };
  for (const image of HELD_OUT) {
    const images = lamImagesFromHr(join(ROOT, "assets/photos", `${image}.png`), SCALE, EVAL_CROP);
    try {
      const [, , h, w] = images.lr.shape;
      const H = h * SCALE;
      const W = w * SCALE;
      const sr = tidy(() => clamp(run(images.lr), 0, 1).dataSync());
      const hr = images.hr!;
      const planar = new Float64Array(3 * H * W);
      for (let p = 0; p < H * W; p++)
        for (let ch = 0; ch < 3; ch++) planar[ch * H * W + p] = hr.data[p * 3 + ch];
      out.psnr[image] = psnr(
        Float64Array.from(sr, (v) => Math.round(255 * v)),
        planar,
        H,
        W,
        { shave: SCALE },
      );
      out.di[image] = {};
      for (const [label, [x, y, size]] of Object.entries(windows[image])) {
        const window: LamWindow = { x, y, size };
        const r = await runLamOn({ name, scale: SCALE, run, parameters: 0 }, images, {
          window,
          fold: FOLD,
        });
        out.di[image][label] = r.summary.diffusion_index as number;
      }
    } finally {
      images.lr.dispose();
    }
  }
  return out;
}

/** Each snapshot's evaluation, cached per snapshot and fold (a rerun evaluates only what is missing). */
async function evaluateSnapshots(
  c: Contender,
  state: TrainState,
  windows: Windows,
): Promise<SnapshotEvaluation[]> {
  const out: SnapshotEvaluation[] = [];
  for (const step of SNAPSHOTS.filter((s) => existsSync(snapshotPath(c.name, s)))) {
    const cached = evalPath(c.name, step);
    if (existsSync(cached)) {
      out.push({ step, ev: JSON.parse(readFileSync(cached, "utf8")) as Evaluation });
      continue;
    }
    const net = c.build();
    loadModel(net, snapshotPath(c.name, step));
    net.eval();
    console.log(`${c.name}: evaluating the step-${step} snapshot (PSNR, LAM fold ${FOLD})`);
    const t0 = performance.now();
    const ev = await evaluate(c.name, (x) => c.run(net, x), windows);
    console.log(
      `${c.name}: step ${step} evaluated in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    writeFileSync(cached, JSON.stringify(ev));
    out.push({ step, ev });
  }
  if (out.length === 0) {
    // training stopped before the first snapshot: the latest checkpoint stands in (not cached)
    const net = c.build();
    loadModel(net, checkpointPaths(c.name).weights);
    net.eval();
    console.log(`${c.name}: no snapshot yet, evaluating the step-${state.step} checkpoint`);
    out.push({ step: state.step, ev: await evaluate(c.name, (x) => c.run(net, x), windows) });
  }
  return out;
}

/** Cached snapshot evaluations (same steps and fold) of the other seeds' folders, if any. */
function otherSeeds(): OtherSeed[] {
  const root = join(ROOT, ".cache/attention-study");
  const out: OtherSeed[] = [];
  for (const dir of existsSync(root) ? readdirSync(root) : []) {
    const m = /^cosine-seed(\d+)$/.exec(dir);
    if (!m || Number(m[1]) === SEED) continue;
    const rows = CONTENDERS.map((c) => ({
      name: c.name,
      snapshots: SNAPSHOTS.flatMap((step) => {
        const f = join(root, dir, `${c.name}.step${step}.fold${FOLD}.eval.json`);
        return existsSync(f)
          ? [{ step, ev: JSON.parse(readFileSync(f, "utf8")) as Evaluation }]
          : [];
      }),
    }));
    out.push({ seed: Number(m[1]), rows });
  }
  return out.sort((a, b) => a.seed - b.seed);
}

function loadState(c: Contender): TrainState | null {
  const p = checkpointPaths(c.name).state;
  return existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as TrainState) : null;
}

async function main(): Promise<void> {
  const windows = JSON.parse(
    readFileSync(join(ROOT, "docs/zoo-study-x2-windows.json"), "utf8"),
  ) as Windows;
  const images = trainingImages();
  console.log(`training images: ${images.map((i) => i.name).join(", ")}`);
  console.log(`schedule ${JSON.stringify(SCHEDULE)}, snapshots at steps ${SNAPSHOTS.join(", ")}`);
  const selected = CONTENDERS.filter((c) => !MODELS || MODELS.includes(c.name));
  const states = new Map<string, TrainState>();
  for (const c of selected) states.set(c.name, await train(c, c.build(), images));
  if (TRAIN_ONLY) return;
  const rows: StudyRow[] = [];
  for (const c of selected) {
    const state = states.get(c.name) ?? loadState(c)!;
    const snapshots = await evaluateSnapshots(c, state, windows);
    rows.push({ name: c.name, note: c.note, params: c.build().parameterCount(), state, snapshots });
  }
  if (selected.length < CONTENDERS.length) {
    console.log("evaluated; run without --models (with --resume) to write the report");
    return;
  }
  const bicubic = await evaluate(
    "bicubic",
    (x) => resize(x, [x.shape[2] * SCALE, x.shape[3] * SCALE], { mode: "bicubic" }),
    { coffee: {}, rocket: {} },
  );
  const setup: StudySetup = {
    batch: BATCH,
    patch: PATCH,
    scale: SCALE,
    evalCrop: EVAL_CROP,
    fold: FOLD,
    heldOut: HELD_OUT,
    trainNames: images.map((i) => i.name),
    schedule: SCHEDULE,
    snapshotSteps: SNAPSHOTS,
    seed: SEED,
  };
  writeFileSync(resolve(ROOT, OUT), attentionReport(setup, rows, bicubic, otherSeeds()));
  console.log(`wrote ${OUT}`);
}

await main();
