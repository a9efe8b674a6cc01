/** broadcastTo: materialises NumPy broadcasting; its gradient sums back over broadcast axes. */

import { backendOf, fromHandle } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { broadcastShapes, shapeEq } from "../kernels/shape.ts";
import { sumTo } from "./binary.ts";
import { identity } from "./reshape.ts";

export const broadcastToOp: OpDef<"broadcastTo"> = defineOp({
  name: "broadcastTo",
  forward([x], { shape }) {
    const backend = backendOf("broadcastTo", [x]);
    const zero = backend.fill([], 0, "float32");
    try {
      const zeroInfo = { handle: zero, shape: [] as number[], dtype: "float32" as const };
      return fromHandle(backend.binary("add", x, zeroInfo, shape), shape, "float32", backend);
    } finally {
      backend.free(zero);
    }
  },
  vjp(dy, { inputs: [x] }) {
    return [() => sumTo(dy, x.shape)];
  },
});

/** x repeated to `shape` by NumPy broadcasting; the gradient sums back. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const target = broadcastShapes("broadcastTo", x.shape, shape);
  if (!shapeEq(target, shape)) {
    throw new Error(`broadcastTo: [${x.shape}] cannot be broadcast to [${shape}]`);
  }
  if (shapeEq(x.shape, shape)) return identity(x);
  return runOp(broadcastToOp, [x], { shape: [...shape] });
}
