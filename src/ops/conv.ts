/**
 * 2-D convolution (NCHW, OIHW) and transposed convolution. One generalised kernel does all the
 * work: the input gradient is the same kernel on the upstream gradient with the weights flipped
 * and their channel axes swapped, stride turned into input dilation; a transposed convolution is
 * that input gradient taken as a forward op.
 */
import { backendOf, fromHandle, requireFloat } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Conv2dAttrs } from "../autodiff/op-attrs.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { type Conv2dParams, conv2dGeometry } from "../kernels/conv-geometry.ts";
import { add } from "./binary.ts";
import { sum } from "./reduce.ts";
import { reshape } from "./reshape.ts";
import { reverse, slice } from "./slice.ts";
import { transpose } from "./transpose.ts";
import { unaryOps } from "./unary.ts";

function paramsOf(a: Conv2dParams): Conv2dParams {
  return {
    stride: a.stride,
    dilation: a.dilation,
    inputDilation: a.inputDilation,
    pad: a.pad,
    groups: a.groups,
  };
}

export const conv2dOp: OpDef<"conv2d"> = defineOp({
  name: "conv2d",
  forward([x, w, b], attrs) {
    const backend = backendOf("conv2d", [x, w, ...(b ? [b] : [])]);
    const g = conv2dGeometry(x.shape, w.shape, attrs);
    return fromHandle(
      backend.conv2d(x, w, g, b ?? null, attrs.relu),
      [g.batch, g.outChannels, g.outHeight, g.outWidth],
      "float32",
      backend,
    );
  },
  epilogue: (attrs) => (attrs.relu ? unaryOps.relu : null),
  // The linear part only: a fused ReLU is its own tape node, so dy here is d/d(pre-activation).
  vjp(dy, { inputs: [x, w, b], attrs }) {
    const p = paramsOf(attrs);
    return [
      () => convInputGrad(dy, w, p, x.shape),
      () => runOp(conv2dBackpropFilterOp, [x, dy], { ...p, wShape: w.shape }),
      b ? () => sum(dy, [0, 2, 3]) : null,
    ];
  },
});

/** dW of conv2d; bilinear in (x, dy), so its own gradient is a conv and an input gradient. */
export const conv2dBackpropFilterOp: OpDef<"conv2dBackpropFilter"> = defineOp({
  name: "conv2dBackpropFilter",
  forward([x, dy], attrs) {
    const backend = backendOf("conv2dBackpropFilter", [x, dy]);
    const g = conv2dGeometry(x.shape, attrs.wShape, attrs);
    return fromHandle(backend.conv2dBackpropFilter(x, dy, g), attrs.wShape, "float32", backend);
  },
  vjp(gw, { inputs: [x, dy], attrs }) {
    const p = paramsOf(attrs);
    return [
      () => convInputGrad(dy, gw, p, x.shape),
      () => runOp(conv2dOp, [x, gw], { ...p, relu: false }),
    ];
  },
});

/** w [O, C/g, kh, kw] -> [C, O/g, kh, kw], spatially flipped: the input-gradient kernel. */
function flipSwap(w: Tensor, groups: number): Tensor {
  const [o, cg, kh, kw] = w.shape;
  const grouped = reshape(w, [groups, o / groups, cg, kh, kw]);
  const swapped = transpose(grouped, [0, 2, 1, 3, 4]);
  return reshape(reverse(swapped, [3, 4]), [cg * groups, o / groups, kh, kw]);
}

/**
 * The conv that computes conv2d(x, w, p)'s input gradient from dy: stride turned into input
 * dilation and pads that reach the kernel's far side ([C, O/g, kh, kw] flip-swapped kernel).
 */
function inputGradConv(
  dy: Tensor,
  w: Tensor,
  p: Conv2dParams,
  xShape: readonly number[],
): Conv2dParams {
  const [, , kh, kw] = w.shape;
  const [id0, id1] = p.inputDilation;
  const hd = (xShape[2] - 1) * id0 + 1;
  const wd = (xShape[3] - 1) * id1 + 1;
  const [sh, sw] = p.stride;
  const [dh, dw] = p.dilation;
  const [pt, , pl] = p.pad;
  const top = dh * (kh - 1) - pt;
  const left = dw * (kw - 1) - pl;
  const bottom = hd - 1 - (dy.shape[2] - 1) * sh + pt;
  const right = wd - 1 - (dy.shape[3] - 1) * sw + pl;
  return {
    stride: [1, 1],
    dilation: p.dilation,
    inputDilation: p.stride,
    pad: [top, bottom, left, right],
    groups: p.groups,
  };
}

/**
 * The geometry of inputGradConv's conv, or null where it needs a subsampled or grouped result,
 * or where the conv of an xShape input would not give dy's size (a transposed conv's output
 * padding of a stride or more, with dilation): conv2dBackpropInput's own gradients are that conv
 * and its filter gradient, which must meet dy pixel for pixel.
 */
function flippedGeometry(dy: Tensor, w: Tensor, p: Conv2dParams, xShape: readonly number[]) {
  const [o, cg, kh, kw] = w.shape;
  if (p.groups !== 1 || p.inputDilation[0] !== 1 || p.inputDilation[1] !== 1) return null;
  const forward = conv2dGeometry(xShape, w.shape, p);
  if (forward.outHeight !== dy.shape[2] || forward.outWidth !== dy.shape[3]) return null;
  return conv2dGeometry(dy.shape, [cg, o, kh, kw], inputGradConv(dy, w, p, xShape));
}

/**
 * conv2d's input gradient as one op, where the backend convolves with the flip-swapped kernel
 * without building it (Backend.conv2dFlippedKernel); linear in dy and in w, so its own gradient
 * is conv2d's forward (for dy) and filter gradient (for w), with the forward conv's attrs.
 */
export const conv2dBackpropInputOp: OpDef<"conv2dBackpropInput"> = defineOp({
  name: "conv2dBackpropInput",
  forward([dy, w], attrs) {
    const backend = backendOf("conv2dBackpropInput", [dy, w]);
    const g = flippedGeometry(dy, w, attrs, attrs.xShape);
    if (g === null || backend.conv2dFlippedKernel === undefined) {
      throw new Error(
        `conv2dBackpropInput: the ${backend.name} backend has no conv2dFlippedKernel for dy [${dy.shape}], w [${w.shape}] (groups ${attrs.groups}, input dilation ${attrs.inputDilation}); convInputGrad takes transpose + reverse + conv2d there`,
      );
    }
    return fromHandle(
      backend.conv2dFlippedKernel(dy, w, g),
      [g.batch, g.outChannels, g.outHeight, g.outWidth],
      "float32",
      backend,
    );
  },
  vjp(gx, { inputs: [dy, w], attrs }) {
    const p = paramsOf(attrs);
    return [
      () => runOp(conv2dOp, [gx, w], { ...p, relu: false }),
      () => runOp(conv2dBackpropFilterOp, [gx, dy], { ...p, wShape: w.shape }),
    ];
  },
});

/**
 * The gradient of conv2d(x, w, p) with respect to x of shape xShape, for upstream dy: a conv of
 * dy dilated by the stride with the flip-swapped kernel (one fused op where the backend has
 * one). With input dilation in p, the gradient at the dilated positions is computed and then
 * subsampled.
 */
export function convInputGrad(
  dy: Tensor,
  w: Tensor,
  p: Conv2dParams,
  xShape: readonly number[],
): Tensor {
  const fused = flippedGeometry(dy, w, p, xShape);
  if (fused !== null && backendOf("conv2d", [dy, w]).flippedKernelPays?.(fused)) {
    return runOp(conv2dBackpropInputOp, [dy, w], { ...paramsOf(p), xShape });
  }
  const g = runOp(conv2dOp, [dy, flipSwap(w, p.groups)], {
    ...inputGradConv(dy, w, p, xShape),
    relu: false,
  });
  const [id0, id1] = p.inputDilation;
  if (id0 === 1 && id1 === 1) return g;
  return slice(g, [0, 0, 0, 0], xShape, [1, 1, id0, id1]);
}

/**
 * Conv padding: one size, [vertical, horizontal], [top, bottom, left, right], "same" or "valid".
 */
export type Padding =
  | number
  | readonly [number, number]
  | readonly [number, number, number, number]
  | "same"
  | "valid";

const pair = (v: number | readonly [number, number]): [number, number] =>
  typeof v === "number" ? [v, v] : [v[0], v[1]];

export function resolvePadding(
  padding: Padding,
  inSize: readonly [number, number],
  kernel: readonly [number, number],
  stride: readonly [number, number],
  dilation: readonly [number, number],
): [number, number, number, number] {
  if (padding === "valid") return [0, 0, 0, 0];
  if (padding === "same") {
    // TensorFlow/PyTorch convention: the odd pixel of padding goes after (bottom/right).
    const total = [0, 1].map((i) =>
      Math.max(
        (Math.ceil(inSize[i] / stride[i]) - 1) * stride[i] +
          dilation[i] * (kernel[i] - 1) +
          1 -
          inSize[i],
        0,
      ),
    );
    return [
      Math.floor(total[0] / 2),
      total[0] - Math.floor(total[0] / 2),
      Math.floor(total[1] / 2),
      total[1] - Math.floor(total[1] / 2),
    ];
  }
  if (typeof padding === "number") return [padding, padding, padding, padding];
  if (padding.length === 2) return [padding[0], padding[0], padding[1], padding[1]];
  return [...padding] as [number, number, number, number];
}

/** PyTorch's conv options (bias, stride, padding, dilation, groups) and an optional fused ReLU. */
export interface Conv2dOptions {
  bias?: Tensor | null;
  stride?: number | readonly [number, number];
  padding?: Padding;
  dilation?: number | readonly [number, number];
  groups?: number;
  /** Fuse a ReLU into the kernel (the active ReLU gradient rule still applies). */
  relu?: boolean;
}

function checkBias(op: string, b: Tensor | null | undefined, channels: number): void {
  if (b && (b.rank !== 1 || b.shape[0] !== channels)) {
    throw new Error(`${op}: bias [${b.shape}] must have shape [${channels}]`);
  }
}

/** PyTorch F.conv2d semantics (plus 'same'/'valid' padding and an optional fused ReLU). */
export function conv2d(x: Tensor, w: Tensor, o: Conv2dOptions = {}): Tensor {
  requireFloat("conv2d", x, w);
  if (x.rank !== 4 || w.rank !== 4) {
    throw new Error(
      `conv2d: expected x [N, C, H, W] and w [O, C/groups, kh, kw], got x [${x.shape}] and w [${w.shape}]`,
    );
  }
  const stride = pair(o.stride ?? 1);
  const dilation = pair(o.dilation ?? 1);
  const attrs: Conv2dAttrs = {
    stride,
    dilation,
    inputDilation: [1, 1],
    pad: resolvePadding(
      o.padding ?? 0,
      [x.shape[2], x.shape[3]],
      [w.shape[2], w.shape[3]],
      stride,
      dilation,
    ),
    groups: o.groups ?? 1,
    relu: o.relu ?? false,
  };
  if (attrs.pad.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new Error(`conv2d: padding [${attrs.pad}] must be non-negative integers`);
  }
  conv2dGeometry(x.shape, w.shape, attrs); // validate before recording anything
  checkBias("conv2d", o.bias, w.shape[0]);
  return runOp(conv2dOp, o.bias ? [x, w, o.bias] : [x, w], attrs);
}

/** PyTorch's transposed-conv options. */
export interface Conv2dTransposeOptions {
  bias?: Tensor | null;
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  outputPadding?: number | readonly [number, number];
  dilation?: number | readonly [number, number];
  groups?: number;
}

/** PyTorch F.conv_transpose2d: x [N, Cin, H, W], w [Cin, Cout/groups, kh, kw]. */
export function conv2dTranspose(x: Tensor, w: Tensor, o: Conv2dTransposeOptions = {}): Tensor {
  requireFloat("conv2dTranspose", x, w);
  if (x.rank !== 4 || w.rank !== 4) {
    throw new Error(
      `conv2dTranspose: expected x [N, Cin, H, W] and w [Cin, Cout/groups, kh, kw], got x [${x.shape}] and w [${w.shape}]`,
    );
  }
  const groups = o.groups ?? 1;
  if (x.shape[1] !== w.shape[0] || w.shape[0] % groups) {
    throw new Error(
      `conv2dTranspose: input [${x.shape}] has ${x.shape[1]} channels but w [${w.shape}] expects ${w.shape[0]} (groups ${groups})`,
    );
  }
  const stride = pair(o.stride ?? 1);
  const dilation = pair(o.dilation ?? 1);
  const [ph, pw] = pair(o.padding ?? 0);
  const [oph, opw] = pair(o.outputPadding ?? 0);
  if (oph >= Math.max(stride[0], dilation[0]) || opw >= Math.max(stride[1], dilation[1])) {
    throw new Error(
      `conv2dTranspose: output padding [${oph}, ${opw}] must be smaller than stride or dilation`,
    );
  }
  const [, , kh, kw] = w.shape;
  const outH = (x.shape[2] - 1) * stride[0] - 2 * ph + dilation[0] * (kh - 1) + oph + 1;
  const outW = (x.shape[3] - 1) * stride[1] - 2 * pw + dilation[1] * (kw - 1) + opw + 1;
  const cout = w.shape[1] * groups;
  if (outH < 1 || outW < 1)
    throw new Error(`conv2dTranspose: empty output ${outH}x${outW} for input [${x.shape}]`);
  const p: Conv2dParams = {
    stride,
    dilation,
    inputDilation: [1, 1],
    pad: [ph, ph, pw, pw],
    groups,
  };
  // No check that the forward conv of the output space lands on x's size: with an output padding
  // >= stride (allowed when dilation > stride, as in PyTorch) it covers more rows than x has, and
  // convInputGrad's scatter leaves the extra rows of the output at zero, which is the definition.
  checkBias("conv2dTranspose", o.bias, cout);
  const y = convInputGrad(x, w, p, [x.shape[0], cout, outH, outW]);
  return o.bias ? add(y, reshape(o.bias, [1, cout, 1, 1])) : y;
}
