/**
 * Linear algebra, convolutions and pooling: matmul (batch broadcasting, transposes, 1-D operands),
 * linear, conv2d (stride, every padding form incl. 'same', dilation, groups, depthwise, bias,
 * fused ReLU), conv2dTranspose (output padding, groups, dilation), max/avg pooling (padding, ceil
 * mode, countIncludePad), adaptive and global average pooling.
 *
 * Tolerances: matmul / linear forward 1e-5 / 1e-5, backward 2e-5 / 1e-4; convolutions forward
 * 2e-5 / 1e-4, backward 5e-5 / 1e-4 (filter gradients sum up to ~100 products); pooling
 * forward 1e-6 / 1e-5 (max exact), backward 1e-5 / 1e-5.
 */
import fc from "fast-check";
import * as s from "../../src/index.ts";
import { type Nd, shapeStr } from "../reference/nd.ts";
import {
  adaptiveAvgPool2dRef,
  avgPool2dRef,
  type ConvParams64,
  conv2dRef,
  conv2dTransposeRef,
  convOutLen,
  linearRef,
  matmulRef,
  maxPool2dRef,
  type PoolParams64,
  poolOutLen,
  samePads,
} from "../reference/nn.ts";
import { meanOf, reduceRef } from "../reference/reduce.ts";
import { resizeRef } from "../reference/resample.ts";
import { Rng } from "../reference/rng.ts";
import { checkOp, describeInputs, property, type SuiteCase, seedArb, tol } from "./harness.ts";

const pairs = <T>(f: () => T): [T, T] => [f(), f()];

const matmulCase: SuiteCase = {
  name: "matmul (batch broadcasting, transA/transB, 1-D operands): forward vs float64, backward vs finite differences",
  run: (ctx) =>
    property(ctx, "matmul", 25, seedArb, async (seed) => {
      const r = new Rng(seed);
      const batch = Array.from({ length: r.int(0, 2) }, () => r.int(1, 3));
      const own = () => {
        const rank = r.int(0, batch.length);
        return batch.slice(batch.length - rank).map((d) => (r.bool(0.4) ? 1 : d));
      };
      const [m, k, n] = [r.int(1, 5), r.int(1, 5), r.int(1, 5)];
      const transA = r.bool();
      const transB = r.bool();
      const aVec = !transA && r.bool(0.15);
      const bVec = !transB && r.bool(0.15);
      const aShape = aVec ? [k] : [...own(), ...(transA ? [k, m] : [m, k])];
      const bShape = bVec ? [k] : [...own(), ...(transB ? [n, k] : [k, n])];
      const a = r.nd(aShape);
      const b = r.nd(bShape);
      await checkOp(ctx, {
        op: "matmul",
        desc: `${describeInputs([a, b], ["a", "b"])} transA ${transA} transB ${transB}`,
        inputs: [a, b],
        engine: ([x, y]) => s.matmul(x, y, transA, transB),
        reference: ([x, y]) => matmulRef(x, y, transA, transB),
        fwd: tol(1e-5),
        bwd: tol(2e-5, 1e-4),
        seed,
      });
    }),
};

const linearCase: SuiteCase = {
  name: "linear x W^T + b (with and without bias): forward vs float64, backward (x, W, b)",
  run: (ctx) =>
    property(ctx, "linear", 15, seedArb, async (seed) => {
      const r = new Rng(seed);
      const [nb, nin, nout] = [r.int(1, 4), r.int(1, 6), r.int(1, 5)];
      const x = r.nd([nb, nin]);
      const w = r.nd([nout, nin]);
      const withBias = r.bool();
      const inputs = withBias ? [x, w, r.nd([nout])] : [x, w];
      await checkOp(ctx, {
        op: "linear",
        desc: describeInputs(inputs, ["x", "W", "b"]),
        inputs,
        engine: ([a, b, c]) => s.linear(a, b, c),
        reference: ([a, b, c]) => linearRef(a, b, c ?? null),
        fwd: tol(1e-5),
        bwd: tol(2e-5, 1e-4),
        seed,
      });
    }),
};

type PaddingSpec = number | [number, number] | [number, number, number, number] | "same" | "valid";

/** Min |z| over the pre-activations: fused ReLU needs them away from 0 for finite differences. */
const minAbs = (z: Nd) => z.data.reduce((m, v) => Math.min(m, Math.abs(v)), Infinity);

const conv2dCase: SuiteCase = {
  name: "conv2d (stride, padding number/pair/4-tuple/'same'/'valid', dilation, groups, depthwise, bias, fused relu): forward vs float64, backward (x, w, b)",
  run: (ctx) =>
    property(ctx, "conv2d", 40, seedArb, async (seed) => {
      const r = new Rng(seed);
      const depthwise = r.bool(0.25);
      const groups = depthwise ? r.int(1, 4) : r.int(1, 3);
      const cg = depthwise ? 1 : r.int(1, 3);
      const og = depthwise ? r.int(1, 2) : r.int(1, 3);
      const [kh, kw] = pairs(() => r.int(1, 3));
      const stride = pairs(() => r.pick([1, 1, 2, 3]));
      const dilation = pairs(() => r.pick([1, 1, 2]));
      const [h, w] = pairs(() => r.int(1, 7));
      const kind = r.int(0, 4);
      const padding: PaddingSpec =
        kind === 0
          ? r.int(0, 2)
          : kind === 1
            ? [r.int(0, 2), r.int(0, 2)]
            : kind === 2
              ? [r.int(0, 2), r.int(0, 2), r.int(0, 2), r.int(0, 2)]
              : kind === 3
                ? "same"
                : "valid";
      let pad: [number, number, number, number];
      if (padding === "same") {
        pad = [
          ...samePads(h, kh, stride[0], dilation[0]),
          ...samePads(w, kw, stride[1], dilation[1]),
        ] as [number, number, number, number];
      } else if (padding === "valid") pad = [0, 0, 0, 0];
      else if (typeof padding === "number") pad = [padding, padding, padding, padding];
      else if (padding.length === 2) pad = [padding[0], padding[0], padding[1], padding[1]];
      else pad = padding;
      const oh = convOutLen(h, kh, stride[0], dilation[0], pad[0], pad[1]);
      const ow = convOutLen(w, kw, stride[1], dilation[1], pad[2], pad[3]);
      fc.pre(oh >= 1 && ow >= 1);
      const nb = r.int(1, 2);
      const x = r.nd([nb, groups * cg, h, w]);
      const wt = r.nd([groups * og, cg, kh, kw]);
      const bias = r.bool() ? r.nd([groups * og]) : null;
      const relu = r.bool(0.3);
      const p: ConvParams64 = { stride, pad, dilation, groups };
      if (relu) fc.pre(minAbs(conv2dRef(x, wt, p, bias)) > 2e-3);
      const inputs = bias ? [x, wt, bias] : [x, wt];
      await checkOp(ctx, {
        op: "conv2d",
        desc: `${describeInputs(inputs, ["x", "w", "b"])} stride [${stride}] padding ${JSON.stringify(padding)} dilation [${dilation}] groups ${groups}${relu ? " relu" : ""}`,
        inputs,
        engine: ([a, b, c]) => s.conv2d(a, b, { bias: c, stride, padding, dilation, groups, relu }),
        reference: ([a, b, c]) => conv2dRef(a, b, p, c ?? null, relu),
        fwd: tol(2e-5, 1e-4),
        bwd: tol(5e-5, 1e-4),
        seed,
      });
    }),
};

const conv2dTransposeCase: SuiteCase = {
  name: "conv2dTranspose (stride, padding, output padding, dilation, groups, bias): forward vs float64 scatter, backward (x, w, b)",
  run: (ctx) =>
    property(ctx, "conv2dTranspose", 30, seedArb, async (seed) => {
      const r = new Rng(seed);
      const groups = r.int(1, 3);
      const cig = r.int(1, 2);
      const cog = r.int(1, 3);
      const [kh, kw] = pairs(() => r.int(1, 3));
      const stride = pairs(() => r.pick([1, 2, 3]));
      const dilation = pairs(() => r.pick([1, 1, 2]));
      const padding = [r.int(0, dilation[0] * (kh - 1)), r.int(0, dilation[1] * (kw - 1))] as [
        number,
        number,
      ];
      const outputPadding = [
        r.int(0, Math.max(stride[0], dilation[0]) - 1),
        r.int(0, Math.max(stride[1], dilation[1]) - 1),
      ] as [number, number];
      const [h, w] = pairs(() => r.int(1, 4));
      const oh =
        (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + outputPadding[0] + 1;
      const ow =
        (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + outputPadding[1] + 1;
      fc.pre(oh >= 1 && ow >= 1);
      const nb = r.int(1, 2);
      const x = r.nd([nb, groups * cig, h, w]);
      const wt = r.nd([groups * cig, cog, kh, kw]);
      const bias = r.bool() ? r.nd([groups * cog]) : null;
      const inputs = bias ? [x, wt, bias] : [x, wt];
      const p = { stride, padding, outputPadding, dilation, groups };
      await checkOp(ctx, {
        op: "conv2dTranspose",
        desc: `${describeInputs(inputs, ["x", "w", "b"])} ${JSON.stringify(p)}`,
        inputs,
        engine: ([a, b, c]) => s.conv2dTranspose(a, b, { bias: c, ...p }),
        reference: ([a, b, c]) => conv2dTransposeRef(a, b, p, c ?? null),
        fwd: tol(2e-5, 1e-4),
        bwd: tol(5e-5, 1e-4),
        seed,
      });
    }),
};

function poolSpec(r: Rng) {
  // A third of the cases: 2x2 windows at stride 2 without padding (the CPU's unrolled path).
  const common = r.bool(0.33);
  const kernel = common ? ([2, 2] as [number, number]) : pairs(() => r.int(1, 3));
  const stride = common ? ([2, 2] as [number, number]) : pairs(() => r.int(1, 3));
  const padding = (
    common ? [0, 0] : [r.int(0, Math.floor(kernel[0] / 2)), r.int(0, Math.floor(kernel[1] / 2))]
  ) as [number, number];
  const ceilMode = r.bool();
  const shape = [r.int(1, 2), r.int(1, 2), r.int(1, 7), r.int(1, 7)];
  const p: PoolParams64 = { kernel, stride, padding, ceilMode, countIncludePad: r.bool() };
  const oh = poolOutLen(shape[2], kernel[0], stride[0], padding[0], ceilMode);
  const ow = poolOutLen(shape[3], kernel[1], stride[1], padding[1], ceilMode);
  return { p, shape, ok: oh >= 1 && ow >= 1 };
}

const maxPoolCase: SuiteCase = {
  name: "maxPool2d (kernel, stride, padding, ceil mode; distinct values, no ties): forward vs float64, backward",
  run: (ctx) =>
    property(ctx, "maxPool2d", 30, seedArb, async (seed) => {
      const r = new Rng(seed);
      const { p, shape, ok } = poolSpec(r);
      fc.pre(ok);
      await checkOp(ctx, {
        op: "maxPool2d",
        desc: `x ${shapeStr(shape)} kernel [${p.kernel}] stride [${p.stride}] padding [${p.padding}] ceilMode ${p.ceilMode}`,
        inputs: [r.ndDistinct(shape, -2, 2)],
        engine: ([t]) =>
          s.maxPool2d(t, {
            kernel: p.kernel,
            stride: p.stride,
            padding: p.padding,
            ceilMode: p.ceilMode,
          }),
        reference: ([v]) => maxPool2dRef(v, p),
        fwd: tol(0),
        bwd: tol(1e-5),
        seed,
      });
    }),
};

const avgPoolCase: SuiteCase = {
  name: "avgPool2d (kernel, stride, padding, ceil mode, countIncludePad both ways): forward vs float64, backward",
  run: (ctx) =>
    property(ctx, "avgPool2d", 30, seedArb, async (seed) => {
      const r = new Rng(seed);
      const { p, shape, ok } = poolSpec(r);
      fc.pre(ok);
      await checkOp(ctx, {
        op: "avgPool2d",
        desc: `x ${shapeStr(shape)} kernel [${p.kernel}] stride [${p.stride}] padding [${p.padding}] ceilMode ${p.ceilMode} countIncludePad ${p.countIncludePad}`,
        inputs: [r.nd(shape, -2, 2)],
        engine: ([t]) =>
          s.avgPool2d(t, {
            kernel: p.kernel,
            stride: p.stride,
            padding: p.padding,
            ceilMode: p.ceilMode,
            countIncludePad: p.countIncludePad,
          }),
        reference: ([v]) => avgPool2dRef(v, p),
        fwd: tol(1e-6, 1e-5),
        bwd: tol(1e-5),
        seed,
      });
    }),
};

const adaptivePoolCase: SuiteCase = {
  name: "adaptiveAvgPool2d (output smaller and larger than input) and globalAvgPool2d: forward vs float64, backward",
  run: (ctx) =>
    property(ctx, "adaptiveAvgPool2d", 15, seedArb, async (seed) => {
      const r = new Rng(seed);
      const shape = [r.int(1, 2), r.int(1, 3), r.int(1, 7), r.int(1, 7)];
      const [oh, ow] = [r.int(1, 6), r.int(1, 6)];
      const x = r.nd(shape, -2, 2);
      const size: number | [number, number] = oh === ow && r.bool() ? oh : [oh, ow];
      await checkOp(ctx, {
        op: "adaptiveAvgPool2d",
        desc: `x ${shapeStr(shape)} output ${JSON.stringify(size)}`,
        inputs: [x],
        engine: ([t]) => s.adaptiveAvgPool2d(t, size),
        reference: ([v]) => adaptiveAvgPool2dRef(v, oh, ow),
        fwd: tol(1e-6, 1e-5),
        bwd: tol(1e-5),
        seed,
      });
      await checkOp(ctx, {
        op: "globalAvgPool2d",
        desc: `x ${shapeStr(shape)}`,
        inputs: [x],
        engine: ([t]) => s.globalAvgPool2d(t),
        reference: ([v]) => reduceRef(v, [2, 3], true, meanOf),
        fwd: tol(1e-6, 1e-5),
        bwd: tol(1e-5),
        seed,
      });
    }),
};

const nearestUpsampleConvCase: SuiteCase = {
  name: "nearestUpsampleConv2d (scale 1-4, kernel 1-5 odd and even, 1-3 and 16-18 outputs (merged and per-phase paths), 'same' / size-keeping / other padding, stride 1-2, bias, relu): forward vs conv2d of the float64 nearest upsampling, backward (x, w, b)",
  run: (ctx) =>
    property(ctx, "nearestUpsampleConv2d", 30, seedArb, async (seed) => {
      const r = new Rng(seed);
      const scale = r.int(1, 4);
      const [kh, kw] = pairs(() => r.int(1, 5));
      const [h, w] = pairs(() => r.int(1, 4));
      // Mostly size-keeping convs (the merged path); a stride or other padding takes the plain one.
      const stride = r.bool(0.8) ? 1 : 2;
      const kind = r.int(0, 3);
      const [uh, uw] = [h * scale, w * scale];
      const [top, left] = [r.int(0, kh - 1), r.int(0, kw - 1)];
      // "same" and explicit size-keeping pads merge; a uniform pad may not keep the size.
      const padding: PaddingSpec =
        kind <= 1 ? "same" : kind === 2 ? [top, kh - 1 - top, left, kw - 1 - left] : r.int(0, 2);
      const pad: [number, number, number, number] =
        padding === "same"
          ? [...samePads(uh, kh, stride, 1), ...samePads(uw, kw, stride, 1)]
          : typeof padding === "number"
            ? [padding, padding, padding, padding]
            : (padding as [number, number, number, number]);
      fc.pre(
        convOutLen(uh, kh, stride, 1, pad[0], pad[1]) >= 1 &&
          convOutLen(uw, kw, stride, 1, pad[2], pad[3]) >= 1,
      );
      // 16+ output channels take the per-phase convs, fewer the single merged conv.
      const cin = r.int(1, 3);
      const cout = r.bool() ? r.int(1, 3) : r.int(16, 18);
      const x = r.nd([r.int(1, 2), cin, h, w]);
      const wt = r.nd([cout, cin, kh, kw]);
      const bias = r.bool() ? r.nd([cout]) : null;
      const relu = r.bool(0.3);
      const p: ConvParams64 = { stride: [stride, stride], pad, dilation: [1, 1], groups: 1 };
      const ref = (a: Nd, b: Nd, c: Nd | null) =>
        conv2dRef(resizeRef(a, uh, uw, "nearest", false), b, p, c, relu);
      if (relu) fc.pre(minAbs(ref(x, wt, bias)) > 2e-3);
      const inputs = bias ? [x, wt, bias] : [x, wt];
      await checkOp(ctx, {
        op: "nearestUpsampleConv2d",
        desc: `${describeInputs(inputs, ["x", "w", "b"])} scale ${scale} stride ${stride} padding ${JSON.stringify(padding)}${relu ? " relu" : ""}`,
        inputs,
        engine: ([a, b, c]) =>
          s.nearestUpsampleConv2d(a, b, scale, { bias: c, stride, padding, relu }),
        reference: ([a, b, c]) => ref(a, b, c ?? null),
        fwd: tol(2e-5, 1e-4),
        bwd: tol(5e-5, 1e-4),
        seed,
      });
    }),
};

export const nnCases: SuiteCase[] = [
  matmulCase,
  linearCase,
  conv2dCase,
  conv2dTransposeCase,
  nearestUpsampleConvCase,
  maxPoolCase,
  avgPoolCase,
  adaptivePoolCase,
];
