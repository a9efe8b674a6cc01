/** Dense layers, normalisation, softmax, reductions and depth/space rearrangements. */

import type { Tensor } from "../../../autodiff/tensor.ts";
import { sizeOf } from "../../../kernels/shape.ts";
import { add, div, mul, sub } from "../../../ops/binary.ts";
import { linear, matmul } from "../../../ops/matmul.ts";
import { batchNorm, batchNormTrain } from "../../../ops/norm.ts";
import { pixelShuffle, pixelUnshuffle } from "../../../ops/pixel-shuffle.ts";
import { max, mean, min, sum, variance } from "../../../ops/reduce.ts";
import { reshape } from "../../../ops/reshape.ts";
import { logSoftmax, softmax } from "../../../ops/softmax.ts";
import { sqrt } from "../../../ops/unary.ts";
import type { OpContext, OpSpec } from "./context.ts";
import type { Value } from "./host.ts";

/** Checks a matrix product's output size ([...batch, M, N]) before the engine allocates it. */
function checkProduct(
  ctx: OpContext,
  a: readonly number[],
  b: readonly number[],
  transA = false,
  transB = false,
): void {
  if (a.length === 0 || b.length === 0) return;
  const m = a.length === 1 ? 1 : a[a.length - (transA ? 1 : 2)];
  const n = b.length === 1 ? 1 : b[b.length - (transB ? 2 : 1)];
  const ba = a.slice(0, -2);
  const bb = b.slice(0, -2);
  const rank = Math.max(ba.length, bb.length);
  // Batch dims broadcast; a mismatch is left to the engine's own (clearer) message.
  const batch = Array.from({ length: rank }, (_, i) =>
    Math.max(ba[ba.length - rank + i] ?? 1, bb[bb.length - rank + i] ?? 1),
  );
  ctx.allocates([...batch, m, n]);
}

function gemm(ctx: OpContext): Tensor {
  const a = ctx.tensor(0);
  const b = ctx.tensor(1);
  const c = ctx.has(2) ? ctx.tensor(2) : null;
  const transA = ctx.attrs.int("transA", 0) === 1;
  const transB = ctx.attrs.int("transB", 0) === 1;
  const alpha = ctx.attrs.float("alpha", 1);
  const beta = ctx.attrs.float("beta", 1);
  if (a.rank !== 2 || b.rank !== 2)
    ctx.fail(`expects 2-D A and B, got [${a.shape}] and [${b.shape}]`);
  checkProduct(ctx, a.shape, b.shape, transA, transB);
  // The dense-layer pattern runs as one `linear` op (what LRP rules replace as a unit).
  if (
    !transA &&
    transB &&
    alpha === 1 &&
    beta === 1 &&
    (!c || (c.rank === 1 && c.size === b.shape[0]))
  ) {
    return linear(a, b, c);
  }
  let y = matmul(a, b, transA, transB);
  if (alpha !== 1) y = mul(y, alpha);
  return c ? add(y, beta === 1 ? c : mul(c, beta)) : y;
}

/** Softmax-like ops: opset < 13 flattens to 2-D at `axis` (default 1), 13+ uses one axis (default -1). */
function softmaxLike(f: (x: Tensor, axis: number) => Tensor) {
  return (ctx: OpContext): Tensor => {
    const x = ctx.tensor(0);
    if (ctx.opset >= 13) return f(x, ctx.axis(ctx.attrs.int("axis", -1), x.rank));
    const ax = x.rank === 0 ? 0 : ctx.axis(ctx.attrs.int("axis", 1), x.rank);
    const outer = sizeOf(x.shape.slice(0, ax));
    return reshape(f(reshape(x, [outer, x.size / outer]), 1), x.shape);
  };
}

/**
 * Training mode normalises with the batch statistics (biased variance) and also returns the
 * updated running statistics: input * momentum + batch * (1 - momentum), as ONNX defines them.
 */
function batchNormalizationTraining(ctx: OpContext): Tensor[] {
  const r = batchNormTrain(ctx.tensor(0), {
    weight: ctx.tensor(1),
    bias: ctx.tensor(2),
    eps: ctx.attrs.float("epsilon", 1e-5),
  });
  const m = ctx.attrs.float("momentum", 0.9);
  const blend = (running: Tensor, batch: Tensor) => add(mul(running, m), mul(batch, 1 - m));
  return [r.y, blend(ctx.tensor(3), r.mean), blend(ctx.tensor(4), r.variance)];
}

function batchNormalization(ctx: OpContext): Tensor | Tensor[] {
  if (ctx.attrs.int("spatial", 1) !== 1) ctx.unsupported("spatial=0 is not supported");
  if (ctx.attrs.int("training_mode", 0) === 1) return batchNormalizationTraining(ctx);
  ctx.onlyOutputs(1, "running statistics are only produced in training mode");
  return batchNorm(ctx.tensor(0), {
    weight: ctx.tensor(1),
    bias: ctx.tensor(2),
    runningMean: ctx.tensor(3),
    runningVar: ctx.tensor(4),
    eps: ctx.attrs.float("epsilon", 1e-5),
  });
}

function instanceNormalization(ctx: OpContext): Tensor {
  const x = ctx.tensor(0);
  const axes = x.shape.map((_, i) => i).slice(2);
  const eps = ctx.attrs.float("epsilon", 1e-5);
  const y = div(sub(x, mean(x, axes, true)), sqrt(add(variance(x, axes, true), eps)));
  const per = (t: Tensor) => reshape(t, [1, t.size, ...axes.map(() => 1)]);
  return add(mul(y, per(ctx.tensor(1))), per(ctx.tensor(2)));
}

type Reducer = (x: Tensor, axes: number[], keep: boolean) => Tensor;

/** Reductions: axes moved from an attribute to an input (ReduceSum at 13, the others at 18). */
function reduce(f: Reducer, inputSince: number): OpSpec {
  return {
    attrs: ["axes", "keepdims", "noop_with_empty_axes"],
    run(ctx): Value {
      const x = ctx.tensor(0);
      const given =
        ctx.opset >= inputSince ? (ctx.has(1) ? ctx.ints(1) : undefined) : ctx.attrs.ints("axes");
      const keep = ctx.attrs.int("keepdims", 1) === 1;
      if ((!given || given.length === 0) && ctx.attrs.int("noop_with_empty_axes", 0) === 1)
        return x;
      const axes = given?.length ? given.map((a) => ctx.axis(a, x.rank)) : x.shape.map((_, i) => i);
      return f(x, axes, keep);
    },
  };
}

function depthToSpace(ctx: OpContext): Tensor {
  const mode = ctx.attrs.oneOf("mode", "DCR", ["DCR", "CRD"]);
  return pixelShuffle(
    ctx.tensor(0),
    ctx.attrs.int("blocksize", 0),
    mode === "CRD" ? "torch" : "tf",
  );
}

export const nnOps: Record<string, OpSpec> = {
  Gemm: { attrs: ["alpha", "beta", "transA", "transB", "broadcast"], run: gemm },
  MatMul: {
    attrs: [],
    run(ctx) {
      checkProduct(ctx, ctx.value(0).shape, ctx.value(1).shape);
      return matmul(ctx.tensor(0), ctx.tensor(1));
    },
  },
  Softmax: { attrs: ["axis"], run: softmaxLike(softmax) },
  LogSoftmax: { attrs: ["axis"], run: softmaxLike(logSoftmax) },
  BatchNormalization: {
    attrs: ["epsilon", "momentum", "training_mode", "spatial", "is_test", "consumed_inputs"],
    run: batchNormalization,
  },
  InstanceNormalization: { attrs: ["epsilon"], run: instanceNormalization },
  ReduceMean: reduce(mean, 18),
  ReduceSum: reduce(sum, 13),
  ReduceMax: reduce(max, 18),
  ReduceMin: reduce(min, 18),
  DepthToSpace: { attrs: ["blocksize", "mode"], run: depthToSpace },
  SpaceToDepth: {
    attrs: ["blocksize"],
    run: (ctx) => pixelUnshuffle(ctx.tensor(0), ctx.attrs.int("blocksize", 0), "tf"),
  },
};
