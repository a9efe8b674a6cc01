/** PCA and exact t-SNE for DDR, against properties known in advance. */
import { describe, expect, test } from "vitest";
import { pca, projectRows } from "../../src/attribution/sr/srga.ts";
import {
  conditionalProbabilities,
  nearestNeighbourAgreement,
  squaredDistances,
  trustworthiness,
  tsne,
} from "../../src/attribution/sr/tsne.ts";
import { Random } from "../../src/random.ts";

describe("PCA", () => {
  test("recovers the axes of data stretched along known orthogonal directions", () => {
    const rng = new Random(3);
    const s = Math.SQRT1_2;
    const u = [s, s, 0];
    const v = [0, 0, 1];
    const w = [s, -s, 0];
    const rows = Array.from({ length: 2000 }, () => {
      const [a, b, c] = [5 * rng.normal(), 2 * rng.normal(), 0.2 * rng.normal()];
      return Float64Array.from([0, 1, 2], (j) => 10 + a * u[j] + b * v[j] + c * w[j]);
    });
    const { mean, axes } = pca(rows, 2);
    expect(mean[0]).toBeCloseTo(10, 0);
    const dot = (a: ArrayLike<number>, b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    expect(Math.abs(dot(axes[0], u))).toBeGreaterThan(0.999);
    expect(Math.abs(dot(axes[1], v))).toBeGreaterThan(0.999);
    const proj = projectRows(rows, mean, axes);
    const variance = (k: number) => proj.reduce((t, p) => t + p[k] ** 2, 0) / proj.length;
    expect(Math.sqrt(variance(0))).toBeCloseTo(5, 0);
    expect(Math.sqrt(variance(1))).toBeCloseTo(2, 0);
  });
});

describe("t-SNE", () => {
  const rng = new Random(7);
  const cluster = (centre: number, n: number) =>
    Array.from({ length: n }, () => Float64Array.from({ length: 10 }, () => centre + rng.normal()));
  const rows = [...cluster(0, 30), ...cluster(12, 30)];
  const labels = rows.map((_, i) => (i < 30 ? "a" : "b"));

  test("each row's conditional distribution has entropy log(perplexity)", () => {
    const n = rows.length;
    const p = conditionalProbabilities(squaredDistances(rows), n, 10);
    for (let i = 0; i < n; i++) {
      let h = 0;
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const q = p[i * n + j];
        sum += q;
        if (q > 0) h -= q * Math.log(q);
      }
      expect(sum).toBeCloseTo(1, 10);
      expect(p[i * n + i]).toBe(0);
      expect(h).toBeCloseTo(Math.log(10), 4);
    }
  });

  test("two well-separated Gaussian clusters stay apart and neighbourhoods are kept", () => {
    const y = tsne(rows, { perplexity: 10, iterations: 500, seed: 1 });
    expect(nearestNeighbourAgreement(y, labels)).toBe(1);
    // every point is nearer its own cluster's centroid than the other's
    const centroid = (l: string) => {
      const pts = y.filter((_, i) => labels[i] === l);
      return [0, 1].map((k) => pts.reduce((s, p) => s + p[k], 0) / pts.length);
    };
    const ca = centroid("a");
    const cb = centroid("b");
    const d = (p: number[], c: number[]) => Math.hypot(p[0] - c[0], p[1] - c[1]);
    y.forEach((p, i) => {
      const [own, other] = labels[i] === "a" ? [ca, cb] : [cb, ca];
      expect(d(p, own)).toBeLessThan(d(p, other));
    });
    expect(trustworthiness(rows, y, 5)).toBeGreaterThan(0.85);
    // deterministic for a seed
    expect(tsne(rows, { perplexity: 10, iterations: 50, seed: 1 })).toEqual(
      tsne(rows, { perplexity: 10, iterations: 50, seed: 1 }),
    );
  });

  test("trustworthiness is 1 for an isometric copy and lower for a shuffled one", () => {
    const pts = Array.from({ length: 20 }, (_, i) => [i, (i * i) % 7]);
    expect(
      trustworthiness(
        pts,
        pts.map(([a, b]) => [2 * a + 1, 2 * b - 3]),
        3,
      ),
    ).toBeCloseTo(1, 12);
    const shuffled = pts.map((_, i) => pts[(i * 7) % 20]);
    expect(trustworthiness(pts, shuffled, 3)).toBeLessThan(0.9);
  });

  test("bad perplexity names the valid range", () => {
    expect(() => conditionalProbabilities(squaredDistances(rows), rows.length, 100)).toThrow(
      /perplexity must be in \(1, 60\)/,
    );
  });
});
