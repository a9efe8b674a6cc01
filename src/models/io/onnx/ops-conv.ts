/**
 * Conv, ConvTranspose and pooling (1-D runs as 2-D with a unit height; 3-D and dilated pooling
 * run on the N-D ops). Padding follows ONNX: explicit [begin..., end...] pads or auto_pad
 * SAME_UPPER / SAME_LOWER / VALID.
 */
import { runOp } from "../../../autodiff/op.ts";
import type { Tensor } from "../../../autodiff/tensor.ts";
import { add, div } from "../../../ops/binary.ts";
import { conv2d, conv2dTranspose } from "../../../ops/conv.ts";
import { conv3d, conv3dTransposeFull } from "../../../ops/conv3d.ts";
import { onesLike } from "../../../ops/creation.ts";
import { pad } from "../../../ops/pad.ts";
import { avgPool2dOp, maxPool2dOp } from "../../../ops/pool.ts";
import { avgPoolNd, maxPoolNd } from "../../../ops/pool-nd.ts";
import { max, mean } from "../../../ops/reduce.ts";
import { reshape } from "../../../ops/reshape.ts";
import { slice } from "../../../ops/slice.ts";
import type { OpContext, OpSpec } from "./context.ts";
import { HostArray, isFloat, type Value } from "./host.ts";
import { maxPoolArgmax } from "./pool-indices.ts";

interface Spatial {
  /** Whether a 1-D op was lifted to 2-D. */
  lifted: boolean;
  x: Tensor;
}

/** [N, C, L] -> [N, C, 1, L]; 2-D passes through; other ranks are refused. */
function lift(ctx: OpContext, x: Tensor): Spatial {
  if (x.rank === 4) return { lifted: false, x };
  if (x.rank === 3) return { lifted: true, x: reshape(x, [x.shape[0], x.shape[1], 1, x.shape[2]]) };
  return ctx.unsupported(`only 1-D, 2-D and 3-D ${ctx.opType} is supported (input [${x.shape}])`);
}

const unlift = (s: Spatial, y: Tensor) =>
  s.lifted ? reshape(y, [y.shape[0], y.shape[1], y.shape[3]]) : y;

/** A per-spatial-axis attribute as a 2-D pair (1-D values get a leading identity). */
function pair(ctx: OpContext, name: string, lifted: boolean, fallback: number): [number, number] {
  const v = ctx.attrs.ints(name);
  const n = lifted ? 1 : 2;
  if (v && v.length !== n) ctx.fail(`${name} [${v}] should have ${n} entries`);
  const vals = v ?? new Array<number>(n).fill(fallback);
  // strides and dilations (fallback 1) must be positive; output_padding (fallback 0) non-negative.
  if (vals.some((d) => !Number.isInteger(d) || d < fallback))
    ctx.fail(`${name} [${vals}] must be integers >= ${fallback}`);
  return lifted ? [fallback === 0 ? 0 : 1, vals[0]] : [vals[0], vals[1]];
}

/** [top, bottom, left, right] pads for the input spatial size, kernel, stride and dilation. */
export function forwardPads(
  ctx: OpContext,
  lifted: boolean,
  inSize: [number, number],
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number],
): [number, number, number, number] {
  const mode = ctx.attrs.oneOf("auto_pad", "NOTSET", [
    "NOTSET",
    "SAME_UPPER",
    "SAME_LOWER",
    "VALID",
  ]);
  if (mode === "VALID") return [0, 0, 0, 0];
  if (mode !== "NOTSET") {
    const out: number[] = [];
    for (let i = 0; i < 2; i++) {
      const total = Math.max(
        (Math.ceil(inSize[i] / stride[i]) - 1) * stride[i] +
          (kernel[i] - 1) * dilation[i] +
          1 -
          inSize[i],
        0,
      );
      const begin = mode === "SAME_UPPER" ? Math.floor(total / 2) : Math.ceil(total / 2);
      out.push(begin, total - begin);
    }
    return out as [number, number, number, number];
  }
  const p = ctx.attrs.ints("pads");
  if (!p) return [0, 0, 0, 0];
  if (lifted) {
    if (p.length !== 2) ctx.fail(`pads [${p}] should have 2 entries for a 1-D ${ctx.opType}`);
    return [0, 0, p[0], p[1]];
  }
  if (p.length !== 4) ctx.fail(`pads [${p}] should have 4 entries`);
  return [p[0], p[2], p[1], p[3]];
}

/**
 * Checks the padded input (an upper bound on what conv and pooling allocate: their output and
 * any explicit padding) before the engine allocates it; pads come from the file.
 */
function checkPadded(
  ctx: OpContext,
  shape: readonly number[],
  channels: number,
  [t, b, l, r]: readonly number[],
): void {
  if ([t, b, l, r].some((p) => !Number.isInteger(p) || p < 0))
    ctx.fail(`pads [${[t, b, l, r]}] must be non-negative integers`);
  ctx.allocates([shape[0], channels, shape[2] + t + b, shape[3] + l + r], "the padded input");
}

/** A per-spatial-axis attribute with n entries (fallback when absent), each >= min. */
function ints(ctx: OpContext, name: string, n: number, fallback: number, min: number): number[] {
  const v = ctx.attrs.ints(name);
  if (v && v.length !== n) ctx.fail(`${name} [${v}] should have ${n} entries`);
  const vals = v ?? new Array<number>(n).fill(fallback);
  if (vals.some((d) => !Number.isInteger(d) || d < min))
    ctx.fail(`${name} [${vals}] must be integers >= ${min}`);
  return [...vals];
}

/** [before, after] pads per spatial axis from pads or auto_pad, for any number of axes. */
function padsNd(
  ctx: OpContext,
  inSize: readonly number[],
  kernel: readonly number[],
  stride: readonly number[],
  dilation: readonly number[],
): [number, number][] {
  const n = inSize.length;
  const mode = ctx.attrs.oneOf("auto_pad", "NOTSET", [
    "NOTSET",
    "SAME_UPPER",
    "SAME_LOWER",
    "VALID",
  ]);
  if (mode === "VALID") return inSize.map(() => [0, 0]);
  if (mode !== "NOTSET") {
    return inSize.map((size, i) => {
      const total = Math.max(
        (Math.ceil(size / stride[i]) - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 - size,
        0,
      );
      const begin = mode === "SAME_UPPER" ? Math.floor(total / 2) : Math.ceil(total / 2);
      return [begin, total - begin];
    });
  }
  const p = ctx.attrs.ints("pads") ?? new Array<number>(2 * n).fill(0);
  if (p.length !== 2 * n) ctx.fail(`pads [${p}] should have ${2 * n} entries`);
  if (p.some((v) => !Number.isInteger(v) || v < 0))
    ctx.fail(`pads [${p}] must be non-negative integers`);
  return inSize.map((_, i) => [p[i], p[n + i]]);
}

const spatialOf = (x: Tensor) => x.shape.slice(2);

function conv3(ctx: OpContext, x: Tensor): Tensor {
  const w = ctx.tensor(1);
  if (w.rank !== 5) ctx.fail(`weight [${w.shape}] does not match input rank ${x.rank}`);
  const kernel = w.shape.slice(2);
  const ks = ctx.attrs.ints("kernel_shape");
  if (ks && ks.join() !== kernel.join())
    ctx.fail(`kernel_shape [${ks}] disagrees with the weight [${w.shape}]`);
  const stride = ints(ctx, "strides", 3, 1, 1);
  const dilation = ints(ctx, "dilations", 3, 1, 1);
  const pads = padsNd(ctx, spatialOf(x), kernel, stride, dilation);
  ctx.allocates(
    [
      x.shape[0],
      Math.max(x.shape[1], w.shape[0]),
      ...spatialOf(x).map((d, i) => d + pads[i][0] + pads[i][1]),
    ],
    "the padded input",
  );
  return conv3d(x, w, {
    bias: ctx.has(2) ? ctx.tensor(2) : null,
    stride,
    dilation,
    pads,
    groups: ctx.attrs.int("group", 1),
  });
}

function convTranspose3(ctx: OpContext, x: Tensor): Tensor {
  const w = ctx.tensor(1);
  if (w.rank !== 5) ctx.fail(`weight [${w.shape}] does not match input rank ${x.rank}`);
  const groups = ctx.attrs.int("group", 1);
  const stride = ints(ctx, "strides", 3, 1, 1);
  const dilation = ints(ctx, "dilations", 3, 1, 1);
  const outPad = ints(ctx, "output_padding", 3, 0, 0);
  const mode = ctx.attrs.oneOf("auto_pad", "NOTSET", [
    "NOTSET",
    "SAME_UPPER",
    "SAME_LOWER",
    "VALID",
  ]);
  const inSize = spatialOf(x);
  const full = inSize.map((d, i) => (d - 1) * stride[i] + (w.shape[2 + i] - 1) * dilation[i] + 1);
  const explicit = ctx.attrs.ints("output_shape");
  let begin: number[];
  let out: number[];
  if (explicit || mode === "SAME_UPPER" || mode === "SAME_LOWER") {
    out = explicit ? explicit.slice(-3) : inSize.map((d, i) => d * stride[i]);
    begin = out.map((o, i) => {
      const total = full[i] + outPad[i] - o;
      return mode === "SAME_UPPER" ? Math.floor(total / 2) : total - Math.floor(total / 2);
    });
  } else {
    const p = padsNd(ctx, [1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1]);
    begin = p.map(([a]) => a);
    out = full.map((f, i) => f + outPad[i] - p[i][0] - p[i][1]);
  }
  if (out.some((d) => d < 1)) ctx.fail(`empty output [${out}] for input [${x.shape}]`);
  const cOut = w.shape[1] * groups;
  ctx.allocates([x.shape[0], cOut, ...full.map((f, i) => f + outPad[i])], "the full result");
  ctx.allocates([x.shape[0], cOut, ...out]);
  let y = conv3dTransposeFull(x, w, { stride, dilation, groups });
  // Crop (or zero-extend) to [begin, begin + out) per axis.
  const before = begin.map((b) => Math.max(0, -b));
  const after = out.map((o, i) => Math.max(0, begin[i] + o - full[i]));
  y = pad(y, [[0, 0], [0, 0], ...before.map((b, i): [number, number] => [b, after[i]])]);
  y = slice(y, [0, 0, ...begin.map((b, i) => b + before[i])], [y.shape[0], y.shape[1], ...out]);
  const bias = ctx.has(2) ? ctx.tensor(2) : null;
  return bias ? add(y, reshape(bias, [1, bias.size, 1, 1, 1])) : y;
}

/** Pooling on the N-D ops: 3-D inputs and dilated windows of any rank. */
function poolNd(ctx: OpContext, kind: "max" | "avg", x: Tensor, kernel: number[]): Tensor {
  const n = x.rank - 2;
  const stride = ints(ctx, "strides", n, 1, 1);
  const dilation = ints(ctx, "dilations", n, 1, 1);
  const pads = padsNd(ctx, spatialOf(x), kernel, stride, dilation);
  ctx.allocates(
    [x.shape[0], x.shape[1], ...spatialOf(x).map((d, i) => d + pads[i][0] + pads[i][1])],
    "the padded input",
  );
  const o = {
    kernel,
    stride,
    dilation,
    pads,
    ceilMode: ctx.attrs.int("ceil_mode", 0) === 1,
    countIncludePad: ctx.attrs.int("count_include_pad", 0) === 1,
  };
  return kind === "max" ? maxPoolNd(x, o) : avgPoolNd(x, o);
}

function conv(ctx: OpContext): Tensor {
  if (ctx.tensor(0).rank === 5) return conv3(ctx, ctx.tensor(0));
  const s = lift(ctx, ctx.tensor(0));
  const wIn = ctx.tensor(1);
  const w = s.lifted ? reshape(wIn, [wIn.shape[0], wIn.shape[1], 1, wIn.shape[2]]) : wIn;
  if (w.rank !== 4) ctx.fail(`weight [${wIn.shape}] does not match input rank ${s.x.rank}`);
  const kernel: [number, number] = [w.shape[2], w.shape[3]];
  const ks = ctx.attrs.ints("kernel_shape");
  if (ks && ks.join() !== kernel.slice(s.lifted ? 1 : 0).join()) {
    ctx.fail(`kernel_shape [${ks}] disagrees with the weight [${wIn.shape}]`);
  }
  const stride = pair(ctx, "strides", s.lifted, 1);
  const dilation = pair(ctx, "dilations", s.lifted, 1);
  const pads = forwardPads(ctx, s.lifted, [s.x.shape[2], s.x.shape[3]], kernel, stride, dilation);
  checkPadded(ctx, s.x.shape, Math.max(s.x.shape[1], w.shape[0]), pads);
  const y = conv2d(s.x, w, {
    bias: ctx.has(2) ? ctx.tensor(2) : null,
    stride,
    dilation,
    padding: pads,
    groups: ctx.attrs.int("group", 1),
    relu: ctx.fuseRelu,
  });
  if (ctx.fuseRelu) ctx.reluApplied = true;
  return unlift(s, y);
}

function convTranspose(ctx: OpContext): Tensor {
  if (ctx.tensor(0).rank === 5) return convTranspose3(ctx, ctx.tensor(0));
  const s = lift(ctx, ctx.tensor(0));
  const wIn = ctx.tensor(1);
  const w = s.lifted ? reshape(wIn, [wIn.shape[0], wIn.shape[1], 1, wIn.shape[2]]) : wIn;
  if (w.rank !== 4) ctx.fail(`weight [${wIn.shape}] does not match input rank ${s.x.rank}`);
  const groups = ctx.attrs.int("group", 1);
  const stride = pair(ctx, "strides", s.lifted, 1);
  const dilation = pair(ctx, "dilations", s.lifted, 1);
  const outPad = pair(ctx, "output_padding", s.lifted, 0);
  const mode = ctx.attrs.oneOf("auto_pad", "NOTSET", [
    "NOTSET",
    "SAME_UPPER",
    "SAME_LOWER",
    "VALID",
  ]);
  const inSize = [s.x.shape[2], s.x.shape[3]];
  const full = [0, 1].map(
    (i) => (inSize[i] - 1) * stride[i] + (w.shape[2 + i] - 1) * dilation[i] + 1,
  );
  const explicit = ctx.attrs.ints("output_shape");
  let begin: number[];
  let out: number[];
  if (explicit || mode === "SAME_UPPER" || mode === "SAME_LOWER") {
    const n = s.lifted ? 1 : 2;
    const target = explicit
      ? explicit.slice(-n)
      : inSize.slice(2 - n).map((d, i) => d * stride[2 - n + i]);
    out = s.lifted ? [1, target[0]] : target;
    begin = [0, 1].map((i) => {
      const total = full[i] + outPad[i] - out[i];
      return mode === "SAME_UPPER" ? Math.floor(total / 2) : total - Math.floor(total / 2);
    });
  } else {
    const p =
      mode === "VALID" ? [0, 0, 0, 0] : forwardPads(ctx, s.lifted, [1, 1], [1, 1], [1, 1], [1, 1]);
    begin = [p[0], p[2]];
    out = [0, 1].map((i) => full[i] + outPad[i] - p[2 * i] - p[2 * i + 1]);
  }
  if (out.some((d) => d < 1)) ctx.fail(`empty output [${out}] for input [${s.x.shape}]`);
  const cOut = w.shape[1] * groups;
  ctx.allocates([s.x.shape[0], cOut, full[0] + outPad[0], full[1] + outPad[1]], "the full result");
  ctx.allocates([s.x.shape[0], cOut, out[0], out[1]]);
  const bias = ctx.has(2) ? ctx.tensor(2) : null;
  const symmetric = [0, 1].every(
    (i) =>
      begin[i] >= 0 &&
      full[i] + outPad[i] - out[i] === 2 * begin[i] &&
      outPad[i] < Math.max(stride[i], dilation[i]),
  );
  if (symmetric) {
    const y = conv2dTranspose(s.x, w, {
      bias,
      stride,
      dilation,
      groups,
      padding: [begin[0], begin[1]],
      outputPadding: [outPad[0], outPad[1]],
    });
    return unlift(s, y);
  }
  // General case: the full transposed conv, then crop (or zero-extend) to [begin, begin + out).
  let y = conv2dTranspose(s.x, w, { stride, dilation, groups });
  const before = begin.map((b) => Math.max(0, -b));
  const after = [0, 1].map((i) => Math.max(0, begin[i] + out[i] - full[i]));
  y = pad(y, [
    [0, 0],
    [0, 0],
    [before[0], after[0]],
    [before[1], after[1]],
  ]);
  y = slice(
    y,
    [0, 0, begin[0] + before[0], begin[1] + before[1]],
    [y.shape[0], y.shape[1], out[0], out[1]],
  );
  if (bias) y = add(y, reshape(bias, [1, bias.size, 1, 1]));
  return unlift(s, y);
}

function pool(ctx: OpContext, kind: "max" | "avg"): Tensor {
  const ks = ctx.attrs.ints("kernel_shape");
  if (!ks) ctx.fail("kernel_shape is required");
  const x0 = ctx.tensor(0);
  if (x0.rank >= 3 && ks.length !== x0.rank - 2)
    ctx.fail(`kernel_shape [${ks}] does not match a ${x0.rank - 2}-D input`);
  const dilated = (ctx.attrs.ints("dilations") ?? []).some((d) => d !== 1);
  if (x0.rank >= 5 || (x0.rank >= 3 && dilated)) return poolNd(ctx, kind, x0, [...ks]);
  const s = lift(ctx, x0);
  const kernel = (s.lifted ? [1, ks[0]] : ks) as [number, number];
  if (kernel.length !== 2)
    ctx.fail(`kernel_shape [${ks}] does not match a ${s.lifted ? 1 : 2}-D input`);
  pair(ctx, "dilations", s.lifted, 1); // validated; all ones here
  const stride = pair(ctx, "strides", s.lifted, 1);
  const pads = forwardPads(ctx, s.lifted, [s.x.shape[2], s.x.shape[3]], kernel, stride, [1, 1]);
  checkPadded(ctx, s.x.shape, s.x.shape[1], pads);
  const countIncludePad = ctx.attrs.int("count_include_pad", 0) === 1;
  const ceilMode = ctx.attrs.int("ceil_mode", 0) === 1;
  const run = (x: Tensor, pad4: [number, number, number, number]) => {
    const attrs = { kernel, stride, pad: pad4, countIncludePad, ceilMode };
    return kind === "max" ? runOp(maxPool2dOp, [x], attrs) : runOp(avgPool2dOp, [x], attrs);
  };
  const [t, b, l, r] = pads;
  if (Math.max(t, b) <= kernel[0] / 2 && Math.max(l, r) <= kernel[1] / 2)
    return unlift(s, run(s.x, pads));
  // Pads wider than half the window (allowed by ONNX, not by the kernels): pad explicitly.
  const spec: [number, number][] = [
    [0, 0],
    [0, 0],
    [t, b],
    [l, r],
  ];
  const none: [number, number, number, number] = [0, 0, 0, 0];
  if (kind === "max") return unlift(s, run(pad(s.x, spec, "constant", -Infinity), none));
  const sums = run(pad(s.x, spec), none);
  if (countIncludePad) return unlift(s, sums);
  const counts = run(pad(onesLike(s.x), spec), none);
  return unlift(s, div(sums, counts));
}

/**
 * MaxPool: the values from the pooling kernels, plus the optional Indices output computed on the
 * host. Integer inputs (host arrays) keep their dtype: their values are gathered at those indices,
 * so they are exact whatever their range.
 */
function maxPool(ctx: OpContext): Value | Value[] {
  const order = ctx.attrs.int("storage_order", 0);
  if (order !== 0 && order !== 1) ctx.fail(`storage_order ${order} should be 0 or 1`);
  const x = ctx.value(0);
  const integer = x instanceof HostArray && !isFloat(x.dtype);
  const y = pool(ctx, "max");
  if (!integer && !ctx.wants(1)) return y;
  const n = x.shape.length - 2;
  const kernel = ctx.attrs.ints("kernel_shape")!;
  const stride = ints(ctx, "strides", n, 1, 1);
  const dilation = ints(ctx, "dilations", n, 1, 1);
  const pads = padsNd(ctx, x.shape.slice(2), kernel, stride, dilation);
  const h = ctx.host(0);
  const { rowMajor, indices } = maxPoolArgmax(
    h.data,
    h.shape,
    { kernel, stride, dilation, padBegin: pads.map(([b]) => b), outSize: spatialOf(y) },
    order === 1,
  );
  let values: Value = y;
  if (integer) {
    if (rowMajor.includes(-1)) ctx.fail("a pooling window covers only padding");
    values = new HostArray(
      h.dtype,
      y.shape,
      Float64Array.from(rowMajor, (i) => h.data[i]),
    );
  }
  return ctx.wants(1) ? [values, indices] : values;
}

const globalAxes = (x: Tensor) => x.shape.map((_, i) => i).slice(2);

export const convOps: Record<string, OpSpec> = {
  Conv: { attrs: ["auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"], run: conv },
  ConvTranspose: {
    attrs: [
      "auto_pad",
      "dilations",
      "group",
      "kernel_shape",
      "output_padding",
      "output_shape",
      "pads",
      "strides",
    ],
    run: convTranspose,
  },
  MaxPool: {
    attrs: [
      "auto_pad",
      "ceil_mode",
      "dilations",
      "kernel_shape",
      "pads",
      "storage_order",
      "strides",
    ],
    run: maxPool,
  },
  AveragePool: {
    attrs: [
      "auto_pad",
      "ceil_mode",
      "count_include_pad",
      "dilations",
      "kernel_shape",
      "pads",
      "strides",
    ],
    run: (ctx) => pool(ctx, "avg"),
  },
  GlobalAveragePool: {
    attrs: [],
    run: (ctx) => mean(ctx.tensor(0), globalAxes(ctx.tensor(0)), true),
  },
  GlobalMaxPool: { attrs: [], run: (ctx) => max(ctx.tensor(0), globalAxes(ctx.tensor(0)), true) },
};
