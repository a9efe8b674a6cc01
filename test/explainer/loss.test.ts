/**
 * The NN-Explainer loss terms: values on tiny tensors worked out by hand (in the comments), and
 * gradients against central finite differences of independent float64 implementations written
 * here from the reference definitions (NN-Explainer utils/loss.py, helper.extract_masks).
 */
import { describe, expect, it } from "vitest";
import {
  classMaskAreaLoss,
  EXPLAINER_LOSS_DEFAULTS,
  entropyLoss,
  explainerLoss,
  explainerMasks,
  totalVariation,
} from "../../src/attribution/explainer/loss.ts";
import { argsortDescending, sortRowsDescending } from "../../src/attribution/explainer/sort.ts";
import {
  add,
  grad,
  matmul,
  mul,
  reshape,
  sum,
  type Tensor,
  tensor,
  transpose,
} from "../../src/index.ts";
import { bceWithLogits } from "../../src/models/train/losses.ts";
import { numericGrad } from "../helpers/numeric-grad.ts";

const logit = (p: number) => Math.log(p / (1 - p));
const sig = (z: number) => 1 / (1 + Math.exp(-z));

function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > tol) {
      throw new Error(`entry ${i}: got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
    }
  }
}

/** The engine's gradient of a scalar function of one tensor. */
function engineGrad(f: (t: Tensor) => Tensor, x: Float32Array, shape: number[]): Float32Array {
  return grad(f)(tensor(x, shape)).dataSync() as Float32Array;
}

// ---- float64 references, straight from the definitions ----
function refMasks(s: Float64Array, y: number[], b: number, c: number, hw: number) {
  const m = new Float64Array(b * hw);
  const n = new Float64Array(b * hw);
  for (let i = 0; i < b; i++) {
    for (let p = 0; p < hw; p++) {
      let mt = -Infinity;
      let mn = -Infinity;
      for (let k = 0; k < c; k++) {
        const v = s[(i * c + k) * hw + p];
        if (y[i * c + k]) mt = Math.max(mt, v);
        else mn = Math.max(mn, v);
      }
      m[i * hw + p] = sig(mt);
      n[i * hw + p] = sig(mn);
    }
  }
  return { m, n };
}

function refTv(m: Float64Array, b: number, h: number, w: number): number {
  let t = 0;
  for (let i = 0; i < b; i++) {
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        const at = (rr: number, qq: number) => m[(i * h + rr) * w + qq];
        const right = q + 1 < w ? at(r, q + 1) : at(r, w - 2);
        const down = r + 1 < h ? at(r + 1, q) : at(h - 2, q);
        t += Math.abs(at(r, q) - right) + Math.abs(at(r, q) - down);
      }
    }
  }
  return t / (b * h * w);
}

function refArea(
  s: Float64Array,
  y: number[],
  b: number,
  c: number,
  hw: number,
  lo: number,
  hi: number,
) {
  let total = 0;
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < c; k++) {
      if (!y[i * c + k]) continue;
      const v = Array.from(s.subarray((i * c + k) * hw, (i * c + k + 1) * hw), sig).sort(
        (a, z) => z - a,
      );
      const kMin = Math.floor(hw * lo);
      const kMax = Math.floor(hw * hi);
      let sum = 0;
      v.forEach((x, j) => {
        sum += Math.max(0, (j < kMin ? 1 : 0) - x) + Math.max(0, x - (j < kMax ? 1 : 0));
      });
      total += sum / hw;
    }
  }
  return total / b;
}

function refNegEntropy(z: Float64Array, rows: number, k: number): number {
  let t = 0;
  for (let r = 0; r < rows; r++) {
    const row = z.subarray(r * k, (r + 1) * k);
    const m = Math.max(...row);
    const e = Array.from(row, (v) => Math.exp(v - m));
    const s = e.reduce((a, x) => a + x, 0);
    for (const v of e) {
      const p = Math.max(v / s, 1e-16);
      t += p * Math.log(p);
    }
  }
  return t / (rows * k);
}

describe("explainer masks", () => {
  it("takes sigmoid of the per-pixel max over target and over non-target classes", () => {
    // S [1, 3, 1, 2]: class 0 = (0, 2), class 1 = (1, -1), class 2 = (3, -2); targets {0, 2}.
    // m = sigmoid(max(S0, S2)) = sigmoid(3, 2); n = sigmoid(S1) = sigmoid(1, -1).
    const seg = tensor(new Float32Array([0, 2, 1, -1, 3, -2]), [1, 3, 1, 2]);
    const { target, nonTarget } = explainerMasks(seg, [1, 0, 1]);
    expect(target.shape).toEqual([1, 1, 2]);
    expectAllClose(target.dataSync(), [sig(3), sig(2)], 1e-6);
    expectAllClose(nonTarget.dataSync(), [sig(1), sig(-1)], 1e-6);
  });

  it("sends the gradient to the winning class only", () => {
    const s = Float32Array.from([0.3, -0.8, 1.1, 0.2, -0.4, 0.9, 0.5, -1.2, 0.7, 0.1, -0.6, 1.4]);
    const y = [1, 0, 1];
    // sum(m * wm) + sum(n * wn) with fixed weights, so every pixel counts differently.
    const wm = [0.7, -1.3, 0.4, 2.1];
    const wn = [-0.5, 0.9, 1.7, -0.2];
    const ref = (v: Float64Array) => {
      const { m, n } = refMasks(v, y, 1, 3, 4);
      return m.reduce((a, x, i) => a + x * wm[i], 0) + n.reduce((a, x, i) => a + x * wn[i], 0);
    };
    const g = engineGrad(
      (t) => {
        const { target, nonTarget } = explainerMasks(t, y);
        const a = sum(mul(target, tensor(new Float32Array(wm), [1, 2, 2])));
        return add(a, sum(mul(nonTarget, tensor(new Float32Array(wn), [1, 2, 2]))));
      },
      s,
      [1, 3, 2, 2],
    );
    expectAllClose(g, numericGrad(ref, s), 1e-4);
  });

  it("rejects an example without a non-target class", () => {
    const seg = tensor(new Float32Array(4), [1, 2, 1, 2]);
    expect(() => explainerMasks(seg, [1, 1])).toThrow(/selects no class/);
  });
});

describe("negative entropy on the complement", () => {
  it("is -mean(-p log p) of the softmax", () => {
    // Row 0: logits (0, ln 3) -> p = (1/4, 3/4); row 1: (0, 0) -> p = (1/2, 1/2).
    // sum p log p = (1/4 ln 1/4 + 3/4 ln 3/4) + ln 1/2 = -0.34657 - 0.21576 - 0.69315 = -1.25548;
    // the loss is that over the 4 entries, -0.31387.
    const expected = (0.25 * Math.log(0.25) + 0.75 * Math.log(0.75) + Math.log(0.5)) / 4;
    const v = entropyLoss(tensor(new Float32Array([0, Math.log(3), 0, 0]), [2, 2])).dataSync()[0];
    expect(v).toBeCloseTo(expected, 6);
    expect(expected).toBeCloseTo(-0.31387, 5);
  });

  it("has the finite-difference gradient", () => {
    const z = Float32Array.from([0.2, -1.1, 0.7, 1.5, 0.3, -0.4, -0.9, 0.8]);
    const g = engineGrad(entropyLoss, z, [2, 4]);
    expectAllClose(
      g,
      numericGrad((v) => refNegEntropy(v, 2, 4), z),
      1e-5,
    );
  });
});

describe("total variation with reflect padding", () => {
  it("pairs the last row and column with their reflected neighbours", () => {
    // m = [[0, 1, 3], [2, 2, 0]]. Right differences (last column vs column 1):
    // |0-1| + |1-3| + |3-1| + |2-2| + |2-0| + |0-2| = 9. Down differences (last row vs row 0):
    // |0-2| + |1-2| + |3-0| + |2-0| + |2-1| + |0-3| = 12. TV = (9 + 12) / 6 = 3.5.
    const m = tensor(new Float32Array([0, 1, 3, 2, 2, 0]), [1, 2, 3]);
    expect(totalVariation(m).dataSync()[0]).toBeCloseTo(3.5, 6);
    // [B, 1, H, W] is the same thing.
    expect(totalVariation(reshape(m, [1, 1, 2, 3])).dataSync()[0]).toBeCloseTo(3.5, 6);
  });

  it("has the finite-difference gradient (away from the kinks of |.|)", () => {
    const m = Float32Array.from([
      0.1, 0.5, 0.95, 0.3, 0.72, 0.15, 0.6, 0.05, 0.41, 0.88, 0.2, 0.66,
    ]);
    const g = engineGrad(totalVariation, m, [1, 3, 4]);
    expectAllClose(
      g,
      numericGrad((v) => refTv(v, 1, 3, 4), m),
      1e-5,
    );
  });
});

describe("class mask area constraint (sorted)", () => {
  it("matches the hand-worked example", () => {
    // One present class with sigmoid values (0.9, 0.2, 0.6, 0.4), N = 4, a_min 0.25 -> 1 pixel,
    // a_max 0.5 -> 2 pixels. Sorted: 0.9, 0.6, 0.4, 0.2. min term relu((1,0,0,0) - s) = (0.1, 0,
    // 0, 0); max term relu(s - (1,1,0,0)) = (0, 0, 0.4, 0.2); mean = 0.7 / 4 = 0.175.
    // Example 2 has two present classes: (0.5 x4) gives min (0.5, 0, 0, 0), max (0, 0, .5, .5):
    // 1.5 / 4 = 0.375; (0.99, 0.98, 0.01, 0.02) sorts to (0.99, 0.98, 0.02, 0.01): min term
    // 0.01, max term 0.02 + 0.01, so 0.04 / 4 = 0.01. Batch mean: (0.175 + 0.375 + 0.01) / 2 = 0.28.
    const p = [
      [0.9, 0.2, 0.6, 0.4],
      [0.3, 0.3, 0.3, 0.3],
      [0.5, 0.5, 0.5, 0.5],
      [0.99, 0.98, 0.01, 0.02],
    ];
    const seg = tensor(Float32Array.from(p.flat(), logit), [2, 2, 2, 2]);
    const v = classMaskAreaLoss(seg, [1, 0, 1, 1], { minArea: 0.25, maxArea: 0.5 });
    expect(v.dataSync()[0]).toBeCloseTo(0.28, 5);
  });

  it("uses the reference's defaults a_min 0.05, a_max 0.3 and floor(a N)", () => {
    // N = 100: the top 5 should be 1 and all but the top 30 should be 0. A mask of 0.5 everywhere:
    // 5 * 0.5 (min) + 70 * 0.5 (max) = 37.5 over 100.
    const seg = tensor(new Float32Array(200), [1, 2, 10, 10]);
    expect(classMaskAreaLoss(seg, [0, 1]).dataSync()[0]).toBeCloseTo(0.375, 6);
  });

  it("has the finite-difference gradient (the sort's subgradient)", () => {
    // Distinct values, none near a relu kink (sigmoid never reaches 0 or 1).
    const s = Float32Array.from([0.3, -1.2, 2.1, 0.9, -0.5, 1.6, -2.2, 0.1, 1.1, -0.8, 0.6, -1.7]);
    const y = [1, 1, 0];
    const g = engineGrad(
      (t) => classMaskAreaLoss(t, y, { minArea: 0.25, maxArea: 0.5 }),
      s,
      [1, 3, 2, 2],
    );
    expectAllClose(
      g,
      numericGrad((v) => refArea(v, y, 1, 3, 4, 0.25, 0.5), s),
      1e-5,
    );
    // The absent class gets no gradient.
    expectAllClose(g.subarray(8), [0, 0, 0, 0], 0);
  });

  it("sorts descending and differentiates through gather", () => {
    expect(Array.from(argsortDescending([0.2, 0.9, 0.5, 0.9]))).toEqual([1, 3, 2, 0]);
    const x = tensor(new Float32Array([3, 1, 2, 0, 5, 4]), [2, 3]);
    expect(Array.from(sortRowsDescending(x).dataSync())).toEqual([3, 2, 1, 5, 4, 0]);
    expect(Array.from(sortRowsDescending(x, [1]).dataSync())).toEqual([5, 4, 0]);
    // d/dx sum(sorted * (1, 10, 100)) puts weight 10^rank on each element.
    const g = grad((t: Tensor) =>
      sum(mul(sortRowsDescending(t), tensor(new Float32Array([1, 10, 100])))),
    )(x);
    expect(Array.from(g.dataSync())).toEqual([1, 100, 10, 100, 1, 10]);
  });
});

describe("the full loss", () => {
  // A linear "classifier" on the 2x2 image: logits = W vec(x) + b, 3 classes.
  const W = [
    [0.5, -1, 0.3, 0.8],
    [-0.2, 0.4, 1.1, -0.6],
    [0.9, 0.1, -0.7, 0.2],
  ];
  const bias = [0.1, -0.3, 0.2];
  const classifier = (x: Tensor) =>
    add(
      matmul(reshape(x, [x.shape[0], 4]), transpose(tensor(new Float32Array(W.flat()), [3, 4]))),
      tensor(new Float32Array(bias)),
    );
  const img = [0.2, 0.9, 0.5, 0.7, 0.6, 0.1, 0.8, 0.3];
  const seg = [
    0.4, -0.9, 1.3, 0.2, -0.3, 0.8, -1.1, 0.6, 0.5, 1.2, -0.7, 0.1, 0.9, -0.2, 0.3, -1.4, 1.0, 0.05,
    -0.5, 0.7, 0.25, -0.6, 1.5, -0.15,
  ];
  const y = [1, 0, 0, 0, 1, 1];

  function refLoss(s: Float64Array, o = EXPLAINER_LOSS_DEFAULTS) {
    const { m, n } = refMasks(s, y, 2, 3, 4);
    const logits = (mask: (i: number) => number) =>
      Float64Array.from({ length: 6 }, (_, j) => {
        const b = Math.floor(j / 3);
        const c = j % 3;
        return W[c].reduce((a, w, p) => a + w * mask(b * 4 + p) * img[b * 4 + p], bias[c]);
      });
    const lm = logits((i) => m[i]);
    const bce =
      lm.reduce(
        (a, z, j) => a + Math.max(z, 0) - z * y[j] + Math.log1p(Math.exp(-Math.abs(z))),
        0,
      ) / 6;
    const ent = refNegEntropy(
      logits((i) => 1 - m[i]),
      2,
      3,
    );
    const tv = refTv(m, 2, 2, 2) + refTv(n, 2, 2, 2);
    const area = refArea(s, y, 2, 3, 4, o.minArea, o.maxArea);
    const mean = (a: Float64Array) => a.reduce((u, v) => u + v, 0) / a.length;
    return (
      bce +
      o.entropy * ent +
      o.tv * tv +
      o.area * area +
      o.totalArea * mean(m) +
      o.nonClassArea * mean(n)
    );
  }

  it("is the weighted sum of its terms and matches the float64 reference", () => {
    const x = tensor(new Float32Array(img), [2, 1, 2, 2]);
    const t = explainerLoss(classifier, tensor(new Float32Array(seg), [2, 3, 2, 2]), x, y);
    const r = (v: Tensor) => v.dataSync()[0];
    const d = EXPLAINER_LOSS_DEFAULTS;
    const sum =
      r(t.classification) +
      d.entropy * r(t.entropy) +
      d.tv * r(t.tv) +
      d.area * r(t.area) +
      d.totalArea * r(t.totalArea) +
      d.nonClassArea * r(t.nonClassArea);
    expect(r(t.total)).toBeCloseTo(sum, 5);
    expect(r(t.total)).toBeCloseTo(refLoss(Float64Array.from(seg)), 5);
    // The classification term is BCE-with-logits of the classifier on m * x.
    const { target } = explainerMasks(tensor(new Float32Array(seg), [2, 3, 2, 2]), y);
    const bce = bceWithLogits(
      classifier(mul(reshape(target, [2, 1, 2, 2]), x)),
      tensor(new Float32Array(y), [2, 3]),
    );
    expect(r(t.classification)).toBeCloseTo(r(bce), 6);
  });

  it("has the finite-difference gradient with respect to the mask logits", () => {
    const x = tensor(new Float32Array(img), [2, 1, 2, 2]);
    const g = engineGrad(
      (s) => explainerLoss(classifier, s, x, y).total,
      new Float32Array(seg),
      [2, 3, 2, 2],
    );
    expectAllClose(
      g,
      numericGrad((v) => refLoss(v), seg),
      2e-5,
    );
  });
});
