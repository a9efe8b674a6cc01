/** Numerically stable softmax and log-softmax, composed from primitives (gradients follow). */
import type { Tensor } from "../autodiff/tensor.ts";
import { div, sub } from "./binary.ts";
import { logSumExp, max, sum } from "./reduce.ts";
import { exp } from "./unary.ts";

/** exp(x) / sum(exp(x)) along `axis` (default the last), computed stably. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const e = exp(sub(x, max(x, axis, true)));
  return div(e, sum(e, axis, true));
}

/** x - logSumExp(x) along `axis` (default the last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return sub(x, logSumExp(x, axis, true));
}
