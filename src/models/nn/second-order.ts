/**
 * Second-order channel attention (SAN, Dai et al. 2019): channel covariance pooling, its matrix
 * square root by the Newton-Schulz iteration (as MPN-COV/SAN compute it: trace-normalised, a
 * fixed number of coupled iterations, trace restored), then the mean of each row as the channel
 * descriptor. Written with matmul and elementwise ops, so it is differentiable end to end.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { div, mul, sub } from "../../ops/binary.ts";
import { tensor } from "../../ops/creation.ts";
import { matmul } from "../../ops/matmul.ts";
import { mean, sum } from "../../ops/reduce.ts";
import { reshape } from "../../ops/reshape.ts";
import { slice } from "../../ops/slice.ts";
import { sqrt } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { squeezeExcite } from "./channel-attention.ts";
import { Module } from "./module.ts";
import type { Sequential } from "./sequential.ts";

function eye(n: number, scale = 1): Tensor {
  const v = new Float32Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = scale;
  return tensor(v, [1, n, n]);
}

/** x [N, C, H, W] -> [N, C, C]: (1/M) Xc Xc^T with Xc the features centred over the M = HW positions. */
export function covariancePool(x: Tensor): Tensor {
  if (x.rank !== 4) throw new Error(`covariancePool: expected [N, C, H, W], got [${x.shape}]`);
  const [n, c, h, w] = x.shape;
  const flat = reshape(x, [n, c, h * w]);
  const centred = sub(flat, mean(flat, 2, true));
  return div(matmul(centred, centred, false, true), h * w);
}

/**
 * Square root of symmetric positive semi-definite matrices a [N, C, C] by `iterations` coupled
 * Newton-Schulz steps on a / trace(a) (SAN's Sqrtm forward, iterN >= 2).
 */
export function newtonSchulzSqrt(a: Tensor, iterations = 5): Tensor {
  if (a.rank !== 3 || a.shape[1] !== a.shape[2]) {
    throw new Error(`newtonSchulzSqrt: expected square matrices [N, C, C], got [${a.shape}]`);
  }
  if (!Number.isInteger(iterations) || iterations < 2) {
    throw new Error(`newtonSchulzSqrt: iterations must be an integer >= 2, got ${iterations}`);
  }
  const c = a.shape[1];
  const i3 = eye(c, 3);
  const trace = sum(mul(a, eye(c)), [1, 2], true); // [N, 1, 1]
  const an = div(a, trace);
  let zy = mul(sub(i3, an), 0.5);
  let y = matmul(an, zy);
  let z = zy;
  for (let i = 1; i < iterations - 1; i++) {
    zy = mul(sub(i3, matmul(z, y)), 0.5);
    const yNext = matmul(y, zy);
    z = matmul(zy, z);
    y = yNext;
  }
  const root = mul(matmul(y, sub(i3, matmul(z, y))), 0.5);
  return mul(root, sqrt(trace));
}

/** SAN's SOCA: gate = conv_du(row means of sqrt(cov(x))), computed on the centre crop <= maxSize. */
export class SecondOrderChannelAttention extends Module {
  readonly convDu: Sequential;
  constructor(
    channels: number,
    reduction = 8,
    rng: Random = new Random(0),
    readonly iterations = 5,
    /** SAN pools over at most a 1000x1000 centre crop (to bound the cost of covariance pooling). */
    readonly maxSize = 1000,
  ) {
    super();
    this.convDu = this.child("conv_du", squeezeExcite(channels, reduction, rng));
  }
  forward(x: Tensor): Tensor {
    const [n, c, h, w] = x.shape;
    const m = this.maxSize;
    // SAN crops only an axis that exceeds the limit (centre, offset floor((size - m) / 2)).
    const top = h < m ? 0 : Math.floor((h - m) / 2);
    const left = w < m ? 0 : Math.floor((w - m) / 2);
    const region =
      h < m && w < m ? x : slice(x, [0, 0, top, left], [n, c, Math.min(h, m), Math.min(w, m)]);
    const root = newtonSchulzSqrt(covariancePool(region), this.iterations);
    const descriptor = reshape(mean(root, 1), [n, c, 1, 1]);
    return mul(this.convDu.call(descriptor), x);
  }
}
