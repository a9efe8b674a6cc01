/** Batched matrix products and the dense (fully connected) layer. */

import { backendOf, fromHandle, requireFloat } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { broadcastShapes, sizeOf } from "../kernels/shape.ts";
import { add } from "./binary.ts";
import { broadcastTo } from "./broadcast.ts";
import { sum } from "./reduce.ts";
import { reshape } from "./reshape.ts";

/** The primitive: a [B|1, M, K] times b [B|1, K, N] (operands optionally transposed). */
export const matmulOp: OpDef<"matmul"> = defineOp({
  name: "matmul",
  forward([a, b], { transA, transB }) {
    const backend = backendOf("matmul", [a, b]);
    const m = transA ? a.shape[2] : a.shape[1];
    const n = transB ? b.shape[1] : b.shape[2];
    const batch = Math.max(a.shape[0], b.shape[0]);
    return fromHandle(backend.matmul(a, b, transA, transB), [batch, m, n], "float32", backend);
  },
  vjp(dy, { inputs: [a, b], attrs: { transA, transB } }) {
    const mm = (x: Tensor, y: Tensor, tx: boolean, ty: boolean) =>
      runOp(matmulOp, [x, y], { transA: tx, transB: ty });
    // Sum over the batch where an operand was broadcast (batch 1).
    const fold = (g: Tensor, like: Tensor) =>
      like.shape[0] === 1 && g.shape[0] !== 1 ? sum(g, [0], true) : g;
    return [
      () => fold(transA ? mm(b, dy, transB, true) : mm(dy, b, false, !transB), a),
      () => fold(transB ? mm(dy, a, true, transA) : mm(a, dy, !transA, false), b),
    ];
  },
});

/**
 * a @ b with NumPy semantics for ranks >= 2 (batch axes broadcast); 1-D operands are treated as
 * a row (left) or column (right) vector like numpy.matmul.
 */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  requireFloat("matmul", a, b);
  if (a.rank < 1 || b.rank < 1)
    throw new Error(`matmul: scalars are not matrices ([${a.shape}] @ [${b.shape}])`);
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0], 1]) : b;
  const [ar, ac] = a2.shape.slice(-2);
  const [br, bc] = b2.shape.slice(-2);
  const k1 = transA ? ar : ac;
  const k2 = transB ? bc : br;
  if (k1 !== k2) {
    throw new Error(
      `matmul: inner dimensions differ: [${a.shape}]${transA ? "^T" : ""} @ [${b.shape}]${transB ? "^T" : ""} (${k1} vs ${k2})`,
    );
  }
  const batchA = a2.shape.slice(0, -2);
  const batchB = b2.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes("matmul", batchA, batchB);
  } catch {
    throw new Error(
      `matmul: batch dimensions [${batchA}] of [${a.shape}] and [${batchB}] of [${b.shape}] cannot be broadcast together`,
    );
  }
  const nb = sizeOf(batch);
  const as3 = (x: Tensor, own: readonly number[]) => {
    const ownN = sizeOf(own);
    if (ownN === nb || ownN === 1) return reshape(x, [ownN, ...x.shape.slice(-2)]);
    return reshape(broadcastTo(x, [...batch, ...x.shape.slice(-2)]), [nb, ...x.shape.slice(-2)]);
  };
  const y = runOp(matmulOp, [as3(a2, batchA), as3(b2, batchB)], { transA, transB });
  const m = transA ? ac : ar;
  const n = transB ? br : bc;
  const shape = [...batch, ...(a.rank === 1 ? [] : [m]), ...(b.rank === 1 ? [] : [n])];
  return reshape(y, shape);
}

/**
 * The dense layer y = x W^T + b with PyTorch's weight layout W [out, in]; its own op so LRP rules
 * can replace its gradient as a unit (bias included).
 */
export const linearOp: OpDef<"linear"> = defineOp({
  name: "linear",
  forward([x, w, b]) {
    const y = matmul(x, w, false, true);
    return b ? add(y, b) : y;
  },
  vjp(dy, { inputs: [x, w, b] }) {
    return [() => matmul(dy, w), () => matmul(dy, x, true, false), b ? () => sum(dy, [0]) : null];
  },
});

/** x [N, in] -> [N, out] with W [out, in] and optional bias [out]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  if (x.rank !== 2 || w.rank !== 2 || x.shape[1] !== w.shape[1]) {
    throw new Error(
      `linear: expected x [N, in] and W [out, in], got x [${x.shape}] and W [${w.shape}]`,
    );
  }
  if (b && (b.rank !== 1 || b.shape[0] !== w.shape[0])) {
    throw new Error(`linear: bias [${b.shape}] must be [${w.shape[0]}] for W [${w.shape}]`);
  }
  return runOp(linearOp, b ? [x, w, b] : [x, w], {});
}
