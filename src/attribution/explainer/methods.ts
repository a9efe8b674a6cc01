/**
 * The methods of the comparison as ClassMapMethods (one [0, 1] map per ground-truth class): the
 * explainer itself, and the library's gradient saliency, guided backprop, Grad-CAM, SmoothGrad,
 * integrated gradients, occlusion and RISE on the classifier's logit of each class. Signed maps
 * (guided backprop, IG) are taken by magnitude, occlusion by its positive part, and all are
 * divided by their maximum; RISE (a positive map with a large offset) is min-max scaled.
 * RISE is computed for all classes from one set of masked forward passes (riseAllClasses): the
 * same masks and sum as `rise` with the class's sigmoid probability as its score.
 */
import { engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import { mul } from "../../ops/binary.ts";
import { tensor } from "../../ops/creation.ts";
import { sigmoid } from "../../ops/unary.ts";
import { gradCam } from "../methods/grad-cam.ts";
import { saliency } from "../methods/gradient.ts";
import { guidedBackprop } from "../methods/guided-backprop.ts";
import { integratedGradients } from "../methods/integrated-gradients.ts";
import { occlusion } from "../methods/occlusion.ts";
import { riseMasks } from "../methods/rise.ts";
import { smoothGrad } from "../methods/smooth-grad.ts";
import type { Attribution } from "../types.ts";
import { type ClassMapMethod, toUnit } from "./evaluate.ts";
import type { ImageModel } from "./explain.ts";

export interface RiseAllOptions {
  masks?: number;
  cells?: number;
  keep?: number;
  seed?: number;
  batchSize?: number;
}

/**
 * RISE saliency of every class at once for x [1, C, H, W]: sum_n sigmoid(f(x M_n))_c M_n / (N p),
 * [classes, H, W]. Equal to `rise(model, x, c, { scores: "target" })` with target sigmoid(logit_c)
 * for each c, at a fraction of the forward passes.
 */
export function riseAllClasses(model: ImageModel, x: Tensor, o: RiseAllOptions = {}): Float32Array {
  if (x.rank !== 4 || x.shape[0] !== 1)
    throw new Error(`riseAllClasses: expected [1, C, H, W], got [${x.shape}]`);
  const [, , h, w] = x.shape;
  const hw = h * w;
  const count = o.masks ?? 2000;
  const p = o.keep ?? 0.5;
  const masks = riseMasks(count, h, w, { cells: o.cells, keep: p, seed: o.seed });
  const batch = o.batchSize ?? 64;
  let sal: Float64Array | null = null;
  let classes = 0;
  for (let from = 0; from < count; from += batch) {
    const b = Math.min(batch, count - from);
    const probs = tidy(() => {
      const m = tensor(masks.subarray(from * hw, (from + b) * hw), [b, 1, h, w]);
      return sigmoid(model(mul(m, x))).dataSync();
    });
    classes = probs.length / b;
    sal ??= new Float64Array(classes * hw);
    for (let j = 0; j < b; j++) {
      const mj = masks.subarray((from + j) * hw, (from + j + 1) * hw);
      for (let c = 0; c < classes; c++) {
        const s = probs[j * classes + c];
        const plane = c * hw;
        for (let q = 0; q < hw; q++) sal[plane + q] += s * mj[q];
      }
    }
  }
  return Float32Array.from(sal!, (v) => v / (count * p));
}

async function unitMap(
  a: Promise<Attribution<unknown>>,
  how: "abs" | "relu",
): Promise<Float32Array> {
  const { map } = await a;
  try {
    const v = await map.data();
    return toUnit(how === "abs" ? Float32Array.from(v, Math.abs) : Float32Array.from(v));
  } finally {
    map.dispose();
  }
}

/** One library method applied class by class. */
function perClass(
  run: (c: number, x: Tensor) => Promise<Attribution<unknown>>,
  how: "abs" | "relu",
): ClassMapMethod {
  return async (x, classes) => {
    // Classes after the first start after an await: each re-enters the caller's engine context.
    const ctx = engineContext();
    const out: Float32Array[] = [];
    for (const c of classes)
      out.push(
        await unitMap(
          ctx.run(() => run(c, x)),
          how,
        ),
      );
    return out;
  };
}

export interface ComparisonSettings {
  smoothGradSamples: number;
  smoothGradNoise: number;
  igSteps: number;
  occlusionWindow: number;
  occlusionStride: number;
  riseMasks: number;
  riseCells: number;
  batchSize: number;
}

/** Settings for 64 x 64 canvases on a CPU; each is stated in the results. */
export const COMPARISON_DEFAULTS: ComparisonSettings = {
  smoothGradSamples: 16,
  smoothGradNoise: 0.15,
  igSteps: 16,
  occlusionWindow: 12,
  occlusionStride: 6,
  riseMasks: 500,
  riseCells: 8,
  batchSize: 64,
};

/** The explainer as a method: one forward pass, sigmoid(S_c) for each class. */
export function explainerMethod(explainer: ImageModel): ClassMapMethod {
  return async (x, classes) => {
    const masks = tidy(() => Float32Array.from(sigmoid(explainer(x)).dataSync()));
    const hw = x.shape[2] * x.shape[3];
    return classes.map((c) => masks.slice(c * hw, (c + 1) * hw));
  };
}

/** The attribution methods of the comparison, by row name. */
export function comparisonMethods(
  classifier: ImageModel,
  gradCamLayer: string,
  s: ComparisonSettings = COMPARISON_DEFAULTS,
): Record<string, ClassMapMethod> {
  const f = classifier;
  return {
    "gradient saliency": perClass((c, x) => saliency(f, x, c), "abs"),
    "guided backprop": perClass((c, x) => guidedBackprop(f, x, c), "abs"),
    "Grad-CAM": perClass((c, x) => gradCam(f, x, c, { layer: gradCamLayer }), "relu"),
    SmoothGrad: perClass(
      (c, x) =>
        smoothGrad(saliency, f, x, c, {
          samples: s.smoothGradSamples,
          noise: s.smoothGradNoise,
          batchSize: s.batchSize,
        }),
      "abs",
    ),
    "integrated gradients": perClass(
      (c, x) => integratedGradients(f, x, c, { steps: s.igSteps, batchSize: s.batchSize }),
      "abs",
    ),
    occlusion: perClass(
      (c, x) =>
        occlusion(f, x, c, {
          window: s.occlusionWindow,
          stride: s.occlusionStride,
          batchSize: s.batchSize,
        }),
      "relu",
    ),
    RISE: async (x, classes) => {
      const all = riseAllClasses(f, x, {
        masks: s.riseMasks,
        cells: s.riseCells,
        batchSize: s.batchSize,
      });
      const hw = x.shape[2] * x.shape[3];
      return classes.map((c) => toUnit(all.subarray(c * hw, (c + 1) * hw), "minmax"));
    },
  };
}
