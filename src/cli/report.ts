/**
 * `salient demo`: the main job on bundled defaults. LAM of the bundled SR models on a bundled
 * photograph, and the attribution gallery of the bundled Fashion-MNIST classifier, written to an
 * HTML report (salient-report/index.html) that opens in a browser.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { escapeHtml } from "../viz/html.ts";
import { didYouMean, UsageError } from "./args.ts";
import { METHODS } from "./attribute-methods.ts";
import { runGallery } from "./gallery.ts";
import { checkWindowFits, runLamOn } from "./lam.ts";
import { lamImagesFromHr } from "./lam-images.ts";
import { letSignalsIn, OutputSet, writeError } from "./output-set.ts";
import { assetPath, BUNDLED_PHOTOS } from "./package-files.ts";
import { progressBar } from "./progress.ts";
import { resolveSrModel, SR_MODEL_NAMES } from "./sr-models.ts";

const DEMO_PHOTOS = BUNDLED_PHOTOS;

export { assetPath };

/** The Fashion-MNIST test images the demo shows (shipped in assets/fashion-mnist/). */
interface DemoFashionImage {
  file: string;
  index: number;
  label: number;
  name: string;
}

function demoFashionImages(): { path: string; image: DemoFashionImage }[] {
  const list = JSON.parse(
    readFileSync(assetPath("fashion-mnist", "demo.json"), "utf8"),
  ) as DemoFashionImage[];
  return list.map((image) => ({ path: assetPath("fashion-mnist", image.file), image }));
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

/** Every setting checked before any model loads; the photo read to check the window. */
function checkDemo(o: DemoOptions): void {
  for (const m of o.models)
    if (!(SR_MODEL_NAMES as readonly string[]).includes(m))
      throw new UsageError(
        `--models: "${m}" is not a bundled SR model${didYouMean(m, SR_MODEL_NAMES, (s) => `"${s}"`)} (known: ${SR_MODEL_NAMES.join(", ")})`,
      );
  const methods = Object.keys(METHODS).filter((k) => !METHODS[k].noImage);
  for (const m of o.methods)
    if (!methods.includes(m))
      throw new UsageError(
        `--methods: "${m}" is not an image method${didYouMean(m, methods, (s) => `"${s}"`)} (known: ${methods.join(", ")})`,
      );
  if (!Number.isInteger(o.fold) || o.fold < 1)
    throw new UsageError(`--fold must be an integer >= 1, got ${o.fold}`);
}

function photoPath(photo: string): string {
  if (existsSync(photo)) return photo;
  if (!DEMO_PHOTOS.includes(photo))
    throw new UsageError(
      `--photo: "${photo}" is neither a bundled photo (${DEMO_PHOTOS.join(", ")}) nor an existing file${didYouMean(photo, DEMO_PHOTOS, (s) => `"${s}"`)}`,
    );
  return assetPath("photos", `${photo}.png`);
}

/**
 * Builds the report in a temporary folder next to `o.out` and renames it into place at the end,
 * so an error or an interrupt leaves no half-written report. Returns the path of index.html.
 */
export async function runReport(o: DemoOptions): Promise<string> {
  checkDemo(o);
  const images = lamImagesFromHr(photoPath(o.photo), 4);
  const fashion = demoFashionImages();
  const set = new OutputSet();
  let dir: string;
  try {
    const [, , h, w] = images.lr.shape;
    checkWindowFits(o.window, h, w, 4);
    dir = set.addDir(o.out);
  } catch (e) {
    images.lr.dispose();
    throw e;
  }
  const write = (file: string, data: Uint8Array | string) => {
    try {
      writeFileSync(join(dir, file), data);
    } catch (e) {
      throw writeError(join(o.out, file), e);
    }
  };
  const bar = progressBar("demo", o.models.length * o.fold + fashion.length);
  let done = 0;
  try {
    const rows: string[] = [];
    const figures: string[] = [];
    try {
      for (const name of o.models) {
        await letSignalsIn();
        const model = resolveSrModel({ model: name, scale: 4 });
        o.log(
          `LAM: ${model.name} (${model.parameters} parameters), window ${JSON.stringify(o.window)}, fold ${o.fold}`,
        );
        bar.update(done, undefined, `demo: LAM ${name}`);
        const base = done;
        const run = await runLamOn(model, images, {
          window: o.window,
          fold: o.fold,
          onProgress: (steps) => bar.update(base + steps),
        });
        done = base + o.fold;
        const file = `lam-${name}.png`;
        write(file, run.png);
        const s = run.summary as Record<string, number>;
        o.log(
          `  DI ${s.diffusion_index.toFixed(2)}, Gini ${s.gini.toFixed(4)}, delta ${s.delta.toExponential(2)}, ${s.seconds} s`,
        );
        rows.push(
          `<tr><td>${escapeHtml(model.name)}</td><td>${model.parameters}</td><td>${s.diffusion_index.toFixed(2)}</td><td>${s.gini.toFixed(4)}</td><td>${s.pixels_95}</td><td>${s.delta.toExponential(2)}</td><td>${s.seconds}</td></tr>`,
        );
        figures.push(
          `<figure><img src="${file}" width="${4 * 128 + 12}"><figcaption>${escapeHtml(model.name)}: DI ${s.diffusion_index.toFixed(2)}</figcaption></figure>`,
        );
      }
    } finally {
      images.lr.dispose();
    }

    // The classifier gallery on the first test image of a few classes.
    const galleries: string[] = [];
    for (const { path, image } of fashion) {
      await letSignalsIn();
      const i = image.index;
      const input = `fashion-${i}.png`;
      write(input, readFileSync(path));
      o.log(`gallery: Fashion-MNIST test image ${i} (${image.name})`);
      bar.update(done, undefined, `demo: gallery ${image.name}`);
      await runGallery(
        [
          "--model",
          "fashion-cnn",
          "--image",
          join(dir, input),
          "--methods",
          o.methods.join(","),
          "--out",
          join(dir, `gallery-${i}`),
        ],
        (line) => o.log(`  ${line.replaceAll(dir, o.out)}`),
      );
      bar.update(++done);
      galleries.push(
        `<h3>${escapeHtml(image.name)} (test image ${i})</h3><img src="gallery-${i}.png" style="image-rendering:pixelated;max-width:100%"><p>input | ${o.methods.map(escapeHtml).join(" | ")} (<a href="gallery-${i}.html">captions and timings</a>)</p>`,
      );
    }

    const html = `<!doctype html><meta charset="utf-8"><title>salient report</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}figure{margin:1em 0}</style>
<h1>salient report</h1>
<h2>LAM: which LR pixels each SR network used for the red window</h2>
<p>Photograph: ${escapeHtml(o.photo)} (128x128 HR, 32x32 LR by PIL-bicubic downscale), x4, window ${JSON.stringify(o.window)},
progressive-blur path (sigma 1.2, fold ${o.fold}, l 9), gradient-magnitude detector. DI = (1 - Gini) x 100: larger means more LR pixels involved.</p>
<table><tr><th>model</th><th>parameters</th><th>DI</th><th>Gini</th><th>pixels for 95% mass</th><th>completeness delta</th><th>seconds</th></tr>${rows.join("")}</table>
${figures.join("\n")}
<h2>Attribution methods on the bundled Fashion-MNIST classifier</h2>
${galleries.join("\n")}
<p><small>Generated by salient demo.</small></p>`;
    write("index.html", html);
  } catch (e) {
    set.abort();
    throw e;
  } finally {
    bar.stop();
  }
  set.commit();
  return join(o.out, "index.html");
}
