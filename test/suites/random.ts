/**
 * Creation ops and randomness: arange / zeros / ones / fill against explicit values; seeded
 * randomUniform / randomNormal (reproducible, moments within 5 standard errors on 20000 draws);
 * dropout (identity when not training or at rate 0, kept values scaled by 1 / (1 - rate), drop
 * fraction within 5 standard errors of the rate, same seed = same mask, gradient = mask * dy /
 * (1 - rate)).
 */
import * as s from "../../src/index.ts";
import { Rng } from "../reference/rng.ts";
import {
  check,
  checkOp,
  evalOn,
  expectThrows,
  property,
  type SuiteCase,
  seedArb,
  tol,
  toTensor,
} from "./harness.ts";

const N = 20000;

function moments(v: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let m = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    m += v[i];
    lo = Math.min(lo, v[i]);
    hi = Math.max(hi, v[i]);
  }
  m /= v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i] - m) ** 2;
  return { mean: m, std: Math.sqrt(q / v.length), min: lo, max: hi };
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => v === b[i]);

const creationCase: SuiteCase = {
  name: "arange (float32 and int32), zeros, ones: values vs explicit formulas",
  run: async (ctx) => {
    const cases: [number, number, number][] = [
      [0, 5, 1],
      [2, 9, 3],
      [1.5, -2, -0.5],
      [0, 1, 0.25],
      [3, 3, 1],
    ];
    for (const [a, b, k] of cases) {
      const n = Math.max(0, Math.ceil((b - a) / k));
      const want = Float64Array.from({ length: n }, (_, i) => Math.fround(a + i * k));
      await checkOp(ctx, {
        op: "arange",
        desc: `(${a}, ${b}, ${k})`,
        inputs: [],
        engine: () => s.arange(a, b, k),
        reference: () => ({ shape: [n], data: want }),
        fwd: tol(0),
      });
    }
    await checkOp(ctx, {
      op: "arange int32",
      desc: "(-3, 4, 2)",
      inputs: [],
      engine: () => s.arange(-3, 4, 2, "int32"),
      reference: () => ({ shape: [4], data: Float64Array.of(-3, -1, 1, 3) }),
      fwd: tol(0),
      dtype: "int32",
    });
    for (const [name, f, v] of [
      ["zeros", s.zeros, 0],
      ["ones", s.ones, 1],
    ] as const) {
      await checkOp(ctx, {
        op: name,
        desc: "[2,3,1]",
        inputs: [],
        engine: () => f([2, 3, 1]),
        reference: () => ({ shape: [2, 3, 1], data: new Float64Array(6).fill(v) }),
        fwd: tol(0),
      });
    }
  },
};

const randomCase: SuiteCase = {
  name: "randomUniform / randomNormal: same seed same values, other seed other values, range and moments",
  run: (ctx) =>
    property(ctx, "random draws", 3, seedArb, async (seed) => {
      const r = new Rng(seed);
      const lo = r.uniform(-3, 0);
      const hi = r.uniform(0.5, 3);
      const mean = r.uniform(-2, 2);
      const std = r.uniform(0.5, 3);
      const { values } = await evalOn(ctx.backend, () => [
        s.randomUniform([N], { seed, low: lo, high: hi }),
        s.randomUniform([N], { seed, low: lo, high: hi }),
        s.randomUniform([N], { seed: seed + 1, low: lo, high: hi }),
        s.randomNormal([N], { seed, mean, std }),
        s.randomNormal([N], { seed, mean, std }),
        s.randomNormal([N], { seed: seed + 1, mean, std }),
      ]);
      const [u1, u2, u3, n1, n2, n3] = values;
      check(same(u1, u2), `randomUniform: seed ${seed} gave different values on two calls`);
      check(!same(u1, u3), `randomUniform: seeds ${seed} and ${seed + 1} gave the same values`);
      check(same(n1, n2), `randomNormal: seed ${seed} gave different values on two calls`);
      check(!same(n1, n3), `randomNormal: seeds ${seed} and ${seed + 1} gave the same values`);
      const mu = moments(u1);
      const w = hi - lo;
      check(
        mu.min >= lo && mu.max <= hi,
        `randomUniform [${N}] low ${lo} high ${hi}: values span [${mu.min}, ${mu.max}]`,
      );
      // Standard errors of the mean and of the std of U(lo, hi): w/sqrt(12 N) and ~w/sqrt(45 N).
      check(
        Math.abs(mu.mean - (lo + hi) / 2) < (5 * w) / Math.sqrt(12 * N),
        `randomUniform [${N}] low ${lo} high ${hi}: mean ${mu.mean}, expected ${(lo + hi) / 2}`,
      );
      check(
        Math.abs(mu.std - w / Math.sqrt(12)) < (5 * w) / Math.sqrt(45 * N),
        `randomUniform [${N}] low ${lo} high ${hi}: std ${mu.std}, expected ${w / Math.sqrt(12)}`,
      );
      const mn = moments(n1);
      check(
        Math.abs(mn.mean - mean) < (5 * std) / Math.sqrt(N),
        `randomNormal [${N}] mean ${mean} std ${std}: sample mean ${mn.mean}`,
      );
      check(
        Math.abs(mn.std - std) < (5 * std) / Math.sqrt(2 * N),
        `randomNormal [${N}] mean ${mean} std ${std}: sample std ${mn.std}`,
      );
    }),
};

const dropoutCase: SuiteCase = {
  name: "dropout: identity when not training or rate 0; mask statistics, scaling, seeding and gradient in training",
  run: (ctx) =>
    property(ctx, "dropout", 4, seedArb, async (seed) => {
      const r = new Rng(seed);
      const rate = r.pick([0.1, 0.5, r.uniform(0.05, 0.9)]);
      const x = r.ndAwayFromZero([4, 5000], 0.5, 2);
      const ct = r.nd([4, 5000]);
      const { values } = await evalOn(ctx.backend, () => {
        const xt = toTensor(x);
        const train = (sd: number) => s.dropout(xt, rate, { training: true, seed: sd });
        const { grads } = s.vjp(
          (t: s.Tensor) => s.dropout(t, rate, { training: true, seed }),
          [xt],
          toTensor(ct),
        );
        return [
          s.dropout(xt, rate, { training: false, seed }),
          s.dropout(xt, 0, { training: true, seed }),
          train(seed),
          train(seed),
          train(seed + 1),
          grads[0],
        ];
      });
      const [evalOut, rate0, a, b, c, g] = values;
      check(same(evalOut, Float32Array.from(x.data)), "dropout(training false) changed the values");
      check(same(rate0, Float32Array.from(x.data)), "dropout(rate 0) changed the values");
      check(same(a, b), `dropout: seed ${seed} gave two different masks`);
      check(!same(a, c), `dropout: seeds ${seed} and ${seed + 1} gave the same mask`);
      let dropped = 0;
      for (let i = 0; i < a.length; i++) {
        const kept = Math.fround(x.data[i] / (1 - rate));
        if (a[i] === 0) dropped++;
        else
          check(
            Math.abs(a[i] - kept) <= 1e-6 * Math.abs(kept),
            `dropout rate ${rate}: kept element ${i} is ${a[i]}, expected x / (1 - rate) = ${kept}`,
          );
        const wantG = a[i] === 0 ? 0 : ct.data[i] / (1 - rate);
        check(
          Math.abs(g[i] - wantG) <= 1e-6 + 1e-5 * Math.abs(wantG),
          `dropout rate ${rate} backward: element ${i} is ${g[i]}, expected mask * dy / (1 - rate) = ${wantG}`,
        );
      }
      const n = a.length;
      const frac = dropped / n;
      const se = Math.sqrt((rate * (1 - rate)) / n);
      check(
        Math.abs(frac - rate) < 5 * se,
        `dropout [4,5000] rate ${rate}: dropped fraction ${frac} is more than 5 standard errors (${se}) from the rate`,
      );
      expectThrows("dropout rate 1", () => s.dropout(s.zeros([2]), 1, { training: true }), [
        "dropout",
        "rate 1",
      ]);
    }),
};

export const randomCases: SuiteCase[] = [creationCase, randomCase, dropoutCase];
