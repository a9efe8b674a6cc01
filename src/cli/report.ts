/**
 * `salient demo`: the main job on bundled defaults. LAM of the bundled SR models on a bundled
 * photograph, and the attribution gallery of the bundled Fashion-MNIST classifier, written to an
 * HTML report (salient-report/index.html) that opens in a browser.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FASHION_CLASSES } from "../models/classifiers/fashion-cnn.ts";
import { loadFashionMnist } from "../models/data/fashion-mnist-node.ts";
import { encodePng } from "../viz/image-io-node.ts";
import { toRgb } from "../viz/overlay.ts";
import { runGallery } from "./attribute.ts";
import { runLamOn } from "./lam.ts";
import { lamImagesFromHr } from "./lam-images.ts";
import { resolveSrModel } from "./sr-models.ts";

/**
 * The bundled photographs live in assets/ at the package root: one level up from the bundled
 * dist/cli.js, two levels up from src/cli/ when run from source (tests).
 */
export function assetPath(...parts: string[]): string {
  const candidates = [join("..", "assets", ...parts), join("..", "..", "assets", ...parts)].map(
    (p) => fileURLToPath(new URL(p, import.meta.url)),
  );
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      `bundled asset ${parts.join("/")} not found (looked in ${candidates.join(", ")})`,
    );
  return found;
}

export interface DemoOptions {
  out: string;
  photo: string;
  /** Window in HR pixels. */
  window: { x: number; y: number; size: number };
  models: string[];
  fold: number;
  methods: string[];
  log: (line: string) => void;
}

export const DEMO_DEFAULTS: Omit<DemoOptions, "out" | "log"> = {
  photo: "astronaut",
  // The left eye and brow of the astronaut crop (HR 128x128, LR 32x32).
  window: { x: 40, y: 44, size: 16 },
  models: ["bicubic", "esrgan-slim", "esrgan-medium"],
  fold: 50,
  methods: [
    "gradient",
    "guided-backprop",
    "gradcam",
    "integrated-gradients",
    "smoothgrad",
    "occlusion",
    "rise",
  ],
};

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export async function runReport(o: DemoOptions): Promise<string> {
  mkdirSync(o.out, { recursive: true });
  const rows: string[] = [];
  const figures: string[] = [];
  const images = lamImagesFromHr(assetPath("photos", `${o.photo}.png`), 4);
  try {
    for (const name of o.models) {
      const model = resolveSrModel({ model: name, scale: 4 });
      o.log(
        `LAM: ${model.name} (${model.parameters} parameters), window ${JSON.stringify(o.window)}, fold ${o.fold}`,
      );
      const run = await runLamOn(model, images, { window: o.window, fold: o.fold, progress: true });
      const file = `lam-${name}.png`;
      writeFileSync(join(o.out, file), run.png);
      const s = run.summary as Record<string, number>;
      o.log(
        `  DI ${s.diffusion_index.toFixed(2)}, Gini ${s.gini.toFixed(4)}, delta ${s.delta.toExponential(2)}, ${s.seconds} s`,
      );
      rows.push(
        `<tr><td>${esc(model.name)}</td><td>${model.parameters}</td><td>${s.diffusion_index.toFixed(2)}</td><td>${s.gini.toFixed(4)}</td><td>${s.pixels_95}</td><td>${s.delta.toExponential(2)}</td><td>${s.seconds}</td></tr>`,
      );
      figures.push(
        `<figure><img src="${file}" width="${4 * 128 + 12}"><figcaption>${esc(model.name)}: DI ${s.diffusion_index.toFixed(2)}</figcaption></figure>`,
      );
    }
  } finally {
    images.lr.dispose();
  }

  // The classifier gallery on the first test image of a few classes.
  const test = loadFashionMnist("test");
  const galleries: string[] = [];
  for (const cls of [0, 7, 9]) {
    let i = 0;
    while (test.labels[i] !== cls) i++;
    const px = test.images.subarray(i * 784, (i + 1) * 784);
    const img = toRgb(
      Float32Array.from(px, (v) => v / 255),
      1,
      28,
      28,
    );
    const file = join(o.out, `fashion-${i}.png`);
    writeFileSync(file, encodePng(img));
    o.log(`gallery: Fashion-MNIST test image ${i} (${FASHION_CLASSES[cls]})`);
    await runGallery(
      [
        "--model",
        "fashion-cnn",
        "--image",
        file,
        "--methods",
        o.methods.join(","),
        "--out",
        join(o.out, `gallery-${i}`),
      ],
      (line) => o.log(`  ${line}`),
    );
    galleries.push(
      `<h3>${esc(FASHION_CLASSES[cls])} (test image ${i})</h3><img src="gallery-${i}.png" style="image-rendering:pixelated;max-width:100%"><p>input | ${o.methods.map(esc).join(" | ")} (<a href="gallery-${i}.html">captions and timings</a>)</p>`,
    );
  }

  const html = `<!doctype html><meta charset="utf-8"><title>salient report</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}figure{margin:1em 0}</style>
<h1>salient report</h1>
<h2>LAM: which LR pixels each SR network used for the red window</h2>
<p>Photograph: ${esc(o.photo)} (128x128 HR, 32x32 LR by PIL-bicubic downscale), x4, window ${JSON.stringify(o.window)},
progressive-blur path (sigma 1.2, fold ${o.fold}, l 9), gradient-magnitude detector. DI = (1 - Gini) x 100: larger means more LR pixels involved.</p>
<table><tr><th>model</th><th>parameters</th><th>DI</th><th>Gini</th><th>pixels for 95% mass</th><th>completeness delta</th><th>seconds</th></tr>${rows.join("")}</table>
${figures.join("\n")}
<h2>Attribution methods on the bundled Fashion-MNIST classifier</h2>
${galleries.join("\n")}
<p><small>Generated by salient demo.</small></p>`;
  const index = join(o.out, "index.html");
  writeFileSync(index, html);
  return index;
}
