/** Quantus complexity and localisation metrics on maps with closed-form answers. */
import { describe, expect, test } from "vitest";
import {
  attributionLocalisation,
  complexity,
  effectiveComplexity,
  localisationAuc,
  relevanceMassAccuracy,
  relevanceRankAccuracy,
  sparseness,
  topKIntersection,
} from "../../src/attribution/index.ts";

describe("sparseness (Gini of |a| + 1e-7)", () => {
  test("one-hot map of n values: (n - 1) / (n (1 + n e)) with e = 1e-7", () => {
    for (const n of [4, 10, 100]) {
      const a = new Array(n).fill(0);
      a[n >> 1] = 1;
      expect(sparseness(a)).toBeCloseTo((n - 1) / (n * (1 + n * 1e-7)), 12);
    }
  });
  test("a constant map is 0; [1, 2, 3, 4] is 10 / (4 (10 + 4e)); sign does not matter", () => {
    expect(sparseness(new Array(50).fill(-0.3))).toBeCloseTo(0, 12);
    expect(sparseness([3, -1, 4, 2])).toBeCloseTo(10 / (4 * (10 + 4e-7)), 12);
  });
  test("a non-finite map is refused", () => {
    expect(() => sparseness([1, Number.NaN])).toThrow(/NaN at index 1/);
  });
});

describe("complexity (entropy of |a| / sum |a|)", () => {
  test("uniform map: log n; one-hot: 0; [1, -1, 2]: 1.5 log 2", () => {
    expect(complexity(new Array(37).fill(2))).toBeCloseTo(Math.log(37), 12);
    expect(complexity([0, 0, 5, 0])).toBe(0);
    expect(complexity([1, -1, 2])).toBeCloseTo(1.5 * Math.log(2), 12);
  });
});

describe("effective complexity (|a| / max |a| > eps)", () => {
  test("normalisation decides which small values count", () => {
    const a = [8e-5, 4, 0, -2];
    // Normalised: [2e-5, 1, 0, 0.5]; raw: [8e-5, 4, 0, 2].
    expect(effectiveComplexity(a, { eps: 5e-5 })).toBe(2);
    expect(effectiveComplexity(a, { eps: 5e-5, normalise: false })).toBe(3);
    expect(effectiveComplexity(a)).toBe(3);
    expect(effectiveComplexity([0, 0])).toBe(0);
  });
});

describe("localisation against a mask", () => {
  const mask = [1, 0, 0, 1, 1, 0];
  test("a map entirely inside the mask has relevance mass 1 and attribution localisation 1", () => {
    const inside = [3, 0, 0, 1, 2, 0];
    expect(relevanceMassAccuracy(inside, mask)).toBe(1);
    expect(attributionLocalisation(inside, mask)).toBe(1);
  });
  test("shares of mass: [1..6] inside {0, 3, 4} is 10 / 21; weighted by the mask share 1/2", () => {
    const a = [1, 2, 3, 4, 5, 6];
    expect(relevanceMassAccuracy(a, mask)).toBeCloseTo(10 / 21, 12);
    expect(attributionLocalisation(a, mask, { weighted: true })).toBeCloseTo(10 / 21 / 2, 12);
    // Attribution localisation takes |a| by default; relevance mass uses signed values.
    const signed = [-1, 2, 3, 4, 5, -6];
    expect(attributionLocalisation(signed, mask)).toBeCloseTo(10 / 21, 12);
    expect(relevanceMassAccuracy(signed, mask)).toBeCloseTo(8 / 7, 12);
  });
  test("top-k intersection and rank accuracy count the top values inside", () => {
    const a = [5, 1, 4, 2, 3, 0];
    // Top 3 are indices 0, 2, 4: two inside.
    expect(topKIntersection(a, mask, { k: 3 })).toBeCloseTo(2 / 3, 12);
    expect(topKIntersection(a, mask, { k: 3, conceptInfluence: true })).toBeCloseTo(4 / 3, 12);
    expect(topKIntersection(a, mask, { k: 1 })).toBe(1);
    expect(relevanceRankAccuracy(a, mask)).toBeCloseTo(2 / 3, 12);
    expect(() => topKIntersection(a, mask)).toThrow(/k must be an integer in \[1, 6\]/);
  });
  test("AUC: perfect 1, reversed 0, constant 1/2, sklearn's example 0.75", () => {
    expect(localisationAuc([9, 0, 1, 8, 7, 2], mask)).toBe(1);
    expect(localisationAuc([0, 9, 8, 1, 2, 7], mask)).toBe(0);
    expect(localisationAuc([1, 1, 1, 1, 1, 1], mask)).toBe(0.5);
    expect(localisationAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
  });
  test("an empty mask gives NaN; mismatched sizes are refused", () => {
    expect(relevanceMassAccuracy([1, 2], [0, 0])).toBeNaN();
    expect(() => localisationAuc([1, 2, 3], [1, 0])).toThrow(/3 values but the mask has 2/);
  });
});
