/** MGGD fit and KL against closed forms, independent quadratures and Monte Carlo. */
import { describe, expect, test } from "vitest";
import { logGamma } from "../../src/attribution/sr/gamma.ts";
import {
  type Mggd,
  mggdKl,
  mggdLogDensity,
  mggdLogDensityOf,
  sampleMggd,
} from "../../src/attribution/sr/mggd.ts";
import { fitMggd } from "../../src/attribution/sr/mggd-fit.ts";
import { sphereQuadraticMoment } from "../../src/attribution/sr/mggd-moment.ts";
import { ggdKl } from "../../src/attribution/sr/srga.ts";
import { Random } from "../../src/random.ts";

const SIGMA3 = [
  [2, 0.6, -0.3],
  [0.6, 1, 0.2],
  [-0.3, 0.2, 0.5],
];

/** det and inverse of a 3x3 matrix by cofactors (independent of the library's eigen solver). */
function inv3(m: number[][]): { det: number; inv: number[][] } {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  const inv = [
    [A, -(b * i - c * h), b * f - c * e],
    [B, a * i - c * g, -(a * f - c * d)],
    [C, -(a * h - b * g), a * e - b * d],
  ].map((r) => r.map((v) => v / det));
  return { det, inv };
}

describe("sphere moment E[(u^T L u)^s]", () => {
  test("p = 2: matches the angle integral (1/2pi) int (l1 cos^2 + l2 sin^2)^s", () => {
    for (const [l1, l2, s] of [
      [3, 0.5, 1.5],
      [1, 1e-3, 0.3],
      [2, 5, 2.7],
    ]) {
      const n = 20000;
      let sum = 0;
      for (let k = 0; k < n; k++) {
        const t = (2 * Math.PI * k) / n;
        sum += (l1 * Math.cos(t) ** 2 + l2 * Math.sin(t) ** 2) ** s;
      }
      expect(sphereQuadraticMoment([l1, l2], s) / (sum / n)).toBeCloseTo(1, 7);
    }
  });

  test("p = 3: matches a quadrature over the sphere (z = cos theta uniform, phi uniform)", () => {
    const l = [2.5, 0.4, 1.1];
    for (const s of [0.7, 2.3]) {
      const nz = 2000;
      const nf = 256;
      let sum = 0;
      for (let a = 0; a < nz; a++) {
        const z = -1 + (2 * (a + 0.5)) / nz;
        for (let b = 0; b < nf; b++) {
          const f = (2 * Math.PI * b) / nf;
          const r2 = 1 - z * z;
          sum += (l[0] * r2 * Math.cos(f) ** 2 + l[1] * r2 * Math.sin(f) ** 2 + l[2] * z * z) ** s;
        }
      }
      expect(sphereQuadraticMoment(l, s) / (sum / (nz * nf))).toBeCloseTo(1, 5);
    }
  });

  test("integer powers and equal eigenvalues have their closed forms", () => {
    const l = [0.3, 1.2, 2, 4.5];
    const p = l.length;
    const s1 = l.reduce((a, b) => a + b, 0);
    const s2 = l.reduce((a, b) => a + b * b, 0);
    expect(sphereQuadraticMoment(l, 1)).toBeCloseTo(s1 / p, 12);
    // Dirichlet(1/2) moments: E[D_i^2] = 3/(p(p+2)), E[D_i D_j] = 1/(p(p+2))
    expect(sphereQuadraticMoment(l, 2)).toBeCloseTo((2 * s2 + s1 * s1) / (p * (p + 2)), 12);
    expect(sphereQuadraticMoment([1.7, 1.7, 1.7], 0.45)).toBeCloseTo(1.7 ** 0.45, 12);
    // the integral path is continuous with the closed form at s = 1
    expect(sphereQuadraticMoment(l, 1 + 1e-7)).toBeCloseTo(s1 / p, 5);
    expect(sphereQuadraticMoment(l, 1 - 1e-7)).toBeCloseTo(s1 / p, 5);
  });

  test("bad input names what was wrong", () => {
    expect(() => sphereQuadraticMoment([1, -2], 1)).toThrow(/eigenvalues must be positive/);
    expect(() => sphereQuadraticMoment([1, 2], 0)).toThrow(/power must be a positive number/);
  });
});

describe("MGGD density and sampler", () => {
  test("beta = 1 is the Gaussian density", () => {
    const { det, inv } = inv3(SIGMA3);
    const x = [0.3, -1.2, 0.8];
    let q = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) q += x[i] * inv[i][j] * x[j];
    const gauss = -1.5 * Math.log(2 * Math.PI) - 0.5 * Math.log(det) - q / 2;
    expect(mggdLogDensity({ scatter: SIGMA3, beta: 1 }, x)).toBeCloseTo(gauss, 12);
  });

  test("the sampler's second moment is Sigma E[R^2]/p, E[R^2] = 2^(1/b) G(p/2b + 1/b)/G(p/2b)", () => {
    for (const beta of [0.5, 2.5]) {
      const xs = sampleMggd({ scatter: SIGMA3, beta }, 100000, new Random(7));
      const k = 3 / (2 * beta);
      const r2 = Math.exp(Math.LN2 / beta + logGamma(k + 1 / beta) - logGamma(k));
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) {
          const m = xs.reduce((a, x) => a + x[i] * x[j], 0) / xs.length;
          expect(Math.abs(m - (SIGMA3[i][j] * r2) / 3)).toBeLessThan(0.03 * r2);
        }
    }
  });
});

describe("MGGD KL divergence", () => {
  test("KL(p || p) = 0", () => {
    const p = { scatter: SIGMA3, beta: 0.7 };
    expect(mggdKl(p, p)).toBeCloseTo(0, 12);
  });

  test("beta = 1 on both sides: the Gaussian KL, computed here by cofactors", () => {
    const sq = [
      [1, 0.2, 0],
      [0.2, 1.5, 0.4],
      [0, 0.4, 0.9],
    ];
    const { det: dp } = inv3(SIGMA3);
    const { det: dq, inv } = inv3(sq);
    let tr = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) tr += inv[i][j] * SIGMA3[j][i];
    const gauss = 0.5 * (tr - 3 + Math.log(dq / dp));
    expect(mggdKl({ scatter: SIGMA3, beta: 1 }, { scatter: sq, beta: 1 })).toBeCloseTo(gauss, 10);
  });

  test("dimension 1 equals the univariate generalised-Gaussian KL (shape 2 beta)", () => {
    // exp(-(x^2/s)^b / 2) = exp(-(|x|/alpha)^(2b)) with alpha = 2^(1/(2b)) sqrt(s)
    const ggd = (s: number, b: number) => ({
      alpha: 2 ** (1 / (2 * b)) * Math.sqrt(s),
      beta: 2 * b,
    });
    const kl = mggdKl({ scatter: [[0.7]], beta: 0.6 }, { scatter: [[2.1]], beta: 1.4 });
    expect(kl).toBeCloseTo(ggdKl(ggd(0.7, 0.6), ggd(2.1, 1.4)), 10);
  });

  /** Monte-Carlo estimate of KL(p || q): the mean of log p - log q over samples of p. */
  const monteCarloKl = (p: Mggd, q: Mggd, n: number, seed: number) => {
    const xs = sampleMggd(p, n, new Random(seed));
    const [lp, lq] = [mggdLogDensityOf(p), mggdLogDensityOf(q)];
    const v = xs.map((x) => lp(x) - lq(x));
    const m = v.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
    return { m, se: sd / Math.sqrt(n) };
  };

  test("Sigma_q = k Sigma_p with other shapes: agrees with Monte Carlo within 4 standard errors", () => {
    const p = { scatter: SIGMA3, beta: 0.6 };
    const q = { scatter: SIGMA3.map((r) => r.map((v) => 2.5 * v)), beta: 1.7 };
    const mc = monteCarloKl(p, q, 40000, 11);
    expect(Math.abs(mggdKl(p, q) - mc.m)).toBeLessThan(4 * mc.se + 1e-3);
  });

  test("general scatters and non-integer beta_q (the integral path): agrees with Monte Carlo", () => {
    const p = { scatter: SIGMA3, beta: 1.8 };
    const q = {
      scatter: [
        [1, 0.2, 0],
        [0.2, 1.5, 0.4],
        [0, 0.4, 0.9],
      ],
      beta: 0.45,
    };
    const mc = monteCarloKl(p, q, 40000, 12);
    expect(Math.abs(mggdKl(p, q) - mc.m)).toBeLessThan(4 * mc.se + 1e-3);
    expect(mggdKl(p, q)).toBeGreaterThan(0);
  });
});

describe("MGGD maximum-likelihood fit", () => {
  test("recovers beta and Sigma from samples of a known MGGD", () => {
    for (const beta of [0.5, 1, 2.5]) {
      const xs = sampleMggd({ scatter: SIGMA3, beta }, 5000, new Random(3));
      const fit = fitMggd(xs);
      expect(Math.abs(fit.beta - beta) / beta).toBeLessThan(0.05);
      let err = 0;
      let norm = 0;
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) {
          err += (fit.scatter[i][j] - SIGMA3[i][j]) ** 2;
          norm += SIGMA3[i][j] ** 2;
        }
      expect(Math.sqrt(err / norm)).toBeLessThan(0.05);
    }
  });

  test("too few samples and a singular scatter are refused by name", () => {
    expect(() =>
      fitMggd([
        [1, 2, 3],
        [2, 1, 0],
        [0, 1, 1],
      ]),
    ).toThrow(/more samples than dimensions/);
    const flat = Array.from({ length: 50 }, (_, i) => [
      i % 7,
      (i * 3) % 5,
      (i % 7) + ((i * 3) % 5),
    ]);
    expect(() => fitMggd(flat)).toThrow(/scatter is singular/);
  });
});
