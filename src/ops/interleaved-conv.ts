/**
 * Four stride-1 convs of one input that differ only in their pads, interleaved as the phases of
 * a twice-as-large output: nearest upsample x2 + conv computed per output phase (upsample-conv.ts)
 * as one op, so that a backend can stage the input once and write the phases in place
 * (Backend.conv2dInterleaved: on the CPU, a third fewer passes over memory than four convs and
 * `interleave`). Linear in x and in each kernel; its gradients are those of the four convs on
 * the strided slices of dy, with conv2d's own ops, so higher orders work as for conv2d.
 */
import { backendOf, fromHandle } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import type { Conv2dParams } from "../kernels/conv-geometry.ts";
import { conv2dGeometry } from "../kernels/conv-geometry.ts";
import { add } from "./binary.ts";
import { conv2dBackpropFilterOp, convInputGrad } from "./conv.ts";
import { sum } from "./reduce.ts";
import { slice } from "./slice.ts";
import { unaryOps } from "./unary.ts";

export type Pads = readonly [number, number, number, number];

/** Phase p's conv parameters: stride 1, one group, its own pads. */
function phaseParams(pad: Pads): Conv2dParams {
  return { stride: [1, 1], dilation: [1, 1], inputDilation: [1, 1], pad, groups: 1 };
}

function geometries(xShape: readonly number[], ws: readonly Tensor[], pads: readonly Pads[]) {
  return pads.map((pad, p) => conv2dGeometry(xShape, ws[p].shape, phaseParams(pad)));
}

export const interleavedConv2dOp: OpDef<"interleavedConv2d"> = defineOp({
  name: "interleavedConv2d",
  forward(inputs, { pads, relu }) {
    const [x, ...rest] = inputs;
    const ws = rest.slice(0, 4);
    const bias = rest[4] ?? null;
    const backend = backendOf("interleavedConv2d", inputs);
    const gs = geometries(x.shape, ws, pads);
    if (backend.conv2dInterleaved === undefined) {
      throw new Error(
        `interleavedConv2d: the ${backend.name} backend has no conv2dInterleaved; nearestUpsampleConv2d takes four convs and interleave there`,
      );
    }
    const g = gs[0];
    return fromHandle(
      backend.conv2dInterleaved(x, ws, gs, bias, relu),
      [g.batch, g.outChannels, 2 * g.outHeight, 2 * g.outWidth],
      "float32",
      backend,
    );
  },
  epilogue: (attrs) => (attrs.relu ? unaryOps.relu : null),
  // The linear part only (a fused ReLU is its own tape node): phase p = a * 2 + b of dy is
  // dy[:, :, a::2, b::2], the upstream gradient of conv p.
  vjp(dy, { inputs, attrs: { pads } }) {
    const [x, ...rest] = inputs;
    const ws = rest.slice(0, 4);
    const phases: Tensor[] = [];
    const dyOf = (p: number) => {
      phases[p] ??= phaseOf(dy, p);
      return phases[p];
    };
    return [
      () =>
        inputGradPays(dy, ws, pads, x.shape)
          ? runOp(interleavedConv2dBackpropInputOp, [dy, ...ws], { pads, xShape: x.shape })
          : pads
              .map((pad, p) => convInputGrad(dyOf(p), ws[p], phaseParams(pad), x.shape))
              .reduce((a, b) => add(a, b)),
      ...ws.map(
        (w, p) => () =>
          runOp(conv2dBackpropFilterOp, [x, dyOf(p)], {
            ...phaseParams(pads[p]),
            wShape: w.shape,
          }),
      ),
      ...(rest.length > 4 ? [() => sum(dy, [0, 2, 3])] : []),
    ];
  },
});

/** Phase p = a * 2 + b of dy [N, O, 2h, 2w]: dy[:, :, a::2, b::2]. */
function phaseOf(dy: Tensor, p: number): Tensor {
  const [n, o, h2, w2] = dy.shape;
  return slice(dy, [0, 0, p >> 1, p & 1], [n, o, h2 / 2, w2 / 2], [1, 1, 2, 2]);
}

function inputGradPays(
  dy: Tensor,
  ws: readonly Tensor[],
  pads: readonly Pads[],
  xShape: readonly number[],
): boolean {
  const backend = backendOf("interleavedConv2dBackpropInput", [dy, ...ws]);
  return backend.interleavedInputGradPays?.(geometries(xShape, ws, pads)) ?? false;
}

/**
 * interleavedConv2d's input gradient as one op, where the backend has it
 * (Backend.conv2dInterleavedInputGrad); linear in dy and in each kernel, so its own gradients
 * are interleavedConv2d (for dy) and each phase's filter gradient (for kernel p).
 */
export const interleavedConv2dBackpropInputOp: OpDef<"interleavedConv2dBackpropInput"> = defineOp({
  name: "interleavedConv2dBackpropInput",
  forward(inputs, { pads, xShape }) {
    const [dy, ...ws] = inputs;
    const backend = backendOf("interleavedConv2dBackpropInput", inputs);
    if (backend.conv2dInterleavedInputGrad === undefined) {
      throw new Error(
        `interleavedConv2dBackpropInput: the ${backend.name} backend has no conv2dInterleavedInputGrad for dy [${dy.shape}]; interleavedConv2d's gradient sums four input gradients there`,
      );
    }
    const gs = geometries(xShape, ws, pads);
    return fromHandle(backend.conv2dInterleavedInputGrad(dy, ws, gs), xShape, "float32", backend);
  },
  vjp(gx, { inputs, attrs: { pads } }) {
    const [dy, ...ws] = inputs;
    return [
      () => runOp(interleavedConv2dOp, [gx, ...ws], { pads, relu: false }),
      ...ws.map(
        (w, p) => () =>
          runOp(conv2dBackpropFilterOp, [gx, phaseOf(dy, p)], {
            ...phaseParams(pads[p]),
            wShape: w.shape,
          }),
      ),
    ];
  },
});

/**
 * Whether the backend of x computes the four phase convs (kernels ws, pads) in one pass
 * (Backend.interleavedConvPays); else interleavedConv2d would only add a step.
 */
export function interleavedConvPays(
  x: Tensor,
  ws: readonly Tensor[],
  pads: readonly Pads[],
): boolean {
  if (ws.length !== 4 || pads.length !== 4) return false;
  const backend = backendOf("interleavedConv2d", [x, ...ws]);
  return backend.interleavedConvPays?.(geometries(x.shape, ws, pads)) ?? false;
}

/**
 * out[n, o, 2 y + a, 2 x + b] = conv2d(x, ws[a * 2 + b], pads[a * 2 + b])[n, o, y, x] + bias[o]
 * (then max(0, .) when relu): four stride-1 convs whose outputs have the same size.
 */
export function interleavedConv2d(
  x: Tensor,
  ws: readonly Tensor[],
  pads: readonly Pads[],
  o: { bias?: Tensor | null; relu?: boolean } = {},
): Tensor {
  if (ws.length !== 4 || pads.length !== 4) {
    throw new Error(
      `interleavedConv2d: expected 4 kernels and 4 pads (phases of a factor 2), got ${ws.length} and ${pads.length}`,
    );
  }
  const gs = geometries(x.shape, ws, pads);
  const g = gs[0];
  for (const gp of gs) {
    if (
      gp.outHeight !== g.outHeight ||
      gp.outWidth !== g.outWidth ||
      gp.outChannels !== g.outChannels
    ) {
      throw new Error(
        `interleavedConv2d: the phases' outputs differ: [${gp.outChannels}, ${gp.outHeight}, ${gp.outWidth}] and [${g.outChannels}, ${g.outHeight}, ${g.outWidth}]`,
      );
    }
  }
  const inputs = o.bias ? [x, ...ws, o.bias] : [x, ...ws];
  return runOp(interleavedConv2dOp, inputs, { pads, relu: o.relu ?? false });
}
