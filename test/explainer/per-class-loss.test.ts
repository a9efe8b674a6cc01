/**
 * The per-class terms L_pc = mean over present (b, c) of BCEWithLogits(f(sigmoid(S_bc) x_b), e_c)
 * and L_pd = mean over present (b, c) of BCEWithLogits(f((1 - sigmoid(S_bc)) x_b), y_b - e_c):
 * values worked out by hand on a 1 x 2 image, which masks they prefer, their gradients against
 * central differences of float64 implementations, and their place in the full loss.
 */
import { describe, expect, it } from "vitest";
import { EXPLAINER_LOSS_DEFAULTS, explainerLoss } from "../../src/attribution/explainer/loss.ts";
import {
  perClassDeletionLoss,
  perClassMaskLoss,
} from "../../src/attribution/explainer/per-class-loss.ts";
import { add, grad, matmul, reshape, type Tensor, tensor, transpose } from "../../src/index.ts";
import { numericGrad } from "../helpers/numeric-grad.ts";

const softplus = (z: number) => Math.log1p(Math.exp(z));
const sig = (z: number) => 1 / (1 + Math.exp(-z));

/** logits = W vec(x) + b for images of `pixels` pixels. */
function linear(W: number[][], bias: number[]) {
  const c = W.length;
  const p = W[0].length;
  return (x: Tensor) =>
    add(
      matmul(reshape(x, [x.shape[0], p]), transpose(tensor(new Float32Array(W.flat()), [c, p]))),
      tensor(new Float32Array(bias)),
    );
}

/** Two classes on a 1 x 2 image: class 0's logit is 2 x pixel 0, class 1's is 2 x pixel 1. */
const twoPixelClasses = linear(
  [
    [2, 0],
    [0, 2],
  ],
  [0, 0],
);

/**
 * The hand-computed cases' inputs: image 0 = [1, 1] holds classes 0 and 1, image 1 = [2, 4] holds
 * class 1 only; mask logits S(0, 0) = [0, 0], S(0, 1) = [-ln 3, ln 3], S(1, 0) = [5, -7] (an absent
 * class), S(1, 1) = [ln 3, -ln 3].
 */
function handCase(): { seg: Tensor; x: Tensor } {
  const l3 = Math.log(3);
  return {
    seg: tensor(new Float32Array([0, 0, -l3, l3, 5, -7, l3, -l3]), [2, 2, 1, 2]),
    x: tensor(new Float32Array([1, 1, 2, 4]), [2, 1, 1, 2]),
  };
}

/**
 * Checks a per-class term against a float64 implementation of its definition on a 3-class linear
 * classifier, two 2 x 2 images and logits sin(freq i + phase) * 1.5: the value, and the gradient
 * against central differences. "keep" is L_pc (the class's mask alone, one-hot target); "delete"
 * is L_pd (its complement, target y_b - e_c).
 */
function expectMatchesReference(
  loss: typeof perClassMaskLoss,
  kind: "keep" | "delete",
  freq: number,
  phase: number,
): void {
  const W = [
    [0.5, -1, 0.3, 0.8],
    [-0.2, 0.4, 1.1, -0.6],
    [0.9, 0.1, -0.7, 0.2],
  ];
  const bias = [0.1, -0.3, 0.2];
  const img = [0.2, 0.9, 0.5, 0.7, 0.6, 0.1, 0.8, 0.3];
  const y = [1, 0, 1, 0, 1, 1];
  const seg0 = Array.from({ length: 24 }, (_, i) => Math.sin(freq * i + phase) * 1.5);
  const ref = (s: Float64Array) => {
    let total = 0;
    let pairs = 0;
    for (let r = 0; r < 6; r++) {
      if (!y[r]) continue;
      const b = Math.floor(r / 3);
      const cls = r % 3;
      for (let k = 0; k < 3; k++) {
        const m = (p: number) => (kind === "keep" ? sig(s[r * 4 + p]) : 1 - sig(s[r * 4 + p]));
        const z = W[k].reduce((a, w, p) => a + w * m(p) * img[b * 4 + p], bias[k]);
        const target = kind === "keep" ? +(k === cls) : k === cls ? 0 : y[b * 3 + k];
        total += (target ? softplus(-z) : softplus(z)) / 3;
      }
      pairs++;
    }
    return total / pairs;
  };
  const f = linear(W, bias);
  const x = tensor(new Float32Array(img), [2, 1, 2, 2]);
  const seg = tensor(new Float32Array(seg0), [2, 3, 2, 2]);
  const v = Float64Array.from(seg0);
  expect(loss(f, seg, x, y).dataSync()[0]).toBeCloseTo(ref(v), 6);
  const g = grad((t: Tensor) => loss(f, t, x, y))(seg).dataSync();
  const fd = numericGrad(ref, v);
  for (let i = 0; i < v.length; i++) expect(Math.abs(g[i] - fd[i])).toBeLessThan(1e-5);
}

describe("perClassMaskLoss", () => {
  const f = twoPixelClasses;

  it("matches the hand-computed value", () => {
    // Image 0 = [1, 1] holds classes 0 and 1; image 1 = [2, 4] holds class 1 only.
    // S(0, 0) = [0, 0]          -> mask [1/2, 1/2] -> logits [1, 1], target [1, 0]
    // S(0, 1) = [-ln 3, ln 3]   -> mask [1/4, 3/4] -> logits [1/2, 3/2], target [0, 1]
    // S(1, 1) = [ln 3, -ln 3]   -> mask [3/4, 1/4] on [2, 4] -> logits [3, 2], target [0, 1]
    // (S(1, 0) is an absent class and plays no part.) BCE(z, 1) = softplus(-z), BCE(z, 0) = softplus(z).
    const { seg, x } = handCase();
    const pair00 = (softplus(-1) + softplus(1)) / 2;
    const pair01 = (softplus(0.5) + softplus(-1.5)) / 2;
    const pair11 = (softplus(3) + softplus(-2)) / 2;
    const v = perClassMaskLoss(f, seg, x, [1, 1, 0, 1]).dataSync()[0];
    expect(v).toBeCloseTo((pair00 + pair01 + pair11) / 3, 6);
  });

  it("is lower for masks on their own item than for one shared mask of both items", () => {
    // Items: class 0 in pixel 0, class 1 in pixel 1. Own-item masks keep each class and drop the
    // other; a shared mask keeps both for both classes, so each pair pays the other class's logit.
    const x = tensor(new Float32Array([1, 1]), [1, 1, 1, 2]);
    const own = tensor(new Float32Array([6, -6, -6, 6]), [1, 2, 1, 2]);
    const shared = tensor(new Float32Array([6, 6, 6, 6]), [1, 2, 1, 2]);
    const lOwn = perClassMaskLoss(f, own, x, [1, 1]).dataSync()[0];
    const lShared = perClassMaskLoss(f, shared, x, [1, 1]).dataSync()[0];
    // By hand: own ~ (softplus(-2) + softplus(0)) / 2, shared ~ (softplus(-2) + softplus(2)) / 2.
    expect(lOwn).toBeCloseTo((softplus(-2 * sig(6)) + softplus(2 * sig(-6))) / 2, 6);
    expect(lShared).toBeCloseTo((softplus(-2 * sig(6)) + softplus(2 * sig(6))) / 2, 6);
    expect(lOwn).toBeLessThan(lShared);
  });

  it("has the value and gradient of a float64 reference (central differences)", () => {
    expectMatchesReference(perClassMaskLoss, "keep", 1.7, 0.3);
  });
});

describe("explainerLoss with a per-class weight", () => {
  it("adds l_pc L_pc to the reference total and leaves it alone at the default weight 0", () => {
    const seg = tensor(new Float32Array([0.3, -0.8, 1.2, 0.4, -0.5, 0.9, 0.2, -1.1]), [1, 2, 2, 2]);
    const x = tensor(new Float32Array([0.9, 0.2, 0.4, 0.7]), [1, 1, 2, 2]);
    const g = linear(
      [
        [1, -0.5, 0.3, 0.2],
        [-0.4, 0.8, 0.1, 0.6],
      ],
      [0, 0.1],
    );
    const y = [1, 0];
    const base = explainerLoss(g, seg, x, y);
    expect(EXPLAINER_LOSS_DEFAULTS.perClass).toBe(0);
    expect(base.perClass.dataSync()[0]).toBe(0);
    const withPc = explainerLoss(g, seg, x, y, { perClass: 2 });
    const pc = perClassMaskLoss(g, seg, x, y).dataSync()[0];
    expect(withPc.perClass.dataSync()[0]).toBeCloseTo(pc, 6);
    expect(withPc.total.dataSync()[0]).toBeCloseTo(base.total.dataSync()[0] + 2 * pc, 5);
  });
});

describe("perClassDeletionLoss", () => {
  const f = twoPixelClasses;

  it("matches the hand-computed value", () => {
    // Image 0 = [1, 1] holds classes 0 and 1; image 1 = [2, 4] holds class 1 only.
    // S(0, 0) = [0, 0]         -> 1 - mask [1/2, 1/2]          -> logits [1, 1],     target [0, 1]
    // S(0, 1) = [-ln 3, ln 3]  -> 1 - mask [3/4, 1/4]          -> logits [3/2, 1/2], target [1, 0]
    // S(1, 1) = [ln 3, -ln 3]  -> 1 - mask [1/4, 3/4] on [2, 4] -> logits [1, 6],     target [0, 0]
    // (S(1, 0) is an absent class and plays no part.) BCE(z, 1) = softplus(-z), BCE(z, 0) = softplus(z).
    const { seg, x } = handCase();
    const pair00 = (softplus(1) + softplus(-1)) / 2;
    const pair01 = (softplus(-1.5) + softplus(0.5)) / 2;
    const pair11 = (softplus(1) + softplus(6)) / 2;
    const v = perClassDeletionLoss(f, seg, x, [1, 1, 0, 1]).dataSync()[0];
    expect(v).toBeCloseTo((pair00 + pair01 + pair11) / 3, 6);
  });

  it("prefers masks on their own item to one mask over both items, unlike a mask on the wrong item", () => {
    // Items: class 0 in pixel 0, class 1 in pixel 1. Deleting an own-item mask removes its class
    // and keeps the other; deleting a shared mask removes both, so the other class's target 1 is
    // missed; deleting a swapped mask keeps its own class and removes the other.
    const x = tensor(new Float32Array([1, 1]), [1, 1, 1, 2]);
    const own = tensor(new Float32Array([6, -6, -6, 6]), [1, 2, 1, 2]);
    const shared = tensor(new Float32Array([6, 6, 6, 6]), [1, 2, 1, 2]);
    const swapped = tensor(new Float32Array([-6, 6, 6, -6]), [1, 2, 1, 2]);
    const lo = 2 * (1 - sig(6)); // logit of a deleted pixel's class
    const hi = 2 * (1 - sig(-6)); // logit of a kept pixel's class
    const lOwn = perClassDeletionLoss(f, own, x, [1, 1]).dataSync()[0];
    const lShared = perClassDeletionLoss(f, shared, x, [1, 1]).dataSync()[0];
    const lSwapped = perClassDeletionLoss(f, swapped, x, [1, 1]).dataSync()[0];
    expect(lOwn).toBeCloseTo((softplus(lo) + softplus(-hi)) / 2, 6);
    expect(lShared).toBeCloseTo((softplus(lo) + softplus(-lo)) / 2, 6);
    expect(lSwapped).toBeCloseTo((softplus(hi) + softplus(-lo)) / 2, 6);
    expect(lOwn).toBeLessThan(lShared);
    expect(lShared).toBeLessThan(lSwapped);
  });

  it("has the value and gradient of a float64 reference (central differences)", () => {
    expectMatchesReference(perClassDeletionLoss, "delete", 1.3, 0.7);
  });
});

describe("explainerLoss with a per-class deletion weight", () => {
  it("adds l_pd L_pd to the total and leaves it alone at the default weight 0", () => {
    const seg = tensor(new Float32Array([0.3, -0.8, 1.2, 0.4, -0.5, 0.9, 0.2, -1.1]), [1, 2, 2, 2]);
    const x = tensor(new Float32Array([0.9, 0.2, 0.4, 0.7]), [1, 1, 2, 2]);
    const g = linear(
      [
        [1, -0.5, 0.3, 0.2],
        [-0.4, 0.8, 0.1, 0.6],
      ],
      [0, 0.1],
    );
    const y = [1, 0];
    const base = explainerLoss(g, seg, x, y);
    expect(EXPLAINER_LOSS_DEFAULTS.perClassDelete).toBe(0);
    expect(base.perClassDelete.dataSync()[0]).toBe(0);
    const both = explainerLoss(g, seg, x, y, { perClass: 0.5, perClassDelete: 3 });
    const pd = perClassDeletionLoss(g, seg, x, y).dataSync()[0];
    const pc = perClassMaskLoss(g, seg, x, y).dataSync()[0];
    expect(both.perClassDelete.dataSync()[0]).toBeCloseTo(pd, 6);
    expect(both.total.dataSync()[0]).toBeCloseTo(base.total.dataSync()[0] + 0.5 * pc + 3 * pd, 5);
  });
});

for (const loss of [perClassMaskLoss, perClassDeletionLoss]) {
  it(`${loss.name} is zero without present classes and rejects bad input`, () => {
    const f = twoPixelClasses;
    const x = tensor(new Float32Array([1, 1]), [1, 1, 1, 2]);
    const seg = tensor(new Float32Array([1, 2, 3, 4]), [1, 2, 1, 2]);
    expect(loss(f, seg, x, [0, 0]).dataSync()[0]).toBe(0);
    expect(() => loss(f, seg, x, [1])).toThrow(/B x C = 2/);
    expect(() => loss(f, seg, x, [1, 0.5])).toThrow(/0 or 1, got 0.5/);
    expect(() => loss(f, seg, tensor(new Float32Array(3), [1, 1, 1, 3]), [1, 0])).toThrow(
      /does not match mask logits/,
    );
    expect(() => loss(linear([[1, 1]], [0]), seg, x, [1, 0])).toThrow(
      /classifier gave \[1,1\], expected \[1, 2\]/,
    );
  });
}
