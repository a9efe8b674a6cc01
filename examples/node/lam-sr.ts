/**
 * LAM (local attribution maps) of two super-resolution models from the library on a bundled
 * photograph: bicubic interpolation and the bundled FSRCNN x2. Which low-resolution pixels did
 * each use to rebuild a 16 x 16 window of its output? Prints one JSON line with the Gini index,
 * the diffusion index (DI: larger means a wider spread) and the map's support for each model,
 * and saves the LAM panels of FSRCNN. No UpscalerJS package needed.
 * Run from a project with salient installed: npx tsc && node examples/node/lam-sr.js
 */
import {
  diffusionIndex,
  fsrcnnRgb,
  gini,
  type LamWindow,
  lam,
  lamPanels,
  loadFsrcnnX2,
  resize,
  type SrModel,
  slice,
  type Tensor,
  tensor,
  tidy,
  toRgb,
} from "salient";
import { assetPath, readImage, writePng } from "salient/node";

const SCALE = 2;
// A 64 x 64 crop of the astronaut photograph (128 x 128) around the face, and its LR version
// (32 x 32, antialiased bicubic downscale as in the LAM paper).
const photo = readImage(assetPath("photos", "astronaut.png"), 3);
const { hr, lr } = tidy(() => {
  const full = tensor(photo.data, [1, 3, photo.height, photo.width]);
  const crop = slice(full, [0, 0, 16, 32], [1, 3, 64, 64]);
  return { hr: crop.dataSync().slice(), lr: resize(crop, [32, 32], { mode: "antialias-bicubic" }) };
});
const [, , h, w] = lr.shape as [number, number, number, number];
// The window, in SR pixels: 16 x 16 at (24, 24) of the 64 x 64 output.
const window: LamWindow = { x: 24, y: 24, size: 16 };

const fsrcnn = loadFsrcnnX2();
const models: Record<string, SrModel> = {
  bicubic: (x: Tensor) =>
    resize(x, [x.shape[2]! * SCALE, x.shape[3]! * SCALE], { mode: "bicubic" }),
  "fsrcnn-x2": fsrcnnRgb(fsrcnn),
};

const results = [];
for (const [name, model] of Object.entries(models)) {
  const result = await lam(model, lr, { window });
  const map = result.map.dataSync();
  const panels = lamPanels({
    hr: toRgb(hr, 3, h * SCALE, w * SCALE),
    lr: lr.dataSync(),
    map,
    height: h,
    width: w,
    scale: SCALE,
    window,
  });
  // Support: LR pixels whose normalised attribution is not zero (above float noise).
  const support = panels.absNorm.filter((v) => v > 1e-6).length;
  results.push({
    model: name,
    gini: gini(panels.absNorm),
    diffusionIndex: diffusionIndex(panels.absNorm),
    support,
    lrPixels: h * w,
    delta: result.delta,
  });
  if (name === "fsrcnn-x2") writePng("lam-fsrcnn-x2.png", panels.grid);
  result.map.dispose();
}
console.log(JSON.stringify({ window, scale: SCALE, results, panels: "lam-fsrcnn-x2.png" }));
lr.dispose();
