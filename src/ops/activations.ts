/** Parametric activations composed from primitives. */
import type { Tensor } from "../autodiff/tensor.ts";
import { add, minimum, mul } from "./binary.ts";
import { reshape } from "./reshape.ts";
import { relu } from "./unary.ts";

/** PReLU: max(0, x) + a * min(0, x), with a scalar or one slope per channel (axis 1). */
export function prelu(x: Tensor, alpha: Tensor): Tensor {
  let a = alpha;
  if (alpha.size > 1) {
    if (x.rank < 2 || alpha.size !== x.shape[1]) {
      throw new Error(
        `prelu: ${alpha.size} slopes do not match ${x.shape[1]} channels of [${x.shape}]`,
      );
    }
    a = reshape(alpha, [1, alpha.size, ...Array<number>(x.rank - 2).fill(1)]);
  }
  return add(relu(x), mul(a, minimum(x, 0)));
}
