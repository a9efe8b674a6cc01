/**
 * PReLU as an op of its own (not composed from a select), so gradient-rule sets can give it the
 * rule their definition implies (guided backprop, deconvnet, DeepLIFT, LRP).
 */
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { greater, minimum, mul, sumTo } from "./binary.ts";
import { reshape } from "./reshape.ts";
import { where } from "./select.ts";

/** The slope where x <= 0 (alpha broadcast to x), as the backward rules read it. */
export function preluSlope(x: Tensor, alpha: Tensor | number): Tensor {
  return where(greater(x, 0), 1, alpha);
}

export const preluOp: OpDef<"prelu"> = defineOp({
  name: "prelu",
  // A select rather than relu(x) + a * min(x, 0): at x = 0 the latter's tie rule for min gives
  // the slope a / 2, outside the subdifferential; PyTorch (and this) give a.
  forward: ([x, a]) => where(greater(x, 0), x, mul(a, x)),
  vjp: (dy, { inputs: [x, a] }) => [
    () => mul(dy, preluSlope(x, a)),
    () => sumTo(mul(dy, minimum(x, 0)), a.shape),
  ],
});

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
  } else if (alpha.rank > 0) {
    a = reshape(alpha, []);
  }
  return runOp(preluOp, [x, a], {});
}

/** PReLU with a slope tensor that broadcasts to x NumPy-style (ONNX PRelu since opset 7). */
export function preluBroadcast(x: Tensor, slope: Tensor): Tensor {
  return runOp(preluOp, [x, slope], {});
}
