/**
 * Normalisation and parametric activations: batchNorm (inference), batchNormTrain (y and the
 * returned statistics), layerNorm (any number of trailing axes, optional affine), prelu (scalar
 * and per-channel slopes).
 *
 * Inputs keep the normalised groups' variance >= 0.05 so float32 rounding is not amplified.
 * Tolerances: forward 1e-4 / 1e-4, backward 1e-4 / 1e-3 (a composition of ~10 float32 ops whose
 * gradients include 1 / sigma); prelu forward 1e-6 / 1e-6, backward 2e-5 / 1e-4.
 */
import fc from "fast-check";
import * as s from "../../src/index.ts";
import { preluRef } from "../reference/elementwise.ts";
import { type Nd, shapeStr, sizeOf, unravel } from "../reference/nd.ts";
import { batchNormRef, batchNormTrainRef, layerNormRef, varianceOf } from "../reference/reduce.ts";
import { Rng } from "../reference/rng.ts";
import { checkOp, describeInputs, property, type SuiteCase, seedArb, tol } from "./harness.ts";

const FWD = tol(1e-4, 1e-4);
const BWD = tol(1e-4, 1e-3);

function channelShape(r: Rng): number[] {
  const rank = r.int(2, 4);
  return [r.int(1, 3), r.int(1, 3), ...Array.from({ length: rank - 2 }, () => r.int(1, 4))];
}

/** Variance of every channel of x (all axes but 1). */
function channelVariances(x: Nd): number[] {
  const per: number[][] = Array.from({ length: x.shape[1] }, () => []);
  for (let i = 0; i < x.data.length; i++) per[unravel(i, x.shape)[1]].push(x.data[i]);
  return per.map((v) => varianceOf(v));
}

const batchNormCase: SuiteCase = {
  name: "batchNorm (inference; optional weight/bias, eps): forward vs float64, backward (x, mean, var, weight, bias)",
  run: (ctx) =>
    property(ctx, "batchNorm", 15, seedArb, async (seed) => {
      const r = new Rng(seed);
      const shape = channelShape(r);
      const c = shape[1];
      const eps = r.pick([1e-5, 1e-3, 0.1]);
      const withW = r.bool();
      const withB = r.bool();
      const inputs = [r.nd(shape, -2, 2), r.nd([c], -1, 1), r.nd([c], 0.2, 2)];
      if (withW) inputs.push(r.nd([c], -2, 2));
      if (withB) inputs.push(r.nd([c], -1, 1));
      const names = [
        "x",
        "runningMean",
        "runningVar",
        ...(withW ? ["weight"] : []),
        ...(withB ? ["bias"] : []),
      ];
      const pick = <T>(xs: T[]) => ({
        weight: withW ? xs[3] : null,
        bias: withB ? xs[withW ? 4 : 3] : null,
      });
      await checkOp(ctx, {
        op: "batchNorm",
        desc: `${describeInputs(inputs, names)} eps ${eps}`,
        inputs,
        engine: (ts) =>
          s.batchNorm(ts[0], { runningMean: ts[1], runningVar: ts[2], ...pick(ts), eps }),
        reference: (vs) => {
          const { weight, bias } = pick(vs);
          return batchNormRef(vs[0], vs[1], vs[2], weight, bias, eps);
        },
        fwd: FWD,
        bwd: BWD,
        seed,
      });
    }),
};

const batchNormTrainCase: SuiteCase = {
  name: "batchNormTrain (batch statistics): y forward and backward (x, weight, bias); mean / variance / unbiasedVariance forward",
  run: (ctx) =>
    property(ctx, "batchNormTrain", 15, seedArb, async (seed) => {
      const r = new Rng(seed);
      const shape = channelShape(r);
      fc.pre(sizeOf(shape) / shape[1] >= 2);
      const c = shape[1];
      const x = r.nd(shape, -2, 2);
      fc.pre(Math.min(...channelVariances(x)) > 0.05);
      const w = r.nd([c], -2, 2);
      const b = r.nd([c], -1, 1);
      const eps = r.pick([1e-5, 0.01]);
      const desc = `${describeInputs([x, w, b], ["x", "weight", "bias"])} eps ${eps}`;
      await checkOp(ctx, {
        op: "batchNormTrain y",
        desc,
        inputs: [x, w, b],
        engine: ([t, ww, bb]) => s.batchNormTrain(t, { weight: ww, bias: bb, eps }).y,
        reference: ([t, ww, bb]) => batchNormTrainRef(t, ww, bb, eps).y,
        fwd: FWD,
        bwd: BWD,
        seed,
      });
      for (const stat of ["mean", "variance", "unbiasedVariance"] as const) {
        await checkOp(ctx, {
          op: `batchNormTrain ${stat}`,
          desc,
          inputs: [x],
          engine: ([t]) => s.batchNormTrain(t, { eps })[stat],
          reference: ([t]) => batchNormTrainRef(t, null, null, eps)[stat],
          fwd: tol(1e-5, 1e-4),
          bwd: BWD,
          seed,
        });
      }
    }),
};

const layerNormCase: SuiteCase = {
  name: "layerNorm over the last k axes (optional weight/bias of the trailing shape): forward vs float64, backward",
  run: (ctx) =>
    property(ctx, "layerNorm", 15, seedArb, async (seed) => {
      const r = new Rng(seed);
      const rank = r.int(1, 4);
      const shape = Array.from({ length: rank }, () => r.int(1, 4));
      const k = r.int(1, rank);
      const tail = shape.slice(rank - k);
      fc.pre(sizeOf(tail) >= 2);
      const x = r.nd(shape, -2, 2);
      const inner = sizeOf(tail);
      for (let o = 0; o < x.data.length; o += inner) {
        fc.pre(varianceOf(Array.from(x.data.subarray(o, o + inner))) > 0.05);
      }
      const withW = r.bool();
      const withB = r.bool();
      const inputs = [x];
      if (withW) inputs.push(r.nd(tail, -2, 2));
      if (withB) inputs.push(r.nd(tail, -1, 1));
      const eps = r.pick([1e-5, 0.01]);
      const pick = <T>(xs: T[]) => ({
        weight: withW ? xs[1] : null,
        bias: withB ? xs[withW ? 2 : 1] : null,
      });
      await checkOp(ctx, {
        op: "layerNorm",
        desc: `${describeInputs(inputs)} normalized axes ${k} weight ${withW} bias ${withB} eps ${eps}`,
        inputs,
        engine: (ts) => s.layerNorm(ts[0], k, { ...pick(ts), eps }),
        reference: (vs) => {
          const { weight, bias } = pick(vs);
          return layerNormRef(vs[0], k, weight, bias, eps);
        },
        fwd: FWD,
        bwd: BWD,
        seed,
      });
    }),
};

const preluCase: SuiteCase = {
  name: "prelu (scalar slope and one slope per channel): forward vs float64, backward (x and slopes)",
  run: (ctx) =>
    property(ctx, "prelu", 15, seedArb, async (seed) => {
      const r = new Rng(seed);
      const rank = r.int(2, 4);
      const shape = Array.from({ length: rank }, () => r.int(1, 4));
      const perChannel = shape[1] > 1 && r.bool();
      const x = r.ndAwayFromZero(shape, 0.01, 2);
      const alpha = r.nd([perChannel ? shape[1] : 1], -0.5, 0.5);
      await checkOp(ctx, {
        op: "prelu",
        desc: `x ${shapeStr(shape)} alpha ${shapeStr(alpha.shape)}`,
        inputs: [x, alpha],
        engine: ([t, a]) => s.prelu(t, a),
        reference: ([t, a]) => preluRef(t, a),
        fwd: tol(1e-6),
        bwd: tol(2e-5, 1e-4),
        seed,
      });
    }),
};

export const normCases: SuiteCase[] = [batchNormCase, batchNormTrainCase, layerNormCase, preluCase];
