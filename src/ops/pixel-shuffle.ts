/**
 * Depth-to-space and space-to-depth on NCHW tensors, as a reshape and a transpose (so the
 * gradient is the inverse permutation). Two channel orders exist in the wild:
 * - "torch" (PyTorch PixelShuffle, ONNX DepthToSpace mode CRD): channel c*r*r + i*r + j.
 * - "tf" (TensorFlow depth_to_space as used by Keras models, ONNX mode DCR): channel (i*r + j)*C + c.
 */
import { backendOf, fromHandle } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { shapeEq } from "../kernels/shape.ts";
import { reshape } from "./reshape.ts";
import { slice } from "./slice.ts";
import { transpose } from "./transpose.ts";

/** Channel order of depth-to-space: PyTorch's (c r r) or TensorFlow's (r r c). */
export type ShuffleOrder = "torch" | "tf";

function checkFactor(op: string, x: Tensor, r: number): void {
  if (x.rank !== 4) throw new Error(`${op}: expected [N, C, H, W], got [${x.shape}]`);
  if (!Number.isInteger(r) || r < 1)
    throw new Error(`${op}: factor ${r} must be a positive integer`);
}

/** Depth-to-space: [N, C r^2, H, W] to [N, C, H r, W r]. */
export function pixelShuffle(x: Tensor, r: number, order: ShuffleOrder = "torch"): Tensor {
  checkFactor("pixelShuffle", x, r);
  const [n, cr, h, w] = x.shape;
  if (cr % (r * r))
    throw new Error(`pixelShuffle: ${cr} channels of [${x.shape}] are not divisible by ${r}x${r}`);
  const c = cr / (r * r);
  const y =
    order === "torch"
      ? transpose(reshape(x, [n, c, r, r, h, w]), [0, 1, 4, 2, 5, 3])
      : transpose(reshape(x, [n, r, r, c, h, w]), [0, 3, 4, 1, 5, 2]);
  return reshape(y, [n, c, h * r, w * r]);
}

/** Space-to-depth, the inverse of pixelShuffle: [N, C, H r, W r] to [N, C r^2, H, W]. */
export function pixelUnshuffle(x: Tensor, r: number, order: ShuffleOrder = "torch"): Tensor {
  checkFactor("pixelUnshuffle", x, r);
  const [n, c, hr, wr] = x.shape;
  if (hr % r || wr % r)
    throw new Error(
      `pixelUnshuffle: spatial size ${hr}x${wr} of [${x.shape}] is not divisible by ${r}`,
    );
  const h = hr / r;
  const w = wr / r;
  const split = reshape(x, [n, c, h, r, w, r]);
  const y =
    order === "torch" ? transpose(split, [0, 1, 3, 5, 2, 4]) : transpose(split, [0, 3, 5, 1, 2, 4]);
  return reshape(y, [n, c * r * r, h, w]);
}

export const interleaveOp: OpDef<"interleave"> = defineOp({
  name: "interleave",
  forward(xs, { r }) {
    const backend = backendOf("interleave", xs);
    const [n, c, h, w] = xs[0].shape;
    return fromHandle(backend.interleave(xs, r), [n, c, h * r, w * r], "float32", backend);
  },
  // Phase (a, b) is the strided slice dy[:, :, a::r, b::r].
  vjp(dy, { inputs, attrs: { r } }) {
    return inputs.map(
      (x, phase) => () =>
        slice(dy, [0, 0, Math.floor(phase / r), phase % r], x.shape, [1, 1, r, r]),
    );
  },
});

/**
 * r*r phases [N, C, H, W] (phase a*r + b holds output pixels (r y + a, r x + b)) interleaved into
 * [N, C, H r, W r]: pixelShuffle of the phases stacked as channel c*r*r + a*r + b, in one pass
 * and without the stacked tensor.
 */
export function interleave(xs: readonly Tensor[], r: number): Tensor {
  if (!Number.isInteger(r) || r < 1)
    throw new Error(`interleave: factor ${r} must be a positive integer`);
  if (xs.length !== r * r) {
    throw new Error(`interleave: expected ${r * r} phases for factor ${r}, got ${xs.length}`);
  }
  const shape = xs[0].shape;
  if (shape.length !== 4)
    throw new Error(`interleave: expected [N, C, H, W] phases, got [${shape}]`);
  for (const x of xs) {
    if (!shapeEq(x.shape, shape)) {
      throw new Error(`interleave: phase shapes differ: [${shape}] and [${x.shape}]`);
    }
    if (x.dtype !== "float32")
      throw new Error(`interleave: phases must be float32, got ${x.dtype}`);
  }
  return runOp(interleaveOp, xs, { r });
}
