/** Batch norm and layer norm, inference and training forms, composed from primitives. */
import type { Tensor } from "../autodiff/tensor.ts";
import { add, div, mul, sub } from "./binary.ts";
import { mean, variance } from "./reduce.ts";
import { reshape } from "./reshape.ts";
import { neg, sqrt } from "./unary.ts";

/** Batch norm's running statistics, optional affine weight and bias, and eps (default 1e-5). */
export interface BatchNormParams {
  runningMean: Tensor;
  runningVar: Tensor;
  weight?: Tensor | null;
  bias?: Tensor | null;
  eps?: number;
}

function perChannel(t: Tensor, rank: number): Tensor {
  return reshape(t, [1, t.size, ...Array<number>(Math.max(rank - 2, 0)).fill(1)]);
}

function affine(
  y: Tensor,
  weight: Tensor | null | undefined,
  bias: Tensor | null | undefined,
  rank: number,
) {
  const scaled = weight ? mul(y, perChannel(weight, rank)) : y;
  return bias ? add(scaled, perChannel(bias, rank)) : scaled;
}

function checkChannels(op: string, x: Tensor, ...ts: (Tensor | null | undefined)[]): void {
  if (x.rank < 2) throw new Error(`${op}: expected [N, C, ...], got [${x.shape}]`);
  for (const t of ts) {
    if (t && t.size !== x.shape[1]) {
      throw new Error(
        `${op}: parameter [${t.shape}] does not match ${x.shape[1]} channels of [${x.shape}]`,
      );
    }
  }
}

/** Inference: normalise with the running statistics (PyTorch eval mode). */
export function batchNorm(x: Tensor, p: BatchNormParams): Tensor {
  checkChannels("batchNorm", x, p.runningMean, p.runningVar, p.weight, p.bias);
  // As PyTorch's CPU inference kernel: one multiply and one add over x (instead of four ops
  // over x, and one op in its gradient instead of two).
  const { scale, shift } = batchNormScaleShift(p);
  const r = x.rank;
  return add(mul(x, perChannel(scale, r)), perChannel(shift, r));
}

/**
 * Inference batch norm as y = x * scale + shift per channel: scale = weight / sqrt(var + eps),
 * shift = bias - mean * scale ([C] vectors, differentiable in every parameter).
 */
export function batchNormScaleShift(p: BatchNormParams): { scale: Tensor; shift: Tensor } {
  let scale = div(1, sqrt(add(p.runningVar, p.eps ?? 1e-5)));
  if (p.weight) scale = mul(scale, p.weight);
  let shift = mul(neg(p.runningMean), scale);
  if (p.bias) shift = add(shift, p.bias);
  return { scale, shift };
}

/**
 * Training: normalise with the batch statistics (biased variance, as PyTorch does for the
 * output) and return them so the caller can update running averages (PyTorch uses the unbiased
 * variance there).
 */
export function batchNormTrain(
  x: Tensor,
  p: { weight?: Tensor | null; bias?: Tensor | null; eps?: number },
): { y: Tensor; mean: Tensor; variance: Tensor; unbiasedVariance: Tensor } {
  checkChannels("batchNormTrain", x, p.weight, p.bias);
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const m = mean(x, axes, true);
  const v = variance(x, axes, true);
  const n = x.size / x.shape[1];
  const y = affine(div(sub(x, m), sqrt(add(v, p.eps ?? 1e-5))), p.weight, p.bias, x.rank);
  return {
    y,
    mean: reshape(m, [x.shape[1]]),
    variance: reshape(v, [x.shape[1]]),
    unbiasedVariance: reshape(mul(v, n / Math.max(n - 1, 1)), [x.shape[1]]),
  };
}

/** Layer norm over the last `normalizedShape.length` axes (PyTorch F.layer_norm). */
export function layerNorm(
  x: Tensor,
  normalizedRank: number,
  p: { weight?: Tensor | null; bias?: Tensor | null; eps?: number } = {},
): Tensor {
  if (!Number.isInteger(normalizedRank) || normalizedRank < 1 || normalizedRank > x.rank) {
    throw new Error(`layerNorm: cannot normalise the last ${normalizedRank} axes of [${x.shape}]`);
  }
  const axes = Array.from({ length: normalizedRank }, (_, i) => x.rank - normalizedRank + i);
  const tail = x.shape.slice(x.rank - normalizedRank);
  for (const t of [p.weight, p.bias]) {
    if (t && (t.rank !== tail.length || t.shape.some((d, i) => d !== tail[i]))) {
      throw new Error(`layerNorm: parameter [${t.shape}] must have the normalised shape [${tail}]`);
    }
  }
  const m = mean(x, axes, true);
  const v = variance(x, axes, true);
  const y = div(sub(x, m), sqrt(add(v, p.eps ?? 1e-5)));
  const scaled = p.weight ? mul(y, p.weight) : y;
  return p.bias ? add(scaled, p.bias) : scaled;
}
