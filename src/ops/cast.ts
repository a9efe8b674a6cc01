/** dtype conversion (float -> int truncates toward zero); no gradient flows through a cast. */
import { backendOf, fromHandle } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import type { DType } from "../kernels/backend.ts";
import { identity } from "./reshape.ts";

export const castOp: OpDef<"cast"> = defineOp({
  name: "cast",
  forward([x], { dtype }) {
    const backend = backendOf("cast", [x]);
    return fromHandle(backend.cast(x, dtype), x.shape, dtype, backend);
  },
  vjp: (dy, { inputs: [x] }) => [x.dtype === "float32" ? () => dy : null],
});

/** x converted to another dtype (float32 or int32). */
export function cast(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? identity(x) : runOp(castOp, [x], { dtype });
}
