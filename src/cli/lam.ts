/**
 * `salient lam`: the local attribution map of an SR model for one window, written as PREFIX.npy
 * (the LR-sized map, float32 [3, h, w]) and PREFIX.png (LAM_Demo's four-panel grid), with a JSON
 * summary line last (Gini, diffusion index, completeness delta, timing).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { countSaliencyPixels, gini } from "../attribution/lam/gini.ts";
import { LAM_DEFAULTS, lam } from "../attribution/lam/lam.ts";
import type { LamPathKind } from "../attribution/lam/paths.ts";
import type { LamWindow } from "../attribution/lam/window.ts";
import { tidy } from "../autodiff/tidy.ts";
import { clamp } from "../ops/unary.ts";
import { encodePng } from "../viz/image-io-node.ts";
import { lamPanels } from "../viz/lam-panels.ts";
import { encodeNpy } from "../viz/npy.ts";
import { toRgb } from "../viz/overlay.ts";
import { type LamImages, lamImagesFromHr, lamImagesFromLr } from "./lam-images.ts";
import { resolveSrModel, SR_MODEL_NAMES, type SrModel } from "./sr-models.ts";

export const LAM_USAGE = `usage: salient lam --model <${SR_MODEL_NAMES.join(" | ")} | file.onnx | weights --arch NAME>
                   (--image HR.png | --lr LR.png) [--scale 4] --window x,y[,size] --out PREFIX
                   [--sigma 1.2] [--fold 50] [--l 9] [--batch 8] [--path blur|linear-black|linear-blur]
  x is the column and y the row of the window's top-left corner in SR/HR pixels (size 16).
  writes PREFIX.npy ([3, h, w] float32) and PREFIX.png (HR+window | map | blend | KDE blend);
  prints a JSON summary line last.
`;

export function parseWindow(v: string): LamWindow {
  const parts = v.split(",").map((s) => Number(s.trim()));
  if (
    (parts.length !== 2 && parts.length !== 3) ||
    !parts.every((n) => Number.isInteger(n) && n >= 0)
  ) {
    throw new Error(`--window must be x,y or x,y,size with non-negative integers, got "${v}"`);
  }
  return { x: parts[0], y: parts[1], size: parts[2] ?? LAM_DEFAULTS.window };
}

function number(name: string, v: string | undefined, fallback: number, integer = false): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < 0) {
    throw new Error(
      `--${name} must be a non-negative ${integer ? "integer" : "number"}, got "${v}"`,
    );
  }
  return n;
}

export interface LamRunOptions {
  window: LamWindow;
  sigma?: number;
  fold?: number;
  l?: number;
  batch?: number;
  path?: LamPathKind;
  progress?: boolean;
}

export interface LamRun {
  map: Float32Array;
  shape: [number, number, number];
  png: Uint8Array;
  summary: Record<string, unknown>;
}

/** LAM + pictures + metrics for one model and prepared images (shared with the demo report). */
export async function runLamOn(
  model: SrModel,
  images: LamImages,
  o: LamRunOptions,
): Promise<LamRun> {
  const [, , h, w] = images.lr.shape;
  const out = tidy(() => model.run(images.lr).shape);
  if (out[2] !== h * model.scale || out[3] !== w * model.scale) {
    throw new Error(
      `${model.name}: turns the ${w}x${h} LR image into ${out[3]}x${out[2]}, not the x${model.scale} (${w * model.scale}x${h * model.scale}) that --scale ${model.scale} says; the model and the images disagree on the scale`,
    );
  }
  const t0 = performance.now();
  const bar =
    o.progress && process.stderr.isTTY
      ? new SingleBar({
          format: "LAM path steps [{bar}] {value}/{total} {eta_formatted}",
          stream: process.stderr,
        })
      : null;
  const fold = o.fold ?? LAM_DEFAULTS.fold;
  bar?.start(fold, 0);
  let r: Awaited<ReturnType<typeof lam>>;
  try {
    r = await lam(model.run, images.lr, { ...o, fold, onProgress: (done) => bar?.update(done) });
  } finally {
    bar?.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  const map = Float32Array.from(await r.map.data());
  r.map.dispose();
  const hr =
    images.hr ??
    tidy(() =>
      toRgb(clamp(model.run(images.lr), 0, 1).dataSync(), 3, h * model.scale, w * model.scale),
    );
  const panels = lamPanels({
    hr,
    lr: images.lrValues,
    map,
    height: h,
    width: w,
    scale: model.scale,
    window: o.window,
  });
  const g = gini(panels.absNorm);
  return {
    map,
    shape: [3, h, w],
    png: encodePng(panels.grid),
    summary: {
      model: model.name,
      parameters: model.parameters,
      scale: model.scale,
      lr_size: [h, w],
      window: o.window,
      path: r.details.path,
      sigma: r.details.sigma,
      fold: r.details.fold,
      l: r.details.l,
      gini: g,
      diffusion_index: (1 - g) * 100,
      pixels_95: countSaliencyPixels(panels.absNorm),
      delta: r.delta,
      detector_input: r.details.detectorAtInput,
      detector_baseline: r.details.detectorAtBaseline,
      seconds: Number(seconds.toFixed(3)),
    },
  };
}

export async function runLam(args: string[], log: (line: string) => void): Promise<void> {
  const { values: v } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      arch: { type: "string" },
      range: { type: "string" },
      image: { type: "string" },
      lr: { type: "string" },
      scale: { type: "string" },
      window: { type: "string" },
      sigma: { type: "string" },
      fold: { type: "string" },
      l: { type: "string" },
      batch: { type: "string" },
      path: { type: "string" },
      out: { type: "string" },
    },
  });
  if (!v.model || !v.window || !v.out || (!v.image && !v.lr)) {
    throw new Error(`lam needs --model, --image or --lr, --window and --out\n${LAM_USAGE}`);
  }
  if (v.image && v.lr)
    throw new Error("give either --image (HR, downscaled here) or --lr, not both");
  const path = (v.path ?? "blur") as LamPathKind;
  if (!["blur", "linear-black", "linear-blur"].includes(path)) {
    throw new Error(`--path must be blur, linear-black or linear-blur, got "${v.path}"`);
  }
  const scale = number("scale", v.scale, 4, true);
  const model = resolveSrModel({
    model: v.model,
    scale,
    arch: v.arch,
    range: number("range", v.range, 1),
  });
  const images = v.image ? lamImagesFromHr(v.image, scale) : lamImagesFromLr(v.lr!);
  const run = await runLamOn(model, images, {
    window: parseWindow(v.window),
    sigma: number("sigma", v.sigma, LAM_DEFAULTS.sigma),
    fold: number("fold", v.fold, LAM_DEFAULTS.fold, true),
    l: number("l", v.l, LAM_DEFAULTS.l, true),
    batch: number("batch", v.batch, LAM_DEFAULTS.batch, true),
    path,
    progress: true,
  });
  images.lr.dispose();
  writeFileSync(`${v.out}.npy`, encodeNpy(run.map, run.shape));
  writeFileSync(`${v.out}.png`, run.png);
  log(JSON.stringify(run.summary));
}
