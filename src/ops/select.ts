/** where(cond, a, b): elementwise choice with broadcasting; the gradient follows the choice. */

import { backendOf, fromHandle } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { broadcastShapes } from "../kernels/shape.ts";
import { lift, sumTo, type TensorLike } from "./binary.ts";
import { zerosLike } from "./creation.ts";

export const selectOp: OpDef<"select"> = defineOp({
  name: "select",
  forward([c, a, b]) {
    const backend = backendOf("where", [c, a, b]);
    const shape = broadcastShapes("where", broadcastShapes("where", c.shape, a.shape), b.shape);
    return fromHandle(backend.select(c, a, b, shape), shape, "float32", backend);
  },
  vjp(dy, { inputs: [c, a, b] }) {
    const zero = zerosLike(dy);
    return [
      null,
      () => sumTo(runOp(selectOp, [c, dy, zero], {}), a.shape),
      () => sumTo(runOp(selectOp, [c, zero, dy], {}), b.shape),
    ];
  },
});

/** cond != 0 ? a : b. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  return runOp(selectOp, [cond, lift(a, cond), lift(b, cond)], {});
}
