/**
 * `salient lam`: the local attribution map of an SR model for one window, written as PREFIX.npy
 * (the LR-sized map, float32 [3, h, w]) and PREFIX.png (LAM_Demo's four-panel grid), with a JSON
 * summary line last (Gini, diffusion index, completeness delta, timing).
 */
import { countSaliencyPixels, gini } from "../attribution/lam/gini.ts";
import { srOutputProblem } from "../attribution/lam/input.ts";
import { LAM_DEFAULTS, lam } from "../attribution/lam/lam.ts";
import type { LamPathKind } from "../attribution/lam/paths.ts";
import type { LamWindow } from "../attribution/lam/window.ts";
import { tidy } from "../autodiff/tidy.ts";
import { clamp } from "../ops/unary.ts";
import { encodePng } from "../viz/image-io-node.ts";
import { lamPanels } from "../viz/lam-panels.ts";
import { encodeNpy } from "../viz/npy.ts";
import { toRgb } from "../viz/overlay.ts";
import { type CommandSpec, choiceFlag, flag, numberFlag, parseFlags, UsageError } from "./args.ts";
import { type LamImages, lamImagesFromHr, lamImagesFromLr } from "./lam-images.ts";
import { outPrefix, writeOutputs } from "./output-set.ts";
import { BUNDLED_PHOTOS, imageArg } from "./package-files.ts";
import { progressBar } from "./progress.ts";
import { resolveSrModel, SR_MODEL_FLAGS, type SrModel } from "./sr-models.ts";
import { isWholeNumber } from "./whole-number.ts";

const LAM_PATHS: readonly LamPathKind[] = ["blur", "linear-black", "linear-blur"];

export const LAM_SPEC: CommandSpec = {
  name: "lam",
  summary: "the local attribution map (LAM) of an SR model for one window of its output",
  synopsis: "--model M (--image HR.png | --lr LR.png) --window x,y[,size] --out PREFIX [options]",
  flags: {
    ...SR_MODEL_FLAGS,
    image: {
      value: "HR.png",
      help: `HR image (or a bundled photo: ${BUNDLED_PHOTOS.join(", ")}), cropped to a multiple of --scale and downscaled`,
    },
    lr: { value: "LR.png", help: "LR image, used as it is (instead of --image)" },
    scale: { value: "N", default: "4", help: "SR scale" },
    window: {
      value: "x,y[,size]",
      required: true,
      help: `window in SR pixels: x the column, y the row of its top-left corner; size ${LAM_DEFAULTS.window} if omitted`,
    },
    sigma: { value: "S", default: String(LAM_DEFAULTS.sigma), help: "blur of the baseline (> 0)" },
    fold: { value: "N", default: String(LAM_DEFAULTS.fold), help: "path steps" },
    l: { value: "N", default: String(LAM_DEFAULTS.l), help: "Gaussian kernel size" },
    batch: {
      value: "N",
      default: String(LAM_DEFAULTS.batch),
      help: "path images per pass (memory, not results)",
    },
    path: { value: "KIND", default: "blur", help: LAM_PATHS.join(" | ") },
    out: {
      value: "PREFIX",
      required: true,
      help: "writes PREFIX.npy ([3, h, w] float32) and PREFIX.png (HR+window | map | blend | KDE blend); a trailing .npy/.png is dropped",
    },
  },
  notes: "prints a JSON summary line last (Gini, diffusion index, completeness delta, files).",
};

export function parseWindow(v: string, name = "window"): LamWindow {
  const parts = v.split(",").map((s) => Number(s.trim()));
  if ((parts.length !== 2 && parts.length !== 3) || !parts.every(isWholeNumber) || parts[2] === 0) {
    throw new UsageError(
      `${flag(name)} must be x,y or x,y,size (integers, x and y >= 0, size >= 1), got "${v}"`,
    );
  }
  return { x: parts[0], y: parts[1], size: parts[2] ?? LAM_DEFAULTS.window };
}

/** The window must lie inside the SR image of an h x w LR input at `scale`. */
export function checkWindowFits(win: LamWindow, h: number, w: number, scale: number): void {
  const H = h * scale;
  const W = w * scale;
  if (win.x + win.size > W || win.y + win.size > H)
    throw new UsageError(
      `--window ${win.x},${win.y},${win.size} does not fit the ${W}x${H} (WxH) SR image (${w}x${h} LR at x${scale}): x + size must be <= ${W} and y + size <= ${H}`,
    );
}

export interface LamRunOptions {
  window: LamWindow;
  sigma?: number;
  fold?: number;
  l?: number;
  batch?: number;
  path?: LamPathKind;
  onProgress?: (done: number, total: number) => void;
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
  // One forward pass checks the output geometry and, when no HR image was given, keeps the SR
  // image for the HR panel.
  let first: { out: number[]; sr: Float32Array | null };
  try {
    first = tidy(() => {
      const y = model.run(images.lr);
      const sr = images.hr ? null : Float32Array.from(clamp(y, 0, 1).dataSync());
      return { out: [...y.shape], sr };
    });
  } catch (e) {
    throw new Error(
      `${model.name} failed on the [1, 3, ${h}, ${w}] LR image: ${(e as Error).message}; lam needs a super-resolution model (an RGB image in, a larger RGB image out)`,
    );
  }
  const { out, sr } = first;
  const problem = srOutputProblem(out, h, w, model.scale);
  if (problem?.kind === "not-upscaled")
    throw new Error(
      `${model.name} is not an SR model: it turns the [1, 3, ${h}, ${w}] LR image into [${out.join(", ")}], not a larger image; lam needs a super-resolution model whose output is the input upscaled ([${problem.expected.join(", ")}] at --scale ${model.scale})`,
    );
  if (problem?.kind === "wrong-scale")
    throw new Error(
      `${model.name}: turns the ${w}x${h} LR image into ${out[3]}x${out[2]}, not the x${model.scale} (${problem.expected[1]}x${problem.expected[0]}) that --scale ${model.scale} says; the model and the images disagree on the scale`,
    );
  const t0 = performance.now();
  const r = await lam(model.run, images.lr, o);
  const seconds = (performance.now() - t0) / 1000;
  const map = Float32Array.from(await r.map.data());
  r.map.dispose();
  const hr = images.hr ?? toRgb(sr as Float32Array, 3, h * model.scale, w * model.scale);
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
  const v = parseFlags(LAM_SPEC, args);
  if (!v.image === !v.lr)
    throw new UsageError(
      "lam needs exactly one of --image (HR, downscaled here) and --lr (the LR image as it is)",
    );
  // Every setting is checked before any image is read or model loaded.
  const path = choiceFlag("path", v.path, LAM_PATHS, "blur");
  const scale = numberFlag("scale", v.scale, { integer: true, min: 2, max: 16 }, 4);
  const range = numberFlag("range", v.range, { min: 0, minExclusive: true }, 1);
  const window = parseWindow(v.window!);
  const options: LamRunOptions = {
    window,
    sigma: numberFlag("sigma", v.sigma, { min: 0, minExclusive: true, max: 100 }),
    fold: numberFlag("fold", v.fold, { integer: true, min: 1, max: 100000 }),
    l: numberFlag("l", v.l, { integer: true, min: 1, max: 255 }),
    batch: numberFlag("batch", v.batch, { integer: true, min: 1, max: 4096 }),
    path,
  };
  const prefix = outPrefix(v.out!, [".npy", ".png"]);
  const images = v.image ? lamImagesFromHr(imageArg(v.image), scale) : lamImagesFromLr(v.lr!);
  try {
    const [, , h, w] = images.lr.shape;
    checkWindowFits(window, h, w, scale);
    const model = resolveSrModel({ model: v.model!, scale, arch: v.arch, range });
    const bar = progressBar("LAM path steps", options.fold!);
    let run: LamRun;
    try {
      run = await runLamOn(model, images, { ...options, onProgress: (done) => bar.update(done) });
    } finally {
      bar.stop();
    }
    const files = writeOutputs([
      [`${prefix}.npy`, encodeNpy(run.map, run.shape)],
      [`${prefix}.png`, run.png],
    ]);
    log(JSON.stringify({ ...run.summary, files }));
  } finally {
    images.lr.dispose();
  }
}
