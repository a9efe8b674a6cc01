/**
 * Controlled study: does attention widen the pixels an SR network uses, at equal size, data and
 * training? An EDSR-style CNN, a SwinIR-style and a HAT-style x2 network of (nearly) equal
 * parameter count are trained on the same RGB patches with the same optimiser, batch and steps,
 * then compared on held-out photos: PSNR, and LAM's diffusion index on labelled edge / texture /
 * flat windows (docs/zoo-study-x2-windows.json). Writes docs/attention-study.md.
 *
 * Resumable: each model's weights, Adam moments and step count are checkpointed under
 * .cache/attention-study/; `--resume` continues from there up to `--steps` (total per model).
 *
 *   npm run study:attention -- [--steps 250] [--resume] [--max-minutes M] [--fold 20] [--out FILE.md]
 *
 * --max-minutes bounds each model's training in this run (it stops early, checkpointed, and a
 * later --resume continues); --out writes the report elsewhere (default docs/attention-study.md).
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

// npm runs scripts in the package root (the bundle lives in dist/, so not relative to this file)
const ROOT = process.cwd();
const CACHE = join(ROOT, ".cache/attention-study");
const SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data";
const HELD_OUT = ["coffee", "rocket"];
const SCALE = 2;
const PATCH = 32; // HR patch; LR 16x16 = 2 x 2 windows of 8
const BATCH = 8;
const LR_RATE = 1e-3;
const EVAL_CROP = 80; // the zoo study's crop: LR 40x40, windows in HR pixels of the crop

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!(v > 0))
    throw new Error(`--${name} must be a positive number, got "${process.argv[i + 1]}"`);
  return v;
}
const STEPS = Math.floor(flag("steps", 250));
const MAX_MINUTES = flag("max-minutes", 1e9);
const FOLD = Math.floor(flag("fold", 20));
const RESUME = process.argv.includes("--resume");
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
        seed: 0,
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
        seed: 0,
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
        seed: 0,
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
  constructor(
    public t: number,
    readonly lr: number,
  ) {}
  step(params: [string, Variable][], grads: Map<Variable, Tensor>): void {
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
        w[i] -= (this.lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-8);
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
}

function checkpointPaths(name: string) {
  return { weights: join(CACHE, `${name}.safetensors`), state: join(CACHE, `${name}.json`) };
}

function save(name: string, net: Module, adam: CheckpointedAdam, state: TrainState): void {
  mkdirSync(CACHE, { recursive: true });
  const entries = new Map<string, { values: Float32Array; shape: number[] }>();
  for (const [k, v] of net.stateDict())
    entries.set(`model.${k}`, { values: Float32Array.from(v.dataSync()), shape: [...v.shape] });
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
  const f = readSafetensors(new Uint8Array(readFileSync(p.weights)));
  const model = new Map(
    [...f].filter(([k]) => k.startsWith("model.")).map(([k, v]) => [k.slice(6), v]),
  );
  net.loadStateDict(model);
  for (const [k, v] of f) {
    if (k.startsWith("adam_m.")) adam.m.set(k.slice(7), Float32Array.from(v.values));
    if (k.startsWith("adam_v.")) adam.v.set(k.slice(7), Float32Array.from(v.values));
  }
  const state = JSON.parse(readFileSync(p.state, "utf8")) as TrainState;
  adam.t = state.step;
  return state;
}

async function train(c: Contender, net: Module, images: RgbImage[]): Promise<TrainState> {
  const adam = new CheckpointedAdam(0, LR_RATE);
  const state = (RESUME && load(c.name, net, adam)) || { step: 0, seconds: 0, losses: [] };
  const before = state.seconds;
  const params = net.namedParameters();
  const vars = params.map(([, v]) => v);
  const t0 = performance.now();
  let block = 0;
  while (state.step < STEPS && (performance.now() - t0) / 60000 < MAX_MINUTES) {
    // the batch stream depends only on the step, so a resumed run sees what an unbroken one would
    const rng = new Random(1000 + state.step);
    const { lr, hr } = batch(images, rng);
    const loss = tidy(() => {
      const { value, grads } = variableGrads(() => mean(abs(sub(c.run(net, lr), hr))), vars);
      adam.step(params, grads);
      return value.dataSync()[0];
    });
    lr.dispose();
    hr.dispose();
    block += loss;
    state.step++;
    if (state.step % 25 === 0) {
      state.losses.push(block / 25);
      block = 0;
      state.seconds = before + (performance.now() - t0) / 1000;
      save(c.name, net, adam, state);
      console.log(`${c.name}: step ${state.step}, L1 ${state.losses.at(-1)!.toFixed(4)}`);
    }
  }
  state.seconds = before + (performance.now() - t0) / 1000;
  save(c.name, net, adam, state);
  return state;
}

type Windows = Record<string, Record<string, [number, number, number]>>;

interface Evaluation {
  psnr: Record<string, number>;
  di: Record<string, Record<string, number>>;
}

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

/** Whether DI and PSNR order the models the same way, in words (3 models: no test of significance). */
function spearmanSign(di: number[], ps: number[]): string {
  const rank = (v: number[]) => v.map((x) => v.filter((y) => y < x).length);
  const a = rank(di);
  const b = rank(ps);
  const same = a.every((r, i) => r === b[i]);
  const reversed = a.every((r, i) => r === a.length - 1 - b[i]);
  if (same) return "Here the wider-spreading networks also have the higher PSNR.";
  if (reversed) return "Here the order is reversed: the wider the spread, the lower the PSNR.";
  return "DI and PSNR order the networks differently, with no consistent relation.";
}

const avg = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

async function main(): Promise<void> {
  const windows = JSON.parse(
    readFileSync(join(ROOT, "docs/zoo-study-x2-windows.json"), "utf8"),
  ) as Windows;
  const images = trainingImages();
  console.log(`training images: ${images.map((i) => i.name).join(", ")}`);
  const rows: { c: Contender; params: number; state: TrainState; ev: Evaluation }[] = [];
  for (const c of CONTENDERS) {
    const net = c.build();
    const state = await train(c, net, images);
    net.eval();
    console.log(`${c.name}: evaluating (PSNR, LAM fold ${FOLD})`);
    const ev = await evaluate(c.name, (x) => c.run(net, x), windows);
    rows.push({ c, params: net.parameterCount(), state, ev });
  }
  const bicubic = await evaluate(
    "bicubic",
    (x) => resize(x, [x.shape[2] * SCALE, x.shape[3] * SCALE], { mode: "bicubic" }),
    {
      coffee: {},
      rocket: {},
    },
  );
  writeFileSync(
    resolve(ROOT, OUT),
    report(
      rows,
      bicubic,
      images.map((i) => i.name),
    ),
  );
  console.log(`wrote ${OUT}`);
}

function report(
  rows: { c: Contender; params: number; state: TrainState; ev: Evaluation }[],
  bicubic: Evaluation,
  trainNames: string[],
): string {
  const labels = ["edge", "texture", "flat"];
  const diOf = (ev: Evaluation, label: string) => avg(HELD_OUT.map((i) => ev.di[i][label]));
  const psnrOf = (ev: Evaluation) => avg(HELD_OUT.map((i) => ev.psnr[i]));
  const fmt = (v: number, d = 2) => v.toFixed(d);
  const lines = [
    "# Does attention widen the pixels an SR network uses? A controlled x2 study",
    "",
    "Generated by `npm run study:attention` (scripts/study/attention.ts); continue training with",
    "`npm run study:attention -- --steps N --resume` (checkpoints in .cache/attention-study/).",
    "",
    "## Setup",
    "",
    `- Three x2 networks of nearly equal size, same data, optimiser (Adam, lr ${LR_RATE}), batch (${BATCH} RGB HR patches of ${PATCH}x${PATCH}, LR by antialiased bicubic), loss (L1) and step count; seed 0:`,
    ...rows.map((r) => `  - **${r.c.name}**: ${r.c.note}; ${r.params} parameters.`),
    `- Training images: ${trainNames.join(", ")}. Held out: ${HELD_OUT.join(", ")} (never trained on).`,
    `- Evaluation: ${EVAL_CROP}x${EVAL_CROP} centre crops of the held-out photos (LR ${EVAL_CROP / SCALE}x${EVAL_CROP / SCALE}); PSNR on luma Y (BT.601, 8-bit), shave ${SCALE}; LAM (blur path, fold ${FOLD}) diffusion index on the edge / texture / flat windows of docs/zoo-study-x2-windows.json.`,
    "",
    "## Results",
    "",
    `| model | params | steps | train minutes | last L1 | PSNR ${HELD_OUT.join(" | PSNR ")} | mean PSNR | ${labels.map((l) => `DI ${l}`).join(" | ")} | mean DI |`,
    `|---|---|---|---|---|${HELD_OUT.map(() => "---|").join("")}---|${labels.map(() => "---|").join("")}---|`,
    ...rows.map(
      (r) =>
        `| ${r.c.name} | ${r.params} | ${r.state.step} | ${fmt(r.state.seconds / 60, 2)} | ${fmt(r.state.losses.at(-1) ?? Number.NaN, 4)} | ${HELD_OUT.map((i) => fmt(r.ev.psnr[i])).join(" | ")} | ${fmt(psnrOf(r.ev))} | ${labels.map((l) => fmt(diOf(r.ev, l))).join(" | ")} | ${fmt(avg(labels.map((l) => diOf(r.ev, l))))} |`,
    ),
    `| bicubic | 0 | - | - | - | ${HELD_OUT.map((i) => fmt(bicubic.psnr[i])).join(" | ")} | ${fmt(psnrOf(bicubic))} | - | - | - | - |`,
    "",
    "Training loss (mean L1 per 25 steps):",
    "",
    ...rows.map((r) => `- ${r.c.name}: ${r.state.losses.map((l) => l.toFixed(4)).join(", ")}`),
    "",
  ];
  const cnn = rows.find((r) => r.c.name === "edsr")!;
  const attn = rows.filter((r) => r.c.name !== "edsr");
  const meanDi = (r: (typeof rows)[number]) => avg(labels.map((l) => diOf(r.ev, l)));
  lines.push(
    "## Answers, with their limits",
    "",
    `- **Does attention widen the pixels used at equal size and training?** Mean DI: ${rows.map((r) => `${r.c.name} ${fmt(meanDi(r))}`).join(", ")}. ${attn.every((r) => meanDi(r) > meanDi(cnn)) ? "Both attention networks spread their attribution wider than the CNN here" : attn.some((r) => meanDi(r) > meanDi(cnn)) ? "Only part of the attention networks spread wider than the CNN here" : "Neither attention network spreads wider than the CNN here"}; with ${cnn.state.step} steps and six windows on two images this is a direction, not a measured effect size.`,
    `- **Does a wider spread mean better PSNR?** Mean PSNR: ${rows.map((r) => `${r.c.name} ${fmt(psnrOf(r.ev))} dB`).join(", ")} (bicubic ${fmt(psnrOf(bicubic))} dB). ${rows.every((r) => psnrOf(r.ev) < psnrOf(bicubic)) ? "No network beats bicubic interpolation yet: all are undertrained, so the PSNR ranking says how far each is from convergence (the lower training loss, the higher PSNR), not what each architecture can reach. " : ""}${spearmanSign(
      rows.map(meanDi),
      rows.map((r) => psnrOf(r.ev)),
    )}`,
    "",
    "Limits (read these before the numbers):",
    "",
    `- Each network trained ${cnn.state.step} steps of batch ${BATCH} on tiny patches, far from convergence (published models train ~500k steps on DIV2K); early in training, networks of any kind stay close to smooth interpolation and LAM measures that as much as the architecture.`,
    "- Two held-out crops and six windows: there are no error bars; a rerun with another seed could reorder close values.",
    `- The training patches are ${PATCH}x${PATCH} HR (LR ${PATCH / SCALE}x${PATCH / SCALE}): the transformers' windows (8) cover a quarter of each LR patch, so long-range attention has little to learn from; HAT's OCAB and the shifted windows reach at most ~1.5 windows.`,
    "- An attention layer that has not learned much yet attends almost uniformly within its window, which by itself spreads LAM attribution over the window: a higher DI this early can be that, not a learned use of more pixels.",
    "- Parameter counts match within a few percent, but compute does not: the attention networks cost several times the CNN's FLOPs per pixel.",
    "- The conclusion to draw is about this machinery, which is ready for a longer run (`--steps 20000 --resume`), not about attention in general.",
    "",
  );
  return lines.join("\n");
}

await main();
