/**
 * `salient demo`: the main job on bundled defaults. LAM of the bundled SR models on a bundled
 * photograph, and the maps of several attribution methods for the bundled Fashion-MNIST
 * classifier, written to an HTML report (salient-report/index.html) that opens in a browser:
 * labelled figures with colour bars, measured timings, and links to the same views in the
 * explorer (`salient app`).
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { METHODS } from "../attribution/registry.ts";
import { tidy } from "../autodiff/tidy.ts";
import { FASHION_CLASSES } from "../models/data/classes.ts";
import { reshape } from "../ops/reshape.ts";
import { softmax } from "../ops/softmax.ts";
import { escapeHtml } from "../viz/html.ts";
import { enlarge, toRgb } from "../viz/overlay.ts";
import { FIGURE_CSS, figureHtml, formatSeconds, type ReportFigure } from "../viz/report-figures.ts";
import { didYouMean, parseFlags, UsageError } from "./args.ts";
import { attributeWith, checkFlags, prepare } from "./attribute.ts";
import { GALLERY_SPEC } from "./gallery.ts";
import { checkWindowFits, runLamOn } from "./lam.ts";
import { lamImagesFromHr } from "./lam-images.ts";
import { letSignalsIn, OutputSet, writeError } from "./output-set.ts";
import { assetPath, BUNDLED_PHOTOS } from "./package-files.ts";
import { progressBar } from "./progress.ts";
import {
  EXPLORER_URL,
  explorerClassifyUrl,
  explorerLamUrl,
  lamFigures,
  mapOverImage,
  pictureFigure,
} from "./report-sections.ts";
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

/** How much bigger than 28 pixels the classifier panels are drawn. */
const FASHION_ZOOM = 5;

const SCALING_CAPTION = `Each map is scaled on its own, robustly: a map with negative values is drawn with the
diverging seismic colormap (blue negative, white zero, red positive), symmetric about zero up to the larger
magnitude of its 1st and 99th percentiles; a map without negative values with the sequential viridis colormap,
from its 1st to its 99th percentile. Values beyond saturate, so a few outliers or a constant offset (RISE's
scores are all near the mean masked score) do not flatten the picture. The colour bar under each panel gives the
values. A map that is positive nearly everywhere (occlusion of the ankle boot: hiding almost any patch lowers the
score) stays mostly red on its diverging scale: that is the map, not the scaling. Maps show the method's default
sign: the signed map, its positive part, or |map|, as noted.`;

const SIGN_NOTES: Record<string, string> = {
  all: "signed",
  positive: "positive part",
  absolute: "|map|",
  negative: "negative part",
};

/** The section of one Fashion-MNIST image: the input and each method's map, with timings. */
async function fashionSection(
  o: DemoOptions,
  path: string,
  image: DemoFashionImage,
  write: (file: string, data: Uint8Array | string) => void,
): Promise<string> {
  const values = parseFlags(GALLERY_SPEC, [
    "--model",
    "fashion-cnn",
    "--image",
    path,
    "--methods",
    o.methods.join(","),
    "--out",
    "unused",
  ]);
  checkFlags(values);
  const p = await prepare(values, null);
  try {
    const [, c, h, w] = p.x.shape;
    const probs = tidy(() => {
      const y = p.model(p.x);
      return softmax(reshape(y, [1, -1])).dataSync();
    });
    const predicted = FASHION_CLASSES[p.target] ?? `class ${p.target}`;
    const shape = { mapChannels: 1, channels: c, height: h, width: w };
    const figures: ReportFigure[] = [
      pictureFigure(
        write,
        `fashion-${image.index}.png`,
        enlarge(toRgb(p.image!, c, h, w), FASHION_ZOOM),
        {
          title: `input: ${image.name}`,
          note: `predicted ${predicted} (${(100 * probs[p.target]).toFixed(1)}%)`,
        },
      ),
    ];
    const times: string[] = [];
    for (const n of o.methods) {
      await letSignalsIn();
      const { result, seconds } = await attributeWith(p, n, (line) => o.log(`  ${line}`));
      const map = Float32Array.from(await result.map.data());
      const mapChannels = result.map.shape[1];
      result.map.dispose();
      const sign = METHODS[n].sign;
      const { picture, scale } = mapOverImage(map, p.image!, { ...shape, mapChannels }, sign);
      times.push(`${n} ${formatSeconds(seconds)}`);
      figures.push(
        pictureFigure(write, `fashion-${image.index}-${n}.png`, enlarge(picture, FASHION_ZOOM), {
          title: n,
          note: `${formatSeconds(seconds)} · ${SIGN_NOTES[sign]}`,
          scale,
          href: explorerClassifyUrl(image.file.replace(/\.png$/, ""), n, p.target),
        }),
      );
    }
    o.log(`  ${times.join(", ")}`);
    return `<h3>${escapeHtml(image.name)} (test image ${image.index}): maps of the class ${escapeHtml(predicted)}</h3>
<div class="row">${figures.map(figureHtml).join("")}</div>`;
  } finally {
    p.x.dispose();
  }
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
  const started = performance.now();
  const lrWidth = images.lr.shape[3];
  let done = 0;
  try {
    const rows: string[] = [];
    const sections: string[] = [];
    const bundledPhoto = DEMO_PHOTOS.includes(o.photo) && !existsSync(o.photo);
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
        const s = run.summary as Record<string, number>;
        o.log(
          `  DI ${s.diffusion_index.toFixed(2)}, Gini ${s.gini.toFixed(4)}, delta ${s.delta.toExponential(2)}, ${s.seconds} s`,
        );
        const [, , lh, lw] = images.lr.shape;
        const figures = lamFigures(write, name, {
          hr: images.hr!,
          lr: images.lrValues,
          map: run.map,
          height: lh,
          width: lw,
          scale: 4,
          window: o.window,
        });
        rows.push(
          `<tr><td>${escapeHtml(model.name)}</td><td>${model.parameters}</td><td>${s.diffusion_index.toFixed(2)}</td><td>${s.gini.toFixed(4)}</td><td>${s.pixels_95}</td><td>${s.delta.toExponential(2)}</td><td>${s.seconds.toFixed(2)}</td></tr>`,
        );
        const link = bundledPhoto
          ? ` · <a href="${escapeHtml(explorerLamUrl(name, o.photo, o.window, o.fold))}">open in the explorer</a>`
          : "";
        sections.push(
          `<h3>${escapeHtml(model.name)}: DI ${s.diffusion_index.toFixed(2)}, ${s.pixels_95} LR pixels hold 95% of the map, ${s.seconds.toFixed(2)} s${link}</h3>
<div class="row">${figures.map(figureHtml).join("")}</div>`,
        );
      }
    } finally {
      images.lr.dispose();
    }

    // The classifier maps on the first test image of a few classes.
    const galleries: string[] = [];
    for (const { path, image } of fashion) {
      await letSignalsIn();
      o.log(`maps: Fashion-MNIST test image ${image.index} (${image.name})`);
      bar.update(done, undefined, `demo: maps ${image.name}`);
      galleries.push(await fashionSection(o, path, image, write));
      bar.update(++done);
    }
    const total = (performance.now() - started) / 1000;

    const html = `<!doctype html><meta charset="utf-8"><title>salient report</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1240px;color:#111}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
h3{font-size:16px;margin:1.5em 0 0.5em}.row{display:flex;flex-wrap:wrap}.note{color:#444;max-width:60em}${FIGURE_CSS}</style>
<h1>salient report</h1>
<p class="note">For interactive use, run <code>npx salient app</code> and open <a href="${EXPLORER_URL}">${EXPLORER_URL}</a>:
click a window on any SR model's output and see its LAM, or pick a method and class for a classifier's map. Each
"open in the explorer" link and each method name below opens the same view there (while <code>salient app</code> runs).</p>
<h2>LAM: which LR pixels each SR network used for the red window</h2>
<p class="note">Photograph: ${escapeHtml(o.photo)} (128x128 HR, 32x32 LR by PIL-bicubic downscale), x4, window ${JSON.stringify(o.window)} (HR pixels),
progressive-blur path (sigma 1.2, fold ${o.fold}, l 9), gradient-magnitude detector. DI = (1 - Gini) x 100: larger means more LR pixels involved.
The map is |sum over channels| divided by its maximum, drawn in LAM_Demo's white-to-red colours from its 1st to its 99th percentile
(the top 1% of pixels saturate), enlarged ${Math.max(1, Math.round(256 / lrWidth))}x with nearest neighbours; seconds are the LAM computation, measured here.</p>
<table><tr><th>model</th><th>parameters</th><th>DI</th><th>Gini</th><th>pixels for 95% mass</th><th>completeness delta</th><th>seconds</th></tr>${rows.join("")}</table>
${sections.join("\n")}
<h2>Attribution methods on the bundled Fashion-MNIST classifier</h2>
<p class="note">Maps for the class the CNN predicts, over the input (60% map colour, 40% image). ${SCALING_CAPTION}
Timings are each method's computation on this machine's CPU backend.</p>
${galleries.join("\n")}
<p><small>Generated by salient demo in ${total.toFixed(1)} s.</small></p>`;
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
