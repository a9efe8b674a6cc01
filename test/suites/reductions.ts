/**
 * Reductions (sum, max, min, mean, variance, logSumExp, argMax) over random axis sets, and
 * softmax / logSoftmax along a random axis.
 *
 * Tolerances: sum/mean/max/min forward 1e-5 / 1e-5 (max, min exact), variance and logSumExp
 * 2e-5 / 1e-4; every backward 2e-5 / 1e-4; argMax exact. max/min inputs are pairwise distinct
 * (gaps >= half the grid step) so the maximum is unique and the finite differences see one
 * branch.
 */
import fc from "fast-check";
import * as s from "../../src/index.ts";
import { type Nd, nd, shapeStr } from "../reference/nd.ts";
import {
  argMaxRef,
  logSoftmaxRef,
  logSumExpOf,
  maxOf,
  meanOf,
  minOf,
  reduceRef,
  softmaxRef,
  sumOf,
  varianceOf,
} from "../reference/reduce.ts";
import { Rng } from "../reference/rng.ts";
import { checkOp, property, type SuiteCase, seedArb, shapeArb, tol } from "./harness.ts";

/** A shape, a subset of its axes (some written negative, or undefined = all) and keepDims. */
const reduceArb = fc.tuple(shapeArb(1, 4, 1, 5), seedArb).map(([shape, seed]) => {
  const r = new Rng(seed);
  let axes: number[] | number | undefined;
  const k = r.int(0, 3);
  if (k === 0) axes = undefined;
  else if (k === 1) axes = r.int(-shape.length, shape.length - 1);
  else {
    axes = shape
      .map((_, i) => i)
      .filter(() => r.bool())
      .map((a) => (r.bool() ? a - shape.length : a));
    if (axes.length === 0) axes = [r.int(0, shape.length - 1)];
  }
  return { shape, axes, keepDims: r.bool(), seed };
});

interface ReduceCase {
  name: string;
  engine: (x: s.Tensor, axes: number | number[] | undefined, keep: boolean) => s.Tensor;
  fold: (vs: number[]) => number;
  distinct?: boolean;
  fwd: number;
}

const REDUCE: ReduceCase[] = [
  { name: "sum", engine: (x, a, k) => s.sum(x, a, k), fold: sumOf, fwd: 1e-5 },
  { name: "max", engine: (x, a, k) => s.max(x, a, k), fold: maxOf, distinct: true, fwd: 0 },
  { name: "min", engine: (x, a, k) => s.min(x, a, k), fold: minOf, distinct: true, fwd: 0 },
  { name: "mean", engine: (x, a, k) => s.mean(x, a, k), fold: meanOf, fwd: 1e-5 },
  {
    name: "variance",
    engine: (x, a, k) => s.variance(x, a, k),
    fold: (v) => varianceOf(v),
    fwd: 2e-5,
  },
  {
    name: "variance (correction 1)",
    engine: (x, a, k) => s.variance(x, a, k, 1),
    fold: (v) => varianceOf(v, 1),
    fwd: 2e-5,
  },
  { name: "logSumExp", engine: (x, a, k) => s.logSumExp(x, a, k), fold: logSumExpOf, fwd: 2e-5 },
];

function reduceCase(c: ReduceCase): SuiteCase {
  const name = `reduce ${c.name} over random axes (keepDims both ways): forward vs float64, backward vs finite differences`;
  return {
    name,
    run: (ctx) =>
      property(ctx, name, 15, reduceArb, async ({ shape, axes, keepDims, seed }) => {
        const r = new Rng(seed);
        const x = c.distinct ? r.ndDistinct(shape, -3, 3) : r.nd(shape, -3, 3);
        if (c.name.startsWith("variance (correction 1)")) {
          const ax =
            axes === undefined ? shape.map((_, i) => i) : typeof axes === "number" ? [axes] : axes;
          fc.pre(ax.reduce((n, a) => n * shape[a < 0 ? a + shape.length : a], 1) > 1);
        }
        await checkOp(ctx, {
          op: c.name,
          desc: `x ${shapeStr(shape)} axes ${JSON.stringify(axes)} keepDims ${keepDims}`,
          inputs: [x],
          engine: ([t]) => c.engine(t, axes, keepDims),
          reference: ([v]) => reduceRef(v, axes, keepDims, c.fold),
          fwd: tol(c.fwd, c.fwd === 0 ? 0 : c.fwd * 5),
          bwd: tol(2e-5, 1e-4),
          seed,
        });
      }),
  };
}

const argMaxCase: SuiteCase = {
  name: "argMax along a random axis (first index on ties): int32 forward vs float64",
  run: (ctx) =>
    property(ctx, "argMax", 15, fc.tuple(shapeArb(1, 4, 1, 5), seedArb), async ([shape, seed]) => {
      const r = new Rng(seed);
      const axis = r.int(-shape.length, shape.length - 1);
      // Half the runs draw from a few values so that ties occur.
      const x: Nd = r.bool() ? r.nd(shape, -3, 3) : r.nd(shape, -1, 1);
      if (r.bool()) for (let i = 0; i < x.data.length; i++) x.data[i] = r.int(0, 2);
      await checkOp(ctx, {
        op: "argMax",
        desc: `x ${shapeStr(shape)} axis ${axis}`,
        inputs: [x],
        engine: ([t]) => s.argMax(t, axis),
        reference: ([v]) => argMaxRef(v, axis),
        fwd: tol(0),
        dtype: "int32",
      });
    }),
};

function softmaxCase(kind: "softmax" | "logSoftmax"): SuiteCase {
  const name = `${kind} along a random axis: forward vs float64, backward vs finite differences`;
  return {
    name,
    run: (ctx) =>
      property(ctx, name, 15, fc.tuple(shapeArb(1, 4, 1, 5), seedArb), async ([shape, seed]) => {
        const r = new Rng(seed);
        const axis = r.int(-shape.length, shape.length - 1);
        // Large offsets check the max subtraction (exp(60) alone would overflow float32 sums).
        const x = r.nd(shape, -4, 4);
        if (r.bool(0.3)) for (let i = 0; i < x.data.length; i++) x.data[i] += 60;
        await checkOp(ctx, {
          op: kind,
          desc: `x ${shapeStr(shape)} axis ${axis}`,
          inputs: [x],
          engine: ([t]) => (kind === "softmax" ? s.softmax(t, axis) : s.logSoftmax(t, axis)),
          reference: ([v]) => (kind === "softmax" ? softmaxRef(v, axis) : logSoftmaxRef(v, axis)),
          fwd: tol(2e-5, 2e-5),
          bwd: tol(2e-5, 1e-4),
          seed,
        });
      }),
  };
}

const infiniteCase: SuiteCase = {
  name: "logSumExp / softmax / logSoftmax with infinite entries (masked logits): -inf rows give -inf, +inf gives +inf, no NaN",
  run: async (ctx) => {
    const inf = Infinity;
    const x = nd([3, 3], [-inf, -inf, -inf, -inf, 0, 1, 2, inf, 0]);
    const lse = [-inf, Math.log(1 + Math.E), inf];
    await checkOp(ctx, {
      op: "logSumExp",
      desc: "rows [-inf,-inf,-inf], [-inf,0,1], [2,inf,0] axis 1",
      inputs: [x],
      engine: ([t]) => s.logSumExp(t, 1),
      reference: () => nd([3], lse),
      fwd: tol(1e-6, 1e-6),
    });
    const y = nd([2, 3], [-inf, 0, 1, -inf, -inf, 5]);
    await checkOp(ctx, {
      op: "softmax",
      desc: "rows [-inf,0,1], [-inf,-inf,5]",
      inputs: [y],
      engine: ([t]) => s.softmax(t, 1),
      reference: () => nd([2, 3], [0, 1 / (1 + Math.E), Math.E / (1 + Math.E), 0, 0, 1]),
      fwd: tol(1e-6, 1e-6),
    });
    await checkOp(ctx, {
      op: "logSoftmax",
      desc: "rows [-inf,0,1], [-inf,-inf,5]",
      inputs: [y],
      engine: ([t]) => s.logSoftmax(t, 1),
      reference: () =>
        nd([2, 3], [-inf, -Math.log(1 + Math.E), 1 - Math.log(1 + Math.E), -inf, -inf, 0]),
      fwd: tol(1e-6, 1e-6),
    });
  },
};

export const reductionCases: SuiteCase[] = [
  infiniteCase,
  ...REDUCE.map(reduceCase),
  argMaxCase,
  softmaxCase("softmax"),
  softmaxCase("logSoftmax"),
];
