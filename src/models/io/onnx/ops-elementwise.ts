/** Elementwise ONNX ops: activations, arithmetic with NumPy broadcasting, comparisons. */

import type { Tensor } from "../../../autodiff/tensor.ts";
import { broadcastShapes, sizeOf } from "../../../kernels/shape.ts";
import { preluBroadcast } from "../../../ops/activations.ts";
import {
  add,
  div,
  equal,
  greater,
  less,
  maximum,
  minimum,
  mul,
  pow,
  sub,
} from "../../../ops/binary.ts";
import { reshape } from "../../../ops/reshape.ts";
import { where } from "../../../ops/select.ts";
import {
  abs,
  clamp,
  erf,
  exp,
  floor,
  leakyRelu,
  log,
  neg,
  reciprocal,
  relu,
  sigmoid,
  softplus,
  sqrt,
  tanh,
} from "../../../ops/unary.ts";
import type { OpContext, OpSpec } from "./context.ts";
import { HostArray, hostBinary, hostWhere, isFloat, toTensor, type Value } from "./host.ts";

/** Checks the broadcast shape of some inputs against the limits before an op allocates it. */
function checkBroadcast(ctx: OpContext, values: readonly Value[]): void {
  let shape: readonly number[] = [];
  for (const v of values) shape = broadcastShapes(ctx.where, shape, v.shape);
  ctx.allocates(shape);
}

const unary = (f: (x: Tensor, ctx: OpContext) => Tensor, attrs: string[] = []): OpSpec => ({
  attrs,
  run: (ctx) => f(ctx.tensor(0), ctx),
});

type HostFn = (a: number, b: number) => number;

/** A binary op: computed on the host when both inputs are host arrays (shape arithmetic). */
function binary(
  tensorFn: (a: Tensor, b: Tensor) => Tensor,
  hostFn: HostFn,
  intFn: HostFn = hostFn,
  boolOut = false,
): OpSpec {
  return {
    attrs: ["broadcast", "axis"],
    run(ctx) {
      const a = ctx.value(0);
      let b = ctx.value(1);
      // Opset < 7: B broadcasts into A starting at `axis` (default: aligned to the end).
      if (ctx.opset < 7 && ctx.attrs.int("broadcast", 0) === 1 && ctx.attrs.has("axis")) {
        const ax = ctx.axis(ctx.attrs.int("axis", 0), a.shape.length);
        const shape = [...b.shape, ...Array<number>(a.shape.length - ax - b.shape.length).fill(1)];
        b = b instanceof HostArray ? new HostArray(b.dtype, shape, b.data) : reshape(b, shape);
      }
      checkBroadcast(ctx, [a, b]);
      if (a instanceof HostArray && b instanceof HostArray) {
        const f = isFloat(a.dtype) ? hostFn : intFn;
        return hostBinary(a, b, f, ctx.where, boolOut ? "bool" : a.dtype);
      }
      return tensorFn(ctx.tensor(0), toTensor(b));
    },
  };
}

/** Max, Min, Sum, Mean: variadic with broadcasting. */
function variadic(f: (a: Tensor, b: Tensor) => Tensor, h: HostFn, scaleByCount = false): OpSpec {
  return {
    attrs: [],
    run(ctx) {
      if (ctx.inputs.length === 0) ctx.fail("needs at least one input");
      checkBroadcast(
        ctx,
        ctx.inputs.map((_, i) => ctx.value(i)),
      );
      if (ctx.inputs.every((v) => v instanceof HostArray) && !scaleByCount) {
        return (ctx.inputs as HostArray[]).reduce((a, b) => hostBinary(a, b, h, ctx.where));
      }
      let acc = ctx.tensor(0);
      for (let i = 1; i < ctx.inputs.length; i++) acc = f(acc, ctx.tensor(i));
      return scaleByCount ? div(acc, ctx.inputs.length) : acc;
    },
  };
}

function clip(ctx: OpContext): Value {
  const x = ctx.tensor(0);
  if (ctx.opset < 11)
    return clamp(x, ctx.attrs.float("min", -Infinity), ctx.attrs.float("max", Infinity));
  // Bounds from constants clamp exactly; bounds computed at run time go through maximum/minimum.
  const bound = (i: number, fallback: number): number | Tensor => {
    const v = ctx.inputs[i];
    if (v === undefined) return fallback;
    if (v instanceof HostArray) {
      if (v.size !== 1) ctx.fail(`bound ${i} must be a scalar, got shape [${v.shape}]`);
      return v.data[0];
    }
    return v;
  };
  const lo = bound(1, -Infinity);
  const hi = bound(2, Infinity);
  if (typeof lo === "number" && typeof hi === "number") {
    // ONNX: min > max gives max everywhere (clamp would refuse).
    return lo > hi ? add(mul(x, 0), hi) : clamp(x, lo, hi);
  }
  const low = typeof lo === "number" ? (lo === -Infinity ? x : maximum(x, lo)) : maximum(x, lo);
  return typeof hi === "number" ? (hi === Infinity ? low : minimum(low, hi)) : minimum(low, hi);
}

function dropout(ctx: OpContext): (Value | undefined)[] {
  const training = ctx.opset >= 12 && ctx.has(2) ? ctx.host(2).data[0] !== 0 : false;
  if (training)
    ctx.unsupported(
      "training-mode dropout is random and not supported; export the model in eval mode",
    );
  const x = ctx.value(0);
  if (!ctx.wants(1)) return [x];
  return [x, HostArray.of("bool", x.shape, new Float64Array(sizeOf(x.shape)).fill(1))];
}

const LEAKY = ["alpha"];

export const elementwiseOps: Record<string, OpSpec> = {
  Relu: unary(relu),
  LeakyRelu: unary((x, c) => leakyRelu(x, c.attrs.float("alpha", 0.01)), LEAKY),
  PRelu: {
    attrs: [],
    run(ctx) {
      const x = ctx.tensor(0);
      let slope = ctx.tensor(1);
      // Before opset 7 a 1-D slope is per channel (axis 1); since then it broadcasts like NumPy.
      if (ctx.opset < 7 && slope.rank === 1 && slope.size > 1 && x.rank > 2) {
        slope = reshape(slope, [slope.size, ...Array<number>(x.rank - 2).fill(1)]);
      }
      return preluBroadcast(x, slope);
    },
  },
  Sigmoid: unary(sigmoid),
  Tanh: unary(tanh),
  Exp: unary(exp),
  Log: unary(log),
  Sqrt: unary(sqrt),
  Neg: {
    attrs: [],
    run: (ctx) => {
      const v = ctx.value(0);
      return v instanceof HostArray
        ? new HostArray(
            v.dtype,
            v.shape,
            v.data.map((a) => -a),
          )
        : neg(v);
    },
  },
  Abs: unary(abs),
  Reciprocal: unary(reciprocal),
  Floor: unary(floor),
  Erf: unary(erf),
  Softplus: unary(softplus),
  Softsign: unary((x) => div(x, add(abs(x), 1))),
  HardSigmoid: unary(
    (x, c) => clamp(add(mul(x, c.attrs.float("alpha", 0.2)), c.attrs.float("beta", 0.5)), 0, 1),
    ["alpha", "beta"],
  ),
  Elu: unary((x, c) => {
    const a = c.attrs.float("alpha", 1);
    return where(greater(x, 0), x, mul(sub(exp(minimum(x, 0)), 1), a));
  }, LEAKY),
  Selu: unary(
    (x, c) => {
      const a = c.attrs.float("alpha", 1.6732631921768188);
      const g = c.attrs.float("gamma", 1.0507010221481323);
      return mul(where(greater(x, 0), x, mul(sub(exp(minimum(x, 0)), 1), a)), g);
    },
    ["alpha", "gamma"],
  ),
  Clip: { attrs: ["min", "max"], run: clip },
  Add: binary(add, (a, b) => a + b),
  Sub: binary(sub, (a, b) => a - b),
  Mul: binary(mul, (a, b) => a * b),
  Div: binary(
    div,
    (a, b) => a / b,
    (a, b) => Math.trunc(a / b),
  ),
  Pow: binary(pow, (a, b) => a ** b),
  Equal: binary(equal, (a, b) => (a === b ? 1 : 0), undefined, true),
  Less: binary(less, (a, b) => (a < b ? 1 : 0), undefined, true),
  Greater: binary(greater, (a, b) => (a > b ? 1 : 0), undefined, true),
  Max: variadic(maximum, Math.max),
  Min: variadic(minimum, Math.min),
  Sum: variadic(add, (a, b) => a + b),
  Mean: variadic(add, (a, b) => a + b, true),
  Where: {
    attrs: [],
    run(ctx) {
      const [c, a, b] = [0, 1, 2].map((i) => ctx.value(i));
      checkBroadcast(ctx, [c, a, b]);
      if (c instanceof HostArray && a instanceof HostArray && b instanceof HostArray)
        return hostWhere(c, a, b, ctx.where);
      return where(ctx.tensor(0), ctx.tensor(1), ctx.tensor(2));
    },
  },
  Identity: { attrs: [], run: (ctx) => ctx.value(0) },
  Dropout: { attrs: ["ratio", "seed", "is_test"], run: dropout },
};
