/**
 * Extremal perturbations (Fong, Patrick & Vedaldi 2019), following TorchRay's
 * `extremal_perturbation`: for each target area a, a smooth mask m (1 = keep) of area a that
 * maximises the target score of the preserved image (or minimises it for the deleted image, or
 * both: "dual"). The area is a constraint, enforced as the ranking loss
 * ||sort(m) - r_a||^2 / M against the reference vector r_a (M (1 - a) zeros then ones), weighted
 * by lambda = 300 growing by 1.0035 per iteration. Masks are smooth max-convolutions of a
 * low-resolution parameter grid (step 7, sigma 21 at 224 px, scaled to the input), the
 * perturbation is a blur pyramid of 8 levels (max blur 20 px at 224), and the optimiser is SGD
 * with momentum 0.9 and dampening 0.9 at learning rate 0.01, 800 iterations, with the input
 * flipped horizontally on even iterations (jitter). All areas are optimised in one batch.
 */
import { type EngineOptions, engineContext } from "../../autodiff/context.ts";
import { valueAndGrads } from "../../autodiff/grad.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { add, equal, mul, sub } from "../../ops/binary.ts";
import { gaussianFilter } from "../../ops/blur.ts";
import { concat } from "../../ops/concat.ts";
import { tensor, zeros } from "../../ops/creation.ts";
import { gather } from "../../ops/gather.ts";
import { mean, sum } from "../../ops/reduce.ts";
import { reshape } from "../../ops/reshape.ts";
import { reverse, slice } from "../../ops/slice.ts";
import { softmax } from "../../ops/softmax.ts";
import { clamp, floor } from "../../ops/unary.ts";
import { checkImageCall } from "../evaluate.ts";
import { targetScores } from "../target.ts";
import type { Attribution, Model, Target } from "../types.ts";
import { exampleOf, exampleTarget, positiveInt } from "./mask-common.ts";

/**
 * TorchRay's extremal-perturbation variants (Fong et al. 2019): preserve maximises the score of the
 * masked region alone, delete minimises the score with the region removed, dual does both.
 */
export type ExtremalVariant = "preserve" | "delete" | "dual";

/** Options of extremal perturbation; defaults are TorchRay's (sizes given at 224 px are scaled). */
export interface ExtremalPerturbationOptions extends EngineOptions {
  /** Target areas, fractions in (0, 1) (default [0.1]). */
  areas?: readonly number[];
  /** preserve (default): keep the mask; delete: remove it; dual: both. */
  variant?: ExtremalVariant;
  /** Optimisation steps (default 800). */
  iterations?: number;
  /** "blur" (default): a blur pyramid; "fade": the input scaled towards 0. */
  perturbation?: "blur" | "fade";
  /** Pyramid levels (default 8). */
  levels?: number;
  /** Largest blur sigma in pixels (default 20 at 224 px, scaled to the input). */
  maxBlur?: number;
  /** Parameter grid step in pixels (default 7 at 224 px, scaled and rounded, at least 1). */
  step?: number;
  /** Mask smoothing radius in pixels (default 21 at 224 px, scaled). */
  sigma?: number;
  /** Flip the input horizontally on even iterations (default true). */
  jitter?: boolean;
  /** SGD learning rate (default 0.01). */
  learningRate?: number;
  /** Initial weight of the area constraint (default 300). */
  areaWeight?: number;
}

/** What `extremalPerturbation` used (defaults resolved, sizes in pixels) and what it reached. */
export interface ExtremalPerturbationDetails extends Record<string, unknown> {
  /** Target areas, fractions of the mask grid. */
  areas: number[];
  variant: ExtremalVariant;
  /** Optimisation steps per area. */
  iterations: number;
  /** Parameter grid step in pixels. */
  step: number;
  /** Mask smoothing radius in pixels. */
  sigma: number;
  /** Largest blur sigma of the perturbation pyramid in pixels. */
  maxBlur: number;
  /**
   * Per example, per area: the mean of the final mask over its whole grid, the quantity the area
   * constraint holds to the target (TorchRay ranks the mask with its margin of sigma around the
   * image, so the part inside the image may cover up to area * grid / (H W) of it).
   */
  maskArea: number[][];
  /** Per example, per area: the final reward (the preserved score, minus the deleted one for dual). */
  reward: number[][];
}

/**
 * TorchRay's MaskGenerator as a gather: output pixel u of the (margin-padded) mask looks at the
 * (2R+1)^2 parameters around floor(u / step), each weighted by exp(-2 max(d / sigma - 0.5, 0)^2)
 * of its distance d to the parameter's centre, and pools them with a softmax of coldness 20.
 */
export interface MaskGenerator {
  /** Parameter grid [h, w]. */
  inShape: [number, number];
  /** Full mask [H', W'] before cropping the margin. */
  outShape: [number, number];
  margin: number;
  /** (2R+1)^2 taps. */
  taps: number;
  /** Per tap and output pixel: index into the flattened parameters, or h*w (a zero pad). */
  index: Int32Array;
  /** Per tap and output pixel: the kernel weight. */
  weight: Float32Array;
}

export function maskGenerator(
  shape: readonly [number, number],
  step: number,
  sigma: number,
): MaskGenerator {
  if (!Number.isInteger(step) || step < 1)
    throw new Error(`extremalPerturbation: step must be a positive integer, got ${step}`);
  if (!(sigma > 0)) throw new Error(`extremalPerturbation: sigma must be > 0, got ${sigma}`);
  const margin = sigma;
  const padding = 1 + Math.ceil((margin + sigma) / step);
  const radius = 1 + Math.ceil(sigma / step);
  const inShape = shape.map((z) => Math.ceil(z / step)) as [number, number];
  const mid = inShape.map((z) => z + 2 * padding - (2 * radius + 1) + 1);
  const outShape = mid.map((z) => step * z - step + 1) as [number, number];
  const m = Math.round(margin);
  if (m + shape[0] > outShape[0] || m + shape[1] > outShape[1]) {
    throw new Error(
      `extremalPerturbation: the mask grid [${outShape}] cannot hold the image [${shape}] with margin ${m}`,
    );
  }
  const k = 2 * radius + 1;
  const taps = k * k;
  const plane = outShape[0] * outShape[1];
  const index = new Int32Array(taps * plane);
  const weight = new Float32Array(taps * plane);
  const pad = inShape[0] * inShape[1];
  for (let ky = 0; ky < k; ky++) {
    for (let kx = 0; kx < k; kx++) {
      const t = ky * k + kx;
      for (let uy = 0; uy < outShape[0]; uy++) {
        const iy = Math.floor(uy / step) + ky - padding;
        for (let ux = 0; ux < outShape[1]; ux++) {
          const ix = Math.floor(ux / step) + kx - padding;
          const d = Math.hypot(uy - (margin + step * iy), ux - (margin + step * ix));
          const z = Math.max(d / sigma - 0.5, 0);
          const o = t * plane + uy * outShape[1] + ux;
          weight[o] = Math.exp(-2 * z * z);
          const inside = iy >= 0 && iy < inShape[0] && ix >= 0 && ix < inShape[1];
          index[o] = inside ? iy * inShape[1] + ix : pad;
        }
      }
    }
  }
  return { inShape, outShape, margin: m, taps, index, weight };
}

/** Masks [A, 1, H', W'] (clamped to [0, 1]) from parameters [A, h * w]. */
export function generateMasks(
  g: MaskGenerator,
  params: Tensor,
  index: Tensor,
  weight: Tensor,
): Tensor {
  const a = params.shape[0];
  const plane = g.outShape[0] * g.outShape[1];
  const padded = concat([params, zeros([a, 1])], 1);
  const picked = reshape(gather(padded, index, 1), [a, g.taps, plane]);
  const v = mul(picked, weight);
  const pooled = sum(mul(v, softmax(mul(v, 20), 1)), 1);
  return reshape(clamp(pooled, 0, 1), [a, 1, g.outShape[0], g.outShape[1]]);
}

/**
 * Perturbed images [A, C, H, W] for masks [A, 1, H, W] (1 = the input, 0 = the strongest
 * perturbation): linear interpolation between the two pyramid levels around m (L - 1).
 */
function applyPyramid(levels: Tensor[], mask: Tensor): Tensor {
  const top = levels.length - 1;
  const w = mul(mask, top);
  const k = clamp(floor(w), 0, top - 1);
  const frac = sub(w, k);
  let out: Tensor | undefined;
  for (let l = 0; l < top; l++) {
    const at = equal(k, l);
    const term = mul(at, add(levels[l], mul(frac, sub(levels[l + 1], levels[l]))));
    out = out ? add(out, term) : term;
  }
  return out as Tensor;
}

/** Ranks of each row's values (ascending; ties by position), [A * M]. */
function ranks(values: Float32Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows * cols);
  const order = new Int32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < cols; i++) order[i] = i;
    const row = values.subarray(r * cols, (r + 1) * cols);
    order.sort((p, q) => row[p] - row[q] || p - q);
    for (let i = 0; i < cols; i++) out[r * cols + order[i]] = i;
  }
  return out;
}

/**
 * Extremal perturbation masks, one per example and area: map [N, A, H, W] in [0, 1] (1 = the
 * region that preserves the target score).
 */
export async function extremalPerturbation(
  model: Model,
  x: Tensor,
  target: Target,
  o: ExtremalPerturbationOptions = {},
): Promise<Attribution<ExtremalPerturbationDetails>> {
  const api = "extremalPerturbation";
  const ctx = engineContext(o);
  await checkImageCall(x, target, api);
  const [n, , h, w] = x.shape;
  const areas = [...(o.areas ?? [0.1])];
  if (areas.length === 0 || areas.some((a) => !(a > 0 && a < 1)))
    throw new Error(`${api}: areas must be fractions in (0, 1), got [${areas}]`);
  const variant = o.variant ?? "preserve";
  if (!["preserve", "delete", "dual"].includes(variant))
    throw new Error(`${api}: variant must be preserve, delete or dual, got "${variant}"`);
  const iterations = positiveInt(o.iterations ?? 800, "iterations", api, 0);
  const levels = positiveInt(o.levels ?? 8, "levels", api, 2);
  const scale = Math.min(h, w) / 224;
  const step = o.step ?? Math.max(1, Math.round(7 * scale));
  const sigma = o.sigma ?? 21 * scale;
  const maxBlur = o.maxBlur ?? 20 * scale;
  const perturbation = o.perturbation ?? "blur";
  if (perturbation !== "blur" && perturbation !== "fade")
    throw new Error(`${api}: perturbation must be blur or fade, got "${perturbation}"`);
  const lr = o.learningRate ?? 0.01;
  const jitter = o.jitter ?? true;
  const gen = maskGenerator([h, w], step, sigma);
  const A = areas.length;
  const cols = gen.outShape[0] * gen.outShape[1];
  const reference = areas.map((a) => Math.floor(cols * (1 - a)));
  const paramSize = gen.inShape[0] * gen.inShape[1];

  const maps = new Float32Array(n * A * h * w);
  const maskArea: number[][] = [];
  const reward: number[][] = [];
  const { index, weight } = ctx.run(() => ({
    index: keep(tensor(gen.index)),
    weight: keep(tensor(gen.weight, [1, gen.taps, cols])),
  }));
  try {
    for (let i = 0; i < n; i++) {
      const ti = exampleTarget(target, i, n, api);
      const pyramid = ctx.run(() =>
        tidy(() => {
          const xi = exampleOf(x, i);
          return Array.from({ length: levels }, (_, l) => {
            const t = l / (levels - 1);
            const y =
              perturbation === "blur"
                ? t === 1
                  ? xi
                  : gaussianFilter(xi, (1 - t) * maxBlur)
                : mul(xi, t);
            return keep(add(y, 0));
          });
        }),
      );
      try {
        const params = new Float32Array(A * paramSize).fill(1);
        const velocity = new Float32Array(A * paramSize);
        let regulWeight = o.areaWeight ?? 300;
        let lastRewards = new Float64Array(A);
        const currentMask = async () => {
          const full = ctx.run(() =>
            tidy(() => keep(generateMasks(gen, tensor(params, [A, paramSize]), index, weight))),
          );
          try {
            return (await full.data()) as Float32Array;
          } finally {
            full.dispose();
          }
        };
        const referenceOf = (values: Float32Array) => {
          const rk = ranks(values, A, cols);
          const out = new Float32Array(A * cols);
          for (let a = 0; a < A; a++) {
            for (let p = 0; p < cols; p++)
              out[a * cols + p] = rk[a * cols + p] >= reference[a] ? 1 : 0;
          }
          return out;
        };
        for (let t = 0; t < iterations; t++) {
          // The ranks of the current mask make the sorted-vector loss a plain squared distance
          // to a permuted 0/1 reference, with the same value and gradient. A backend that reads
          // synchronously gets them inside the taped pass; others need one extra mask pass.
          const syncRead = ctx.backend.readSync !== undefined;
          let ref01 = syncRead ? undefined : referenceOf(await currentMask());
          const flip = jitter && t % 2 === 0;
          const weightNow = regulWeight;
          const r = ctx.run(() =>
            tidy(() => {
              const { value, grads } = valueAndGrads((p: Tensor) => {
                const m = generateMasks(gen, p, index, weight);
                ref01 ??= referenceOf(m.dataSync() as Float32Array);
                const ref = tensor(ref01, m.shape);
                const crop = slice(m, [0, 0, gen.margin, gen.margin], [A, 1, h, w]);
                const imgs =
                  variant === "preserve"
                    ? applyPyramid(pyramid, crop)
                    : variant === "delete"
                      ? applyPyramid(pyramid, sub(1, crop))
                      : concat(
                          [applyPyramid(pyramid, crop), applyPyramid(pyramid, sub(1, crop))],
                          0,
                        );
                const input = flip ? reverse(imgs, [3]) : imgs;
                const s = targetScores(model(input), ti);
                const rew =
                  variant === "preserve"
                    ? s
                    : variant === "delete"
                      ? mul(s, -1)
                      : sub(slice(s, [0], [A]), slice(s, [A], [A]));
                const regul = mul(mean(mul(sub(m, ref), sub(m, ref)), [1, 2, 3]), -weightNow);
                // Minimise -energy; the rewards ride along as a second output.
                return concat([reshape(mul(sum(add(rew, regul)), -1), [1]), rew], 0);
              })(
                [tensor(params, [A, paramSize])],
                tensor(new Float32Array(A + 1).fill(0).fill(1, 0, 1)),
              );
              return { value: keep(value), grad: keep(grads[0]) };
            }),
          );
          const [vals, g] = await Promise.all([r.value.data(), r.grad.data()]);
          r.value.dispose();
          r.grad.dispose();
          lastRewards = Float64Array.from(vals.subarray(1));
          for (let j = 0; j < params.length; j++) {
            // torch SGD: the first step's buffer is the gradient itself, then dampened momentum.
            velocity[j] = t === 0 ? g[j] : 0.9 * velocity[j] + 0.1 * g[j];
            params[j] = Math.min(1, Math.max(0, params[j] - lr * velocity[j]));
          }
          regulWeight *= 1.0035;
        }
        const fullMask = await currentMask();
        const crop = new Float32Array(A * h * w);
        for (let a = 0; a < A; a++) {
          for (let y = 0; y < h; y++) {
            const from = a * cols + (y + gen.margin) * gen.outShape[1] + gen.margin;
            crop.set(fullMask.subarray(from, from + w), (a * h + y) * w);
          }
        }
        maps.set(crop, i * A * h * w);
        maskArea.push(
          areas.map((_, a) => {
            let s = 0;
            for (let p = 0; p < cols; p++) s += fullMask[a * cols + p];
            return s / cols;
          }),
        );
        reward.push(Array.from(lastRewards));
      } finally {
        for (const p of pyramid) p.dispose();
      }
    }
  } finally {
    index.dispose();
    weight.dispose();
  }
  return {
    map: ctx.run(() => tensor(maps, [n, A, h, w])),
    details: { areas, variant, iterations, step, sigma, maxBlur, maskArea, reward },
  };
}
