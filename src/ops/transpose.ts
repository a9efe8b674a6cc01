/** Axis permutation (PyTorch permute / NumPy transpose). */
import { backendOf, fromHandle } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { identity } from "./reshape.ts";

export const transposeOp: OpDef<"transpose"> = defineOp({
  name: "transpose",
  forward([x], { perm }) {
    const backend = backendOf("transpose", [x]);
    return fromHandle(
      backend.transpose(x, perm),
      perm.map((p) => x.shape[p]),
      x.dtype,
      backend,
    );
  },
  vjp(dy, { attrs: { perm } }) {
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [() => transpose(dy, inverse)];
  },
});

/** Permutes axes; the default reverses them. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  const sorted = [...p].map((a) => (a < 0 ? a + x.rank : a)).sort((a, b) => a - b);
  if (p.length !== x.rank || sorted.some((a, i) => a !== i)) {
    throw new Error(`transpose: [${p}] is not a permutation of the ${x.rank} axes of [${x.shape}]`);
  }
  const norm = p.map((a) => (a < 0 ? a + x.rank : a));
  if (norm.every((a, i) => a === i)) return identity(x);
  return runOp(transposeOp, [x], { perm: norm });
}

/** The same as transpose. */
export const permute = transpose;
