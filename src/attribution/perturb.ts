/**
 * Scores of many perturbed copies of an image batch, a chunk at a time: perturbation j replaces
 * the pixels where its mask is 1 (all channels) by a fill value or a fill image. Shared by
 * occlusion, feature ablation, RISE-style masking and the deletion metrics.
 */
import { type EngineContext, engineContext } from "../autodiff/context.ts";
import { Tensor } from "../autodiff/tensor.ts";
import { keep, tidy } from "../autodiff/tidy.ts";
import { add, mul, sub } from "../ops/binary.ts";
import { tensor } from "../ops/creation.ts";
import { chunks } from "./batching.ts";
import { evalScores, readScores, replicate } from "./evaluate.ts";
import { targetScores } from "./target.ts";
import type { Model, Target } from "./types.ts";

/** A fill value, or an image of the input's shape (e.g. a blurred copy). */
export type Fill = number | Tensor;

export function checkFill(fill: Fill, x: Tensor, api: string): void {
  if (typeof fill === "number") {
    if (!Number.isFinite(fill))
      throw new Error(`${api}: the fill value must be finite, got ${fill}`);
    return;
  }
  if (
    !(fill instanceof Tensor) ||
    fill.rank !== x.rank ||
    fill.shape.some((d, i) => d !== x.shape[i])
  ) {
    throw new Error(
      `${api}: a fill image must have the input's shape [${x.shape}], got ${fill instanceof Tensor ? `[${fill.shape}]` : typeof fill}`,
    );
  }
}

/**
 * x * (1 - m) + fill * m for masks m_j [H, W] (values in [0, 1]; soft masks blend), rows
 * mask-major: row j * N + i is example i under mask j.
 */
export function maskedBatch(x: Tensor, masks: Float32Array, count: number, fill: Fill): Tensor {
  const [n, , h, w] = x.shape;
  const m = new Float32Array(count * n * h * w);
  for (let j = 0; j < count; j++) {
    for (let i = 0; i < n; i++)
      m.set(masks.subarray(j * h * w, (j + 1) * h * w), (j * n + i) * h * w);
  }
  const mt = tensor(m, [count * n, 1, h, w]);
  const xs = replicate(x, count);
  const kept = mul(xs, sub(1, mt));
  if (typeof fill === "number") return fill === 0 ? kept : add(kept, mul(mt, fill));
  return add(kept, mul(replicate(fill, count), mt));
}

/**
 * f(x_j) for perturbations j = 0..count-1 (mask j written by `writeMask(j, buffer)` into an
 * H x W zeroed buffer), evaluated in chunks: returns scores [count * N], mask-major, and the
 * unperturbed scores [N].
 */
export async function perturbedScores(
  model: Model,
  x: Tensor,
  target: Target,
  count: number,
  writeMask: (j: number, mask: Float32Array) => void,
  fill: Fill,
  batchSize: number,
  ctx: EngineContext = engineContext(),
  api = "perturbedScores",
): Promise<{ scores: Float64Array; base: Float64Array }> {
  const [n, , h, w] = x.shape;
  const base = await evalScores(model, x, target, batchSize, ctx, api);
  const scores = new Float64Array(count * n);
  const perCall = Math.max(1, Math.floor(batchSize / n));
  for (const [a, b] of chunks(count, perCall)) {
    const masks = new Float32Array((b - a) * h * w);
    for (let j = a; j < b; j++) writeMask(j, masks.subarray((j - a) * h * w, (j - a + 1) * h * w));
    const s = ctx.run(() =>
      tidy(() => keep(targetScores(model(maskedBatch(x, masks, b - a, fill)), target))),
    );
    try {
      scores.set(await readScores(s, api, a * n), a * n);
    } finally {
      s.dispose();
    }
  }
  return { scores, base };
}
