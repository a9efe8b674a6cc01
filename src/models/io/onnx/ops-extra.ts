/** Less common ONNX ops that compose directly from engine ops (beyond the CNN core set). */

import type { Tensor } from "../../../autodiff/tensor.ts";
import { broadcastShapes } from "../../../kernels/shape.ts";
import { add, div, equal, greater, mul, sub } from "../../../ops/binary.ts";
import { cast } from "../../../ops/cast.ts";
import { concat } from "../../../ops/concat.ts";
import { argMax, logSumExp, mean, sum, variance } from "../../../ops/reduce.ts";
import { reshape } from "../../../ops/reshape.ts";
import { where } from "../../../ops/select.ts";
import { reverse } from "../../../ops/slice.ts";
import {
  abs,
  clamp,
  cos,
  floor,
  isnan,
  log,
  neg,
  sign,
  sin,
  sqrt,
  square,
} from "../../../ops/unary.ts";
import type { OpContext, OpSpec } from "./context.ts";
import { HostArray, hostBinary, hostTake, type Value } from "./host.ts";

const unary = (f: (x: Tensor, ctx: OpContext) => Tensor, attrs: string[] = []): OpSpec => ({
  attrs,
  run: (ctx) => f(ctx.tensor(0), ctx),
});

/** Reductions whose axes moved from an attribute to an input at opset 18. */
function reduce18(f: (x: Tensor, axes: number[], keep: boolean) => Tensor): OpSpec {
  return {
    attrs: ["axes", "keepdims", "noop_with_empty_axes"],
    run(ctx) {
      const x = ctx.tensor(0);
      const given =
        ctx.opset >= 18 ? (ctx.has(1) ? ctx.ints(1) : undefined) : ctx.attrs.ints("axes");
      if ((!given || given.length === 0) && ctx.attrs.int("noop_with_empty_axes", 0) === 1)
        return x;
      const axes = given?.length ? given.map((a) => ctx.axis(a, x.rank)) : x.shape.map((_, i) => i);
      return f(x, axes, ctx.attrs.int("keepdims", 1) === 1);
    },
  };
}

function layerNormalization(ctx: OpContext): Tensor {
  ctx.onlyOutputs(1, "Mean and InvStdDev outputs are not produced");
  const x = ctx.tensor(0);
  const start = ctx.axis(ctx.attrs.int("axis", -1), x.rank);
  const axes = x.shape.map((_, i) => i).slice(start);
  const eps = ctx.attrs.float("epsilon", 1e-5);
  const y = div(sub(x, mean(x, axes, true)), sqrt(add(variance(x, axes, true), eps)));
  const scaled = mul(y, ctx.tensor(1));
  return ctx.has(2) ? add(scaled, ctx.tensor(2)) : scaled;
}

function argExtreme(ctx: OpContext, sgn: 1 | -1): Tensor {
  const x0 = ctx.tensor(0);
  const x = sgn === 1 ? x0 : neg(x0);
  const ax = ctx.axis(ctx.attrs.int("axis", 0), x.rank);
  const last = ctx.attrs.int("select_last_index", 0) === 1;
  let idx = cast(argMax(last ? reverse(x, [ax]) : x, ax), "float32");
  if (last) idx = sub(x.shape[ax] - 1, idx);
  if (ctx.attrs.int("keepdims", 1) === 1)
    idx = reshape(
      idx,
      x.shape.map((d, i) => (i === ax ? 1 : d)),
    );
  return idx;
}

/** Logical ops: exact on host booleans, 0/1 float tensors otherwise. */
function logical(
  f: (a: boolean, b: boolean) => boolean,
  t: (a: Tensor, b: Tensor) => Tensor,
): OpSpec {
  return {
    attrs: [],
    run(ctx) {
      const a = ctx.value(0);
      const b = ctx.value(1);
      ctx.allocates(broadcastShapes(ctx.where, a.shape, b.shape));
      if (a instanceof HostArray && b instanceof HostArray) {
        return hostBinary(a, b, (x, y) => (f(x !== 0, y !== 0) ? 1 : 0), ctx.where, "bool");
      }
      const truth = (v: Tensor) => sub(1, equal(v, 0));
      return t(truth(ctx.tensor(0)), truth(ctx.tensor(1)));
    },
  };
}

function tile(ctx: OpContext): Value {
  const x = ctx.value(0);
  const reps = ctx.ints(1);
  if (reps.length !== x.shape.length)
    ctx.fail(`repeats [${reps}] should have ${x.shape.length} entries`);
  ctx.allocates(x.shape.map((d, ax) => d * reps[ax]));
  if (x instanceof HostArray) {
    return hostTake(
      x,
      x.shape.map((d, ax) => Array.from({ length: d * reps[ax] }, (_, i) => i % d)),
      ctx.where,
    );
  }
  let y = x;
  reps.forEach((r, ax) => {
    if (r !== 1) y = concat(Array<Tensor>(r).fill(y), ax);
  });
  return y;
}

export const extraOps: Record<string, OpSpec> = {
  LayerNormalization: { attrs: ["axis", "epsilon", "stash_type"], run: layerNormalization },
  ReduceL1: reduce18((x, a, k) => sum(abs(x), a, k)),
  ReduceL2: reduce18((x, a, k) => sqrt(sum(square(x), a, k))),
  ReduceSumSquare: reduce18((x, a, k) => sum(square(x), a, k)),
  ReduceLogSum: reduce18((x, a, k) => log(sum(x, a, k))),
  ReduceLogSumExp: reduce18((x, a, k) => logSumExp(x, a, k)),
  ArgMax: { attrs: ["axis", "keepdims", "select_last_index"], run: (ctx) => argExtreme(ctx, 1) },
  ArgMin: { attrs: ["axis", "keepdims", "select_last_index"], run: (ctx) => argExtreme(ctx, -1) },
  Ceil: unary((x) => neg(floor(neg(x)))),
  Sign: unary(sign),
  IsNaN: unary(isnan),
  Sin: unary(sin),
  Cos: unary(cos),
  ThresholdedRelu: unary((x, c) => where(greater(x, c.attrs.float("alpha", 1)), x, 0), ["alpha"]),
  HardSwish: unary((x) => mul(x, clamp(add(mul(x, 1 / 6), 0.5), 0, 1))),
  Not: {
    attrs: [],
    run(ctx) {
      const v = ctx.value(0);
      if (v instanceof HostArray)
        return new HostArray(
          "bool",
          v.shape,
          v.data.map((a) => (a ? 0 : 1)),
        );
      return equal(v, 0);
    },
  },
  And: logical((a, b) => a && b, mul),
  Or: logical(
    (a, b) => a || b,
    (a, b) => greater(add(a, b), 0),
  ),
  Xor: logical(
    (a, b) => a !== b,
    (a, b) => sub(1, equal(a, b)),
  ),
  Tile: { attrs: [], run: tile },
};
