/**
 * iGOS++ (Khorram et al. 2021) and I-GOS (Qi et al. 2020): masks optimised with integrated
 * gradients instead of plain gradients, after the reference code (IGOS_pp, methods.py).
 *
 * A mask m (1 = keep, size 28 at 224 px, scaled) is upsampled bilinearly (align corners, as
 * torch's UpsamplingBilinear2d) and scored along the path alpha_k m, alpha_k = k / K (K = ig_iter):
 *   S_del(m) = mean_k p(x alpha_k m + b (1 - alpha_k m)),   the deletion score,
 *   S_ins(m) = mean_k p(b alpha_k m + x (1 - alpha_k m)),   the insertion score,
 * with p the softmax probability of the class, b a heavy blur of x (sigma 50 px at 224) and
 * Gaussian noise of std 0.2 on every path image. iGOS++ keeps a deletion mask m_d and an
 * insertion mask m_i and descends
 *   J = (S_del(m_d) - S_ins(m_i) + S_del(m_d m_i) - S_ins(m_d m_i)) / 2
 *       + L1 mean|1 - m_d m_i| + L2 BTV(m_d m_i)
 * (BTV: TV of the mask plus TV of the upsampled mask weighted by exp(-(image difference)^2 /
 * 0.01)), with a backtracking line search from alpha (Armijo, beta 1e-4, decay 0.2) on the
 * unhalved objective, clamping the masks to [0, 1]. The reference CLI defaults: L1 10, L2 20,
 * ig_iter 20, 20 iterations, alpha 1000, size 28. I-GOS is the special case with one mask, the
 * deletion term only and plain TV, with its own defaults (L1 1, L2 20, ig_iter 15, alpha 8).
 * The map is 1 - m (for iGOS++ 1 - m_d m_i) at the input size.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import { valueAndGrads } from "../../autodiff/grad.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add, div, mul, sub } from "../../ops/binary.ts";
import { gaussianFilter } from "../../ops/blur.ts";
import { concat } from "../../ops/concat.ts";
import { tensor } from "../../ops/creation.ts";
import { mean, sum } from "../../ops/reduce.ts";
import { resize } from "../../ops/resize.ts";
import { slice } from "../../ops/slice.ts";
import { abs, exp, square } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { checkCall } from "../evaluate.ts";
import { targetScores } from "../target.ts";
import type { Attribution, Model, Target } from "../types.ts";
import {
  exampleOf,
  exampleTarget,
  type MaskScore,
  nonNegative,
  positiveInt,
  scoreTarget,
  totalVariation,
} from "./mask-common.ts";

export interface IgosOptions extends EngineOptions {
  /** "igos++" (default, bilateral) or "igos" (deletion only). */
  variant?: "igos++" | "igos";
  /** Outer iterations (default 20). */
  iterations?: number;
  /** Path steps K of the integrated gradient (default 20; I-GOS 15). */
  igSteps?: number;
  /** L1 weight (default 10; I-GOS 1). */
  l1?: number;
  /** (Bilateral) TV weight (default 20). */
  l2?: number;
  /** Initial line-search step (default 1000; I-GOS 8). */
  alpha?: number;
  /** Mask side (default 28 at 224 px, scaled, at least 2). */
  maskSize?: number;
  /** Baseline blur sigma in pixels (default 50 at 224 px, scaled). */
  blurSigma?: number;
  /** Noise std on path images (default 0.2; 0 turns it off). */
  noise?: number;
  seed?: number;
  /** probability (softmax of an index target; default) or target (as given). */
  score?: MaskScore;
}

/** What `igos` used (defaults resolved) and how its objective fell. */
export interface IgosDetails extends Record<string, unknown> {
  /** iGOS++ (deletion and insertion masks) or I-GOS (deletion only). */
  variant: "igos++" | "igos";
  /** Outer iterations run. */
  iterations: number;
  /** Side of the square mask grid, in cells. */
  maskSize: number;
  /** Per example, the objective after each iteration (with that iteration's noise). */
  objective: number[][];
}

interface Problem {
  model: Model;
  target: Target;
  x: Tensor;
  base: Tensor;
  size: number;
  h: number;
  w: number;
  steps: number;
  noise: number;
  rng: Random;
  l1: number;
  l2: number;
  bilateral: boolean;
  /** exp(-d^2 / 0.01) of the image's vertical and horizontal differences (bilateral TV). */
  edgeWeights?: [Tensor, Tensor];
}

function upscale(m: Tensor, p: Problem): Tensor {
  return resize(m, [p.h, p.w], { mode: "bilinear", alignCorners: true });
}

/** Mean over the K path images of the score; `from` at the mask, `to` elsewhere. */
function pathScore(p: Problem, up: Tensor, from: Tensor, to: Tensor): Tensor {
  const imgs = [];
  for (let k = 1; k <= p.steps; k++) {
    const mk = mul(up, k / p.steps);
    imgs.push(add(mul(from, mk), mul(to, sub(1, mk))));
  }
  let batch = concat(imgs, 0);
  if (p.noise > 0) {
    const v = new Float32Array(batch.size);
    for (let i = 0; i < v.length; i++) v[i] = p.rng.normal() * p.noise;
    batch = add(batch, tensor(v, batch.shape));
  }
  return div(sum(targetScores(p.model(batch), p.target)), p.steps);
}

function regulariser(p: Problem, m: Tensor): Tensor {
  const l1 = mul(mean(abs(sub(1, m))), p.l1);
  let tv = totalVariation(m, 2);
  if (p.bilateral && p.edgeWeights) {
    const up = upscale(m, p);
    const [ev, eh] = p.edgeWeights;
    const dv = sub(
      slice(up, [0, 0, 1, 0], [1, 1, p.h - 1, p.w]),
      slice(up, [0, 0, 0, 0], [1, 1, p.h - 1, p.w]),
    );
    const dh = sub(
      slice(up, [0, 0, 0, 1], [1, 1, p.h, p.w - 1]),
      slice(up, [0, 0, 0, 0], [1, 1, p.h, p.w - 1]),
    );
    tv = add(tv, add(mean(mul(ev, square(dv))), mean(mul(eh, square(dh)))));
  }
  return add(l1, mul(sum(tv), p.l2));
}

/**
 * The objective; `halved` gives the gradient's form (path terms / 2), the line search uses the
 * full one, as the reference does.
 */
function objective(p: Problem, md: Tensor, mi: Tensor | null, halved: boolean): Tensor {
  const upD = upscale(md, p);
  if (!mi) {
    return add(pathScore(p, upD, p.x, p.base), regulariser(p, md));
  }
  const upI = upscale(mi, p);
  const upC = mul(upD, upI);
  let paths = sub(pathScore(p, upD, p.x, p.base), pathScore(p, upI, p.base, p.x));
  paths = add(paths, sub(pathScore(p, upC, p.x, p.base), pathScore(p, upC, p.base, p.x)));
  return add(halved ? mul(paths, 0.5) : paths, regulariser(p, mul(md, mi)));
}

function edgeWeights(x: Tensor, h: number, w: number): [Tensor, Tensor] {
  const c = x.shape[1];
  const dv = mean(
    sub(slice(x, [0, 0, 1, 0], [1, c, h - 1, w]), slice(x, [0, 0, 0, 0], [1, c, h - 1, w])),
    1,
    true,
  );
  const dh = mean(
    sub(slice(x, [0, 0, 0, 1], [1, c, h, w - 1]), slice(x, [0, 0, 0, 0], [1, c, h, w - 1])),
    1,
    true,
  );
  return [exp(mul(square(dv), -1 / 0.01)), exp(mul(square(dh), -1 / 0.01))];
}

const clamp01 = (v: Float32Array) => v.map((e) => Math.min(1, Math.max(0, e)));

/**
 * iGOS++ / I-GOS masks, one per example: map [N, 1, H, W] = 1 - the final mask (the region whose
 * deletion lowers and whose insertion raises the target score).
 */
export async function igos(
  model: Model,
  x: Tensor,
  target: Target,
  o: IgosOptions = {},
): Promise<Attribution<IgosDetails>> {
  const variant = o.variant ?? "igos++";
  const api = variant === "igos" ? "igos" : "igos++";
  const ctx = engineContext(o);
  await checkCall(x, target, api);
  if (variant !== "igos++" && variant !== "igos")
    throw new Error(`igos: variant must be igos++ or igos, got "${variant}"`);
  if (x.rank !== 4) throw new Error(`${api}: expected an [N, C, H, W] input, got [${x.shape}]`);
  const plus = variant === "igos++";
  const [n, , h, w] = x.shape;
  const scale = Math.min(h, w) / 224;
  const iterations = positiveInt(o.iterations ?? 20, "iterations", api, 0);
  const steps = positiveInt(o.igSteps ?? (plus ? 20 : 15), "igSteps", api);
  const l1 = nonNegative(o.l1 ?? (plus ? 10 : 1), "l1", api);
  const l2 = nonNegative(o.l2 ?? 20, "l2", api);
  const alpha0 = nonNegative(o.alpha ?? (plus ? 1000 : 8), "alpha", api);
  const size = positiveInt(o.maskSize ?? Math.max(2, Math.round(28 * scale)), "maskSize", api, 2);
  const sigma = nonNegative(o.blurSigma ?? 50 * scale, "blurSigma", api);
  const noise = nonNegative(o.noise ?? 0.2, "noise", api);
  const rng = new Random(o.seed ?? 0);
  const score = o.score ?? "probability";
  const cells = size * size;

  const maps = new Float32Array(n * h * w);
  const history: number[][] = [];
  for (let i = 0; i < n; i++) {
    const ti = scoreTarget(exampleTarget(target, i, n, api), score);
    const held = ctx.run(() =>
      tidy(() => {
        const xi = exampleOf(x, i);
        // The reference blurs with a 51 x 51 kernel of sigma 50: radius 25 = 0.5 sigma.
        const base = gaussianFilter(xi, sigma, { truncate: 0.5, border: "reflect101" });
        return {
          xi: keep(add(xi, 0)),
          base: keep(base),
          edges: plus ? (edgeWeights(xi, h, w).map(keep) as [Tensor, Tensor]) : undefined,
        };
      }),
    );
    const p: Problem = {
      model,
      target: ti,
      x: held.xi,
      base: held.base,
      size,
      h,
      w,
      steps,
      noise,
      rng,
      l1,
      l2,
      bilateral: plus,
      edgeWeights: held.edges,
    };
    let md = new Float32Array(cells).fill(1);
    let mi = plus ? new Float32Array(cells).fill(1) : null;
    const asMask = (v: Float32Array) => tensor(v, [1, 1, size, size]);
    const lossAt = async (d: Float32Array, e: Float32Array | null) => {
      const t = ctx.run(() => tidy(() => keep(objective(p, asMask(d), e && asMask(e), false))));
      try {
        return (await t.data())[0];
      } finally {
        t.dispose();
      }
    };
    const objectives: number[] = [];
    try {
      for (let t = 0; t < iterations; t++) {
        const g = ctx.run(() =>
          tidy(() => {
            const sources = mi ? [asMask(md), asMask(mi)] : [asMask(md)];
            const { grads } = valueAndGrads((...ms: Tensor[]) =>
              objective(p, ms[0], ms[1] ?? null, true),
            )(sources);
            return grads.map(keep);
          }),
        );
        const gd = (await g[0].data()) as Float32Array;
        const gi = g[1] ? ((await g[1].data()) as Float32Array) : null;
        for (const t of g) t.dispose();
        // Backtracking line search (Armijo) on the full objective.
        let norm = 0;
        for (const v of gd) norm += v * v;
        if (gi) for (const v of gi) norm += v * v;
        const baseLoss = await lossAt(md, mi);
        let alpha = alpha0;
        let nd = clamp01(md.map((v, j) => v - alpha * gd[j]));
        let ni = mi && gi ? clamp01(mi.map((v, j) => v - alpha * gi[j])) : null;
        let loss = await lossAt(nd, ni);
        while (loss > baseLoss - 1e-4 * alpha * norm && alpha >= 1e-5) {
          alpha *= 0.2;
          nd = clamp01(md.map((v, j) => v - alpha * gd[j]));
          ni = mi && gi ? clamp01(mi.map((v, j) => v - alpha * gi[j])) : null;
          loss = await lossAt(nd, ni);
        }
        md = nd;
        mi = ni;
        objectives.push(loss);
      }
      const up = ctx.run(() =>
        tidy(() => {
          const m = mi ? mul(asMask(md), asMask(mi)) : asMask(md);
          return keep(sub(1, upscale(m, p)));
        }),
      );
      maps.set((await up.data()) as Float32Array, i * h * w);
      up.dispose();
      history.push(objectives);
    } finally {
      held.xi.dispose();
      held.base.dispose();
      for (const e of held.edges ?? []) e.dispose();
    }
  }
  return {
    map: ctx.run(() => tensor(maps, [n, 1, h, w])),
    details: { variant, iterations, maskSize: size, objective: history },
  };
}

/** I-GOS (Qi et al. 2020): the deletion-only special case of iGOS++. */
export function iGos(
  model: Model,
  x: Tensor,
  target: Target,
  o: Omit<IgosOptions, "variant"> = {},
): Promise<Attribution<IgosDetails>> {
  return igos(model, x, target, { ...o, variant: "igos" });
}
