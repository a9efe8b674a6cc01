/**
 * The union distillation L_u = mean over (b, i, j) of BCE(m_bij, m0_bij), m = sigmoid(max over
 * present c of S_bc): a value worked out by hand, its least value at m = m0, its gradient against
 * central differences of a float64 implementation, and its place in the full loss.
 */
import { describe, expect, it } from "vitest";
import { EXPLAINER_LOSS_DEFAULTS, explainerLoss } from "../../src/attribution/explainer/loss.ts";
import { unionDistillLoss } from "../../src/attribution/explainer/union-distill.ts";
import { add, grad, matmul, reshape, type Tensor, tensor, transpose } from "../../src/index.ts";
import { numericGrad } from "../helpers/numeric-grad.ts";

const sig = (z: number) => 1 / (1 + Math.exp(-z));
const bce = (m: number, t: number) => -(t * Math.log(m) + (1 - t) * Math.log(1 - m));

describe("unionDistillLoss", () => {
  it("matches the hand-computed value", () => {
    const l3 = Math.log(3);
    // Image 0 holds classes 0 and 1: per-pixel max logits [ln 3, -ln 3] -> m = [3/4, 1/4].
    // Image 1 holds class 1 only; class 0's large logits are absent and ignored: m = [1/2, 3/4].
    const seg = tensor(new Float32Array([0, -l3, l3, -2, 5, 5, 0, l3]), [2, 2, 1, 2]);
    const teacher = tensor(new Float32Array([1, 0.5, 0, 0.25]), [2, 1, 2]);
    const byHand =
      (Math.log(4 / 3) +
        (0.5 * Math.log(4) + 0.5 * Math.log(4 / 3)) +
        Math.log(2) +
        -(0.25 * Math.log(3 / 4) + 0.75 * Math.log(1 / 4))) /
      4;
    expect(unionDistillLoss(seg, [1, 1, 0, 1], teacher).dataSync()[0]).toBeCloseTo(byHand, 6);
  });

  it("is least when the union equals the teacher's, at the teacher's mean entropy", () => {
    const t = [0.2, 0.7, 0.5, 0.9];
    const teacher = tensor(new Float32Array(t), [1, 2, 2]);
    const logit = (p: number) => Math.log(p / (1 - p));
    // Class 1 is present and matches the teacher; absent class 0 would not.
    const matched = tensor(new Float32Array([...t.map(() => 4), ...t.map(logit)]), [1, 2, 2, 2]);
    const entropy = t.reduce((a, p) => a + bce(p, p), 0) / 4;
    const at = unionDistillLoss(matched, [0, 1], teacher).dataSync()[0];
    expect(at).toBeCloseTo(entropy, 6);
    const off = tensor(
      new Float32Array([...t.map(() => 4), ...t.map((p) => logit(p) + 0.3)]),
      [1, 2, 2, 2],
    );
    expect(unionDistillLoss(off, [0, 1], teacher).dataSync()[0]).toBeGreaterThan(at);
  });

  it("has the gradient of a float64 reference (central differences)", () => {
    const y = [1, 0, 1, 0, 1, 1];
    const t = [0.9, 0.1, 0.6, 0.3, 0.0, 1.0, 0.45, 0.8];
    const seg0 = Array.from({ length: 24 }, (_, i) => Math.sin(1.7 * i + 0.3) * 1.5);
    const ref = (s: Float64Array) => {
      let total = 0;
      for (let b = 0; b < 2; b++) {
        for (let p = 0; p < 4; p++) {
          let z = -Infinity;
          for (let c = 0; c < 3; c++) if (y[b * 3 + c]) z = Math.max(z, s[(b * 3 + c) * 4 + p]);
          total += bce(sig(z), t[b * 4 + p]);
        }
      }
      return total / 8;
    };
    const g = grad((s: Tensor) => unionDistillLoss(s, y, tensor(new Float32Array(t), [2, 2, 2])))(
      tensor(new Float32Array(seg0), [2, 3, 2, 2]),
    ).dataSync();
    const v = Float64Array.from(seg0);
    const fd = numericGrad(ref, v);
    for (let i = 0; i < v.length; i++) expect(Math.abs(g[i] - fd[i])).toBeLessThan(1e-5);
  });

  it("rejects bad input with what was expected", () => {
    const seg = tensor(new Float32Array([1, 2, 3, 4]), [1, 2, 1, 2]);
    const teacher = tensor(new Float32Array([0.5, 0.5]), [1, 1, 2]);
    expect(() => unionDistillLoss(seg, [1], teacher)).toThrow(/B x C = 2/);
    expect(() => unionDistillLoss(seg, [1, 0.5], teacher)).toThrow(/0 or 1, got 0.5/);
    expect(() => unionDistillLoss(seg, [0, 0], teacher)).toThrow(/example 0 has no present class/);
    expect(() =>
      unionDistillLoss(seg, [1, 0], tensor(new Float32Array([0.5, 0.5]), [1, 2])),
    ).toThrow(/need \[B, H, W\] = \[1, 1, 2\]/);
    expect(() =>
      unionDistillLoss(seg, [1, 0], tensor(new Float32Array([0.5, 1.5]), [1, 1, 2])),
    ).toThrow(/\[0, 1\], got 1.5 at 1/);
  });
});

describe("explainerLoss with a union distillation weight", () => {
  const seg = tensor(new Float32Array([0.3, -0.8, 1.2, 0.4, -0.5, 0.9, 0.2, -1.1]), [1, 2, 2, 2]);
  const x = tensor(new Float32Array([0.9, 0.2, 0.4, 0.7]), [1, 1, 2, 2]);
  const g = (input: Tensor) =>
    add(
      matmul(
        reshape(input, [1, 4]),
        transpose(tensor(new Float32Array([1, -0.5, 0.3, 0.2, -0.4, 0.8, 0.1, 0.6]), [2, 4])),
      ),
      tensor(new Float32Array([0, 0.1])),
    );
  const y = [1, 0];
  const union = tensor(new Float32Array([0.8, 0.1, 0.9, 0.3]), [1, 2, 2]);

  it("adds l_u L_u to the reference total and leaves it alone at the default weight 0", () => {
    expect(EXPLAINER_LOSS_DEFAULTS.unionDistill).toBe(0);
    const base = explainerLoss(g, seg, x, y, {}, { union });
    expect(base.unionDistill.dataSync()[0]).toBe(0);
    const withU = explainerLoss(g, seg, x, y, { unionDistill: 3 }, { union });
    // Class 0 alone is present, so m = sigmoid(S_0) = sigmoid([0.3, -0.8, 1.2, 0.4]).
    const byHand =
      [0.3, -0.8, 1.2, 0.4].reduce((a, s, i) => a + bce(sig(s), [0.8, 0.1, 0.9, 0.3][i]), 0) / 4;
    expect(withU.unionDistill.dataSync()[0]).toBeCloseTo(byHand, 6);
    expect(withU.total.dataSync()[0]).toBeCloseTo(base.total.dataSync()[0] + 3 * byHand, 5);
  });

  it("needs the teacher's masks when weighted", () => {
    expect(() => explainerLoss(g, seg, x, y, { unionDistill: 1 })).toThrow(
      /needs the teacher's union masks/,
    );
  });
});
