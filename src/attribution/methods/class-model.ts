/**
 * Class model visualisation (Simonyan et al. 2013): the image I maximising S_c(I) - lambda ||I||^2,
 * by gradient ascent I <- I + lr (dS_c/dI - 2 lambda I) from a starting image (zeros in the paper;
 * the input argument here). Optional clipping keeps I in the model's input range.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add, mul, sub } from "../../ops/binary.ts";
import { clamp } from "../../ops/unary.ts";
import { checkCall, readScores, scoresAndGrad } from "../evaluate.ts";
import type { Attribution, Model, Target } from "../types.ts";

/**
 * Options of class model visualisation: steps, learning rate, L2 weight and an optional value clip.
 */
export interface ClassModelOptions extends EngineOptions {
  /** Ascent steps (default 200). */
  steps?: number;
  /** Step size (default 1). */
  lr?: number;
  /** L2 weight lambda (default 0.01). */
  l2?: number;
  /** Clip the image to [lo, hi] after every step (default: no clipping). */
  clip?: readonly [number, number];
}

/** The target scores and the objective S_c(I) - lambda ||I||^2 per step. */
export interface ClassModelDetails extends Record<string, unknown> {
  /** S_c at each step's image before the update, and at the final image (steps + 1 values, per example). */
  scores: number[][];
  /** The regularised objective S_c - lambda ||I||^2 at the final image, per example. */
  objective: number[];
}

/**
 * Class model visualisation (Simonyan et al. 2013): gradient ascent on S_c(I) - lambda ||I||^2 from
 * `start`; returns the synthesised image as the map.
 */
export async function classModelVisualization(
  model: Model,
  start: Tensor,
  target: Target,
  o: ClassModelOptions = {},
): Promise<Attribution<ClassModelDetails>> {
  const ctx = engineContext(o);
  await checkCall(start, target, "classModelVisualization");
  const steps = o.steps ?? 200;
  const lr = o.lr ?? 1;
  const l2 = o.l2 ?? 0.01;
  if (!Number.isInteger(steps) || steps < 0)
    throw new Error(`classModelVisualization: steps must be a non-negative integer, got ${steps}`);
  if (!(lr > 0)) throw new Error(`classModelVisualization: lr must be positive, got ${lr}`);
  if (!(l2 >= 0)) throw new Error(`classModelVisualization: l2 must be non-negative, got ${l2}`);
  const n = start.shape[0];
  const scores: number[][] = Array.from({ length: n }, () => []);
  let img = ctx.run(() => tidy(() => keep(add(start, 0))));
  try {
    for (let t = 0; t <= steps; t++) {
      const r = ctx.run(() =>
        tidy(() => {
          const { scores: s, grad } = scoresAndGrad(model, img, target);
          if (t === steps) return { s: keep(s), next: null };
          let next = add(img, mul(sub(grad, mul(img, 2 * l2)), lr));
          if (o.clip) next = clamp(next, o.clip[0], o.clip[1]);
          return { s: keep(s), next: keep(next) };
        }),
      );
      let v: Float32Array;
      try {
        v = await readScores(r.s, "classModelVisualization");
      } catch (e) {
        r.next?.dispose();
        throw e;
      } finally {
        r.s.dispose();
      }
      v.forEach((s, i) => scores[i].push(s));
      if (r.next) {
        img.dispose();
        img = r.next;
      }
    }
    const values = await img.data();
    const per = img.size / n;
    const objective = Array.from({ length: n }, (_, i) => {
      let sq = 0;
      for (let j = i * per; j < (i + 1) * per; j++) sq += values[j] * values[j];
      return scores[i][steps] - l2 * sq;
    });
    const map = img;
    img = null as unknown as Tensor;
    return { map, details: { scores, objective } };
  } finally {
    img?.dispose();
  }
}
