/**
 * LAM (Gu & Dong, CVPR 2021): which low-resolution pixels an SR network used to rebuild one
 * window of its output. The detector D on the SR output is the attribution target, and the path
 * integral runs on the shared path module: path images are evaluated in batches, one backward
 * pass of sum_b D(F(x_b)) giving each image its own gradient, so any batch size gives the same map.
 */
import { engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { reshape } from "../../ops/reshape.ts";
import { integratePath } from "../path/integrate.ts";
import { type Detector, gradientMagnitude } from "./detectors.ts";
import { type LamPathKind, lamSamples } from "./paths.ts";
import { checkWindow, type LamWindow } from "./window.ts";

/** A super-resolution model: [1, C, h, w] to [1, C, s h, s w]. */
export type SrModel = (lr: Tensor) => Tensor;

/**
 * Options of LAM: the window in SR pixels, the blur path (sigma, fold steps, kernel size l), batch
 * size, detector and path kind.
 */
export interface LamOptions {
  window: LamWindow;
  sigma?: number;
  fold?: number;
  l?: number;
  /** Path images per forward/backward pass (default 8; memory grows with it, results do not change). */
  batch?: number;
  detector?: Detector;
  path?: LamPathKind;
  /** Called after each batch of path steps with the number of steps done. */
  onProgress?: (done: number, total: number) => void;
  /** Called once if the model fails on a batch of path images and runs them one at a time. */
  onNotice?: (message: string) => void;
}

/** LAM's map [C, h, w] on the LR image, the completeness delta and the settings used. */
export interface LamResult {
  /** The attribution, [C, h, w] like the LR input. */
  map: Tensor;
  /** sum(map) - (D(F(path end)) - D(F(baseline))): 0 for a linear D o F, small for a fine path. */
  delta: number;
  details: {
    detectorAtInput: number;
    detectorAtBaseline: number;
    path: LamPathKind;
    sigma: number;
    fold: number;
    l: number;
    scale: number;
    /** Set when the model only ran one path image per call (a fixed-batch export). */
    note?: string;
  };
}

/**
 * LAM_Demo's defaults: blur sigma 1.2, 50 path steps, 9 x 9 blur kernel, batch 8, 16-pixel window.
 */
export const LAM_DEFAULTS = { sigma: 1.2, fold: 50, l: 9, batch: 8, window: 16 } as const;

/**
 * Runs the model once on `end` (the path's end image, shaped like `lr`) to learn the SR size and
 * check that it is an image-to-image upscaler. The output is the caller's (it gives the detector
 * at the path's end, so the path integral needs no second forward there).
 */
function srForward(
  model: SrModel,
  end: Tensor,
  lr: Tensor,
): { sr: Tensor; height: number; width: number; scale: number } {
  const sr = tidy(() => keep(model(end)));
  const shape = sr.shape;
  const scale = shape[2] / lr.shape[2];
  let problem = "";
  if (shape.length !== 4 || shape[0] !== 1 || shape[1] !== lr.shape[1]) {
    problem = `LAM: the model must map [1, C, h, w] images to [1, C, H, W]; it returned [${shape}] for [${lr.shape}]`;
  } else if (!Number.isInteger(scale) || shape[3] / lr.shape[3] !== scale) {
    problem = `LAM: output ${shape[2]}x${shape[3]} is not an integer upscale of the ${lr.shape[2]}x${lr.shape[3]} input`;
  }
  if (problem) {
    sr.dispose();
    throw new Error(problem);
  }
  return { sr, height: shape[2], width: shape[3], scale };
}

/** LAM of `model` at the LR image `lr` [1, C, h, w]. */
export async function lam(model: SrModel, lr: Tensor, o: LamOptions): Promise<LamResult> {
  // The path integral starts after an await: it runs in the context lam was called in.
  const ctx = engineContext();
  if (lr.rank !== 4 || lr.shape[0] !== 1) {
    throw new Error(`LAM: expected one LR image [1, C, h, w], got [${lr.shape}]`);
  }
  const sigma = o.sigma ?? LAM_DEFAULTS.sigma;
  const fold = o.fold ?? LAM_DEFAULTS.fold;
  const l = o.l ?? LAM_DEFAULTS.l;
  const batch = o.batch ?? LAM_DEFAULTS.batch;
  if (!Number.isInteger(batch) || batch < 1)
    throw new Error(`LAM: batch ${batch} must be a positive integer`);
  const detector = o.detector ?? gradientMagnitude;
  const kind = o.path ?? "blur";
  // At sigma 0 the blurred baseline is the input itself: a path of length zero, a zero map.
  if (kind !== "linear-black" && !(sigma > 0 && Number.isFinite(sigma)))
    throw new Error(
      `LAM: sigma ${sigma} must be a finite number > 0 (the ${kind} path starts from the input blurred with it; at 0 the baseline is the input and the map is zero)`,
    );
  if (!Number.isInteger(l) || l < 1)
    throw new Error(`LAM: kernel size l ${l} must be a positive integer`);
  const samples = lamSamples(kind, lr, { sigma, fold, l });
  const end = tidy(() => keep(samples.end()));
  let endScore: number;
  let scale: number;
  try {
    const out = srForward(model, end, lr);
    scale = out.scale;
    try {
      checkWindow(o.window, out.height, out.width);
      const score = tidy(() => keep(detector(out.sr, o.window)));
      endScore = (await score.data())[0];
      score.dispose();
    } finally {
      out.sr.dispose();
    }
  } finally {
    end.dispose();
  }
  const r = await integratePath(model, samples, (sr) => detector(sr, o.window), 1, {
    batchSize: batch,
    endScores: [endScore],
    onProgress: o.onProgress,
    onNotice: o.onNotice,
    context: ctx,
    api: "LAM",
  });
  const map = tidy(() => keep(reshape(r.map, lr.shape.slice(1))));
  r.map.dispose();
  return {
    map,
    delta: r.delta[0],
    details: {
      detectorAtInput: r.endScores[0],
      detectorAtBaseline: r.startScores[0],
      path: kind,
      sigma,
      fold,
      l,
      scale,
      ...(r.note !== undefined ? { note: r.note } : {}),
    },
  };
}
