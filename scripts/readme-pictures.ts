/**
 * The README's pictures, made with the library's public entry points ("salient" and
 * "salient/node", here their sources):
 * - docs/img/lam-panel.png: LAM of the bundled FSRCNN x2 on the bundled astronaut photo, window on
 *   the left eye: HR with window | LAM map | map over the LR image | KDE view over the LR image;
 * - docs/img/gallery.png: attribution methods on the bundled Fashion-MNIST classifier, one row per
 *   bundled test image (T-shirt, sneaker, ankle boot): input | gradient | guided backprop |
 *   integrated gradients | SmoothGrad | Grad-CAM | occlusion.
 * Run (about 20 s):
 *   npx esbuild scripts/readme-pictures.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=dist/readme-pictures.mjs && node dist/readme-pictures.mjs
 */
import { mkdirSync } from "node:fs";
import * as s from "../src/index.ts";
import { assetPath, readImage, writePng } from "../src/node.ts";

const OUT = "docs/img";

/** Rows of RGB images stacked top to bottom with white gaps (rows as wide as the widest). */
function stackRows(rows: s.RgbImage[], gap = 6): s.RgbImage {
  const width = Math.max(...rows.map((r) => r.width));
  const height = rows.reduce((a, r) => a + r.height, 0) + gap * (rows.length - 1);
  const data = new Uint8Array(width * height * 3).fill(255);
  let y0 = 0;
  for (const r of rows) {
    for (let y = 0; y < r.height; y++)
      data.set(r.data.subarray(y * r.width * 3, (y + 1) * r.width * 3), (y0 + y) * width * 3);
    y0 += r.height + gap;
  }
  return { width, height, data };
}

async function lamPanel(): Promise<void> {
  const scale = 2;
  const photo = readImage(assetPath("photos", "astronaut.png")); // [3, 128, 128] in [0, 1]
  const [H, W] = [photo.height, photo.width];
  const [h, w] = [H / scale, W / scale];
  // The LR image as LAM_Demo makes it: PIL's bicubic downscale.
  const lr = s.tidy(() =>
    s.resize(s.tensor(photo.data, [1, 3, H, W]), [h, w], { mode: "antialias-bicubic" }),
  );
  const model = s.fsrcnnRgb(s.loadFsrcnnX2());
  const window = { x: 40, y: 44, size: 16 }; // SR pixels: the left eye
  const t0 = performance.now();
  const result = await s.lam(model, lr, { window });
  const map = await result.map.data();
  const panels = s.lamPanels({
    hr: s.toRgb(photo.data, 3, H, W),
    lr: await lr.data(),
    map,
    height: h,
    width: w,
    scale,
    window,
  });
  writePng(`${OUT}/lam-panel.png`, s.enlarge(panels.grid, 2));
  console.log(
    `lam-panel.png: fsrcnn-x2, DI ${s.diffusionIndex(panels.absNorm).toFixed(2)}, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  result.map.dispose();
  lr.dispose();
}

async function gallery(): Promise<void> {
  const net = s.loadBundledClassifier("fashion-cnn");
  const model = (x: s.Tensor) => net.call(x);
  const layer = "features.4"; // the second ReLU, 14 x 14
  const methods: [string, (x: s.Tensor, t: number) => Promise<s.Attribution>, s.SignMode][] = [
    ["gradient", (x, t) => s.gradient(model, x, t, { abs: true }), "absolute"],
    ["guided backprop", (x, t) => s.guidedBackprop(model, x, t), "absolute"],
    ["integrated gradients", (x, t) => s.integratedGradients(model, x, t), "all"],
    [
      "SmoothGrad",
      (x, t) => s.smoothGrad(s.gradient, model, x, t, { samples: 25, seed: 0 }),
      "absolute",
    ],
    ["Grad-CAM", (x, t) => s.gradCam(model, x, t, { layer }), "positive"],
    ["occlusion", (x, t) => s.occlusion(model, x, t, { window: 5, stride: 1 }), "all"],
  ];
  const rows: s.RgbImage[] = [];
  for (const file of ["test-19.png", "test-9.png", "test-0.png"]) {
    const img = readImage(assetPath("fashion-mnist", file), 1); // [1, 28, 28] in [0, 1]
    const x = s.tensor(img.data, [1, 1, 28, 28]);
    const logits = await model(x).data();
    const top = logits.indexOf(Math.max(...logits));
    const base = s.toRgb(img.data, 1, 28, 28);
    const panels: s.Panel[] = [{ title: "input", image: s.enlarge(base, 4) }];
    for (const [title, run, sign] of methods) {
      const r = await run(x, top);
      const heat = s.heatmap(await r.map.data(), r.map.shape[1], 28, 28, { sign });
      panels.push({ title, image: s.enlarge(s.blend(base, heat, 0.6), 4) });
      r.map.dispose();
    }
    rows.push(s.galleryStrip(panels));
    console.log(`gallery: ${file} -> ${s.FASHION_CLASSES[top]}`);
    x.dispose();
  }
  writePng(`${OUT}/gallery.png`, stackRows(rows));
}

mkdirSync(OUT, { recursive: true });
await lamPanel();
await gallery();
