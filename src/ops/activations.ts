/** Parametric activations composed from primitives. */
import type { Tensor } from "../autodiff/tensor.ts";
import { greater, mul } from "./binary.ts";
import { reshape } from "./reshape.ts";
import { where } from "./select.ts";

/** PReLU: x where x > 0, else a * x, with a scalar or one slope per channel (axis 1). */
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
  // A select rather than relu(x) + a * min(x, 0): at x = 0 the latter's tie rule for min gives
  // the slope a / 2, outside the subdifferential; PyTorch (and this) give a.
  return where(greater(x, 0), x, mul(a, x));
}
