import { describe, expect, test } from "vitest";
import { gaussLegendre, QUADRATURE_RULES, quadrature } from "../../src/attribution/index.ts";

describe("quadrature rules on [0, 1]", () => {
  test("every rule's weights sum to 1 at every n (unlike Captum's trapezoid, (n - 1)/n)", () => {
    for (const rule of QUADRATURE_RULES) {
      for (const n of [2, 3, 7, 50]) {
        const q = quadrature(rule, n);
        const total = q.weights.reduce((a, b) => a + b, 0);
        expect(Math.abs(total - 1)).toBeLessThan(1e-13);
        expect(q.nodes.every((t) => t >= 0 && t <= 1)).toBe(true);
      }
    }
  });

  test("Riemann nodes are k/n, (k+1)/n, (k+1/2)/n; the trapezoid is linspace with halved ends", () => {
    expect(Array.from(quadrature("riemann-left", 4).nodes)).toEqual([0, 0.25, 0.5, 0.75]);
    expect(Array.from(quadrature("riemann-right", 4).nodes)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(Array.from(quadrature("riemann-middle", 4).nodes)).toEqual([0.125, 0.375, 0.625, 0.875]);
    const t = quadrature("riemann-trapezoid", 5);
    expect(Array.from(t.nodes)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(Array.from(t.weights)).toEqual([0.125, 0.25, 0.25, 0.25, 0.125]);
    const l = quadrature("linspace", 3);
    expect(Array.from(l.nodes)).toEqual([0, 0.5, 1]);
    expect(Array.from(l.weights).map((w) => w * 3)).toEqual([1, 1, 1]);
  });

  test("Gauss-Legendre: the 2-point rule is +-1/sqrt(3), and n points integrate t^k exactly for k < 2n", () => {
    const g2 = gaussLegendre(2);
    expect(g2.nodes[0]).toBeCloseTo(-1 / Math.sqrt(3), 15);
    expect(g2.nodes[1]).toBeCloseTo(1 / Math.sqrt(3), 15);
    expect(g2.weights[0]).toBeCloseTo(1, 15);
    const g3 = gaussLegendre(3);
    expect(g3.nodes[1]).toBe(0);
    expect(g3.weights[1]).toBeCloseTo(8 / 9, 14);
    expect(g3.nodes[2]).toBeCloseTo(Math.sqrt(3 / 5), 14);
    for (const n of [1, 4, 9, 20]) {
      const q = quadrature("gausslegendre", n);
      for (let k = 0; k < 2 * n; k++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += q.weights[i] * q.nodes[i] ** k;
        expect(Math.abs(s - 1 / (k + 1))).toBeLessThan(1e-13);
      }
    }
    // Degree 2n is no longer exact (error (n!)^4 / ((2n+1) ((2n)!)^2 4^n (2n)!) ... on [0, 1]):
    // for n = 2, sum w t^4 = 7/36 against 1/5.
    const q2 = quadrature("gausslegendre", 2);
    const s4 = q2.weights[0] * q2.nodes[0] ** 4 + q2.weights[1] * q2.nodes[1] ** 4;
    expect(s4).toBeCloseTo(7 / 36, 14);
  });

  test("bad arguments name the problem", () => {
    expect(() => quadrature("riemann-trapezoid", 1)).toThrow(/at least 2/);
    expect(() => quadrature("gausslegendre", 0)).toThrow(/positive integer/);
    expect(() => quadrature("simpson" as never, 4)).toThrow(/unknown rule "simpson"/);
  });
});
