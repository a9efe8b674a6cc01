/**
 * Trains FSRCNN x2 (d 56, s 12, m 4; luminance) with salient's own engine on patches of real
 * photographs, and writes src/models/weights/fsrcnn-x2.safetensors plus its inlined base64 twin
 * fsrcnn-x2.weights.ts with the measured PSNR against bicubic upscaling on held-out images.
 *
 * Data: scikit-image's sample photographs (apt-get install -y python3-skimage puts them in
 * /usr/lib/python3/dist-packages/skimage/data). coffee.png and chelsea.png are held out (never
 * seen in training) for evaluation. Recipe: MSE on the Y channel (BT.601, [16, 235]/255), LR
 * patches 16x16 made by antialiased bicubic downscaling of random 32x32 crops (random mirror),
 * batch 16, Adam with cosine decay from 1e-3 (200 warm-up steps), seed 0.
 *
 * Run: npx esbuild scripts/train/fsrcnn.ts --bundle --platform=node --format=esm \
 *        --packages=external --outfile=dist/train-fsrcnn.mjs
 *      node dist/train-fsrcnn.mjs [steps] [image dir] [initial weights.safetensors]
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { variableGrads } from "../../src/autodiff/grad.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { readSafetensors, writeSafetensors } from "../../src/models/io/safetensors.ts";
import { mse } from "../../src/models/train/losses.ts";
import { Adam } from "../../src/models/train/optim.ts";
import { cosineSchedule } from "../../src/models/train/schedule.ts";
import {
  downscale,
  type GreyImage,
  greyTensor,
  modcrop,
  psnr,
  randomPatches,
  rgbToY,
} from "../../src/models/train/sr-data.ts";
import { Fsrcnn } from "../../src/models/zoo/fsrcnn.ts";
import { resize } from "../../src/ops/resize.ts";
import { Random } from "../../src/random.ts";
import { readImage } from "../../src/viz/image-io-node.ts";

const steps = Number(process.argv[2] ?? 3000);
const dir = process.argv[3] || "/usr/lib/python3/dist-packages/skimage/data";
/** Optional: continue from these weights (a previous run's safetensors) with a fresh schedule. */
const init = process.argv[4];
const SCALE = 2;
const PATCH = 16;
const BATCH = 16;
const TRAIN = [
  "astronaut.png",
  "camera.png",
  "rocket.jpg",
  "brick.png",
  "grass.png",
  "gravel.png",
  "motorcycle_left.png",
  "hubble_deep_field.jpg",
  "ihc.png",
  "coins.png",
  "moon.png",
  "page.png",
  "text.png",
  "retina.jpg",
];
const HELD_OUT = ["coffee.png", "chelsea.png"];

function luma(file: string): GreyImage {
  const path = join(dir, file);
  if (!existsSync(path)) throw new Error(`${path} is missing (apt-get install -y python3-skimage)`);
  return rgbToY(readImage(path, 3));
}

const train = TRAIN.map(luma);
const model = new Fsrcnn(SCALE, { seed: 0 });
if (init) model.loadStateDict(readSafetensors(new Uint8Array(readFileSync(init)), init));
const rng = new Random(0);
const opt = new Adam(1e-3);
const schedule = cosineSchedule(1e-3, steps, {
  warmup: Math.min(200, Math.floor(steps / 10)),
  floor: 1e-5,
});
console.log(
  `FSRCNN x${SCALE}: ${model.parameterCount()} parameters, ${train.length} training photos, ${steps} steps`,
);

/** PSNR (Y, shave = scale) of FSRCNN and of bicubic upscaling on one held-out photograph. */
function evaluate(img: GreyImage): { fsrcnn: number; bicubic: number } {
  const hr = modcrop(img, SCALE);
  return tidy(() => {
    const lr = downscale(greyTensor(hr), SCALE);
    const sr = model.call(lr).dataSync();
    const bic = resize(lr, [hr.height, hr.width], { mode: "bicubic" }).dataSync();
    const o = { shave: SCALE };
    return {
      fsrcnn: psnr(sr, hr.data, hr.height, hr.width, o),
      bicubic: psnr(bic, hr.data, hr.height, hr.width, o),
    };
  });
}

const t0 = performance.now();
let window = 0;
model.train();
for (let step = 0; step < steps; step++) {
  opt.lr = schedule(step);
  const loss = tidy(() => {
    const hr = randomPatches(train, BATCH, PATCH * SCALE, rng);
    const lr = downscale(hr, SCALE);
    const { value, grads } = variableGrads(() => mse(model.call(lr), hr));
    opt.step(grads);
    return value.dataSync()[0];
  });
  window += loss;
  if ((step + 1) % 100 === 0) {
    const min = ((performance.now() - t0) / 60000).toFixed(1);
    console.log(`step ${step + 1}/${steps} mse ${(window / 100).toExponential(3)} (${min} min)`);
    window = 0;
  }
}
model.eval();
const minutes = (performance.now() - t0) / 60000;
const results = HELD_OUT.map((f) => ({ file: f, ...evaluate(luma(f)) }));
for (const r of results) {
  console.log(
    `${r.file}: FSRCNN ${r.fsrcnn.toFixed(2)} dB, bicubic ${r.bicubic.toFixed(2)} dB (Y, shave ${SCALE})`,
  );
}

const tensors = new Map(
  [...model.stateDict()].map(([k, v]) => [
    k,
    { shape: [...v.shape], values: v.dataSync() as Float32Array },
  ]),
);
const summary = results
  .map((r) => `${r.file} ${r.fsrcnn.toFixed(2)} dB vs bicubic ${r.bicubic.toFixed(2)} dB`)
  .join("; ");
const bytes = writeSafetensors(tensors, {
  arch: "FSRCNN",
  scale: String(SCALE),
  config: "d56 s12 m4, Y channel in [0, 1]",
  recipe: `Adam bs${BATCH} LR patch ${PATCH} ${steps} steps cosine 1e-3 warmup ${Math.min(200, Math.floor(steps / 10))}, MSE, seed 0${init ? `, continued from ${init}` : ""}; data: skimage ${TRAIN.join(" ")}`,
  held_out_psnr: summary,
});
const out = join(process.cwd(), "src/models/weights");
writeFileSync(join(out, "fsrcnn-x2.safetensors"), bytes);
writeFileSync(
  join(out, "fsrcnn-x2.weights.ts"),
  `/**
 * GENERATED by scripts/train/fsrcnn.ts: the bytes of fsrcnn-x2.safetensors as base64.
 * FSRCNN x2 (d 56, s 12, m 4) trained with salient's engine on ${TRAIN.length} scikit-image photographs
 * (${steps} Adam steps${init ? " continuing an earlier run" : ""}, batch ${BATCH} of ${PATCH}x${PATCH} LR patches, MSE on Y), ${minutes.toFixed(0)} min on the CPU backend.
 * Held-out PSNR (Y, ${SCALE}-pixel border shaved): ${summary}.
 */
export const FSRCNN_X2_HELD_OUT = ${JSON.stringify(results.map((r) => ({ file: r.file, fsrcnn: +r.fsrcnn.toFixed(3), bicubic: +r.bicubic.toFixed(3) })))};
export const FSRCNN_X2_SAFETENSORS_BASE64 =
  "${Buffer.from(bytes).toString("base64")}";
`,
);
console.log(`trained in ${minutes.toFixed(1)} min; wrote ${bytes.length} bytes of weights`);
