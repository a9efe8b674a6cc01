/** SRGA: the floor value, the generalised-Gaussian fit and its KL against independent checks. */
import { describe, expect, test } from "vitest";
import { fitGgd, ggdKl, logGamma, srga } from "../../src/attribution/sr/srga.ts";
import { Random } from "../../src/random.ts";

const vectors = (n: number, d: number, seed: number, spread = 1) => {
  const rng = new Random(seed);
  return Array.from({ length: n }, () =>
    Float64Array.from({ length: d }, (_, j) => spread * (1 + j) * rng.normal()),
  );
};

describe("SRGA", () => {
  test("two identical feature sets give the floor value log10(1e-5) + 5 = 0", () => {
    const a = vectors(50, 6, 1);
    const r = srga(
      a,
      a.map((v) => v.slice()),
      4,
    );
    expect(r.kl).toBeCloseTo(0, 10);
    expect(r.srga).toBeCloseTo(0, 6);
  });

  test("a wider test set scores above the floor, more so the wider it is", () => {
    const ref = vectors(400, 5, 2);
    const near = srga(vectors(400, 5, 3), ref, 3).srga;
    const far = srga(vectors(400, 5, 4, 3), ref, 3).srga;
    expect(far).toBeGreaterThan(near);
    expect(far).toBeGreaterThan(0);
  });

  test("logGamma matches known values", () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
  });

  test("the shape fit finds 2 for Gaussian and 1 for Laplacian samples", () => {
    const rng = new Random(5);
    const g = Float64Array.from({ length: 200000 }, () => 1.5 * rng.normal());
    const fg = fitGgd(g);
    expect(fg.beta).toBeCloseTo(2, 1);
    expect(fg.alpha).toBeCloseTo(1.5 * Math.SQRT2, 1); // alpha = sigma sqrt(2) for beta 2
    const l = Float64Array.from({ length: 200000 }, () => {
      const u = rng.uniform() - 0.5;
      return -0.7 * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
    });
    const fl = fitGgd(l);
    expect(fl.beta).toBeCloseTo(1, 1);
    expect(fl.alpha).toBeCloseTo(0.7, 1);
  });

  test("the closed-form KL matches numerical integration, and Gaussians' known formula", () => {
    const p = { alpha: 0.8, beta: 1.3 };
    const q = { alpha: 1.4, beta: 2.5 };
    const dens = (g: { alpha: number; beta: number }, x: number) =>
      (g.beta / (2 * g.alpha * Math.exp(logGamma(1 / g.beta)))) *
      Math.exp(-((Math.abs(x) / g.alpha) ** g.beta));
    let kl = 0;
    const h = 1e-3;
    for (let x = -15; x <= 15; x += h) {
      const a = dens(p, x);
      if (a > 0) kl += a * Math.log(a / dens(q, x)) * h;
    }
    expect(ggdKl(p, q)).toBeCloseTo(kl, 5);
    // beta 2: N(0, s^2) with alpha = s sqrt 2; KL = log(s2/s1) + s1^2/(2 s2^2) - 1/2
    const [s1, s2] = [1, 2];
    expect(
      ggdKl({ alpha: s1 * Math.SQRT2, beta: 2 }, { alpha: s2 * Math.SQRT2, beta: 2 }),
    ).toBeCloseTo(Math.log(s2 / s1) + s1 ** 2 / (2 * s2 ** 2) - 0.5, 10);
  });

  test("Gaussian sets: the multivariate KL approaches the Gaussian closed form d/2 (c^2 - 1 - ln c^2)", () => {
    // test ~ N(0, c^2 S), reference ~ N(0, S): KL = (d/2)(c^2 - 1 - ln c^2) whatever S is
    const rng = new Random(9);
    const mix = [
      [1, 0.5, 0],
      [0, 1, -0.4],
      [0.3, 0, 1],
    ];
    const draw = (n: number, c: number) =>
      Array.from({ length: n }, () => {
        const z = [rng.normal(), rng.normal(), rng.normal()];
        return Float64Array.from(mix, (row) => c * row.reduce((s, m, j) => s + m * z[j], 0));
      });
    const c = 1.5;
    const r = srga(draw(6000, c), draw(6000, 1), 3);
    expect(r.model).toBe("mggd");
    expect(r.components).toBe(3);
    const exact = 1.5 * (c * c - 1 - Math.log(c * c));
    expect(Math.abs(r.kl - exact) / exact).toBeLessThan(0.08);
    if (r.model === "mggd") {
      expect(r.test.beta).toBeCloseTo(1, 1);
      expect(r.reference.beta).toBeCloseTo(1, 1);
    }
  });

  test("the per-component model remains available and agrees for independent components", () => {
    const ref = vectors(4000, 3, 21);
    const wide = vectors(4000, 3, 22, 2);
    const multi = srga(wide, ref, 3);
    const per = srga(wide, ref, 3, "per-component");
    expect(per.model).toBe("per-component");
    // independent Gaussian components, each 2x wider: 3 (4 - 1 - ln 4)/2 nats in both models
    const exact = 1.5 * (4 - 1 - Math.log(4));
    expect(Math.abs(per.kl - exact) / exact).toBeLessThan(0.08);
    expect(Math.abs(multi.kl - exact) / exact).toBeLessThan(0.08);
  });

  test("the multivariate fit refuses sets with no more vectors than components", () => {
    expect(() => srga(vectors(3, 5, 1), vectors(40, 5, 2), 4)).toThrow(
      /needs more test vectors than components \(3 vectors, 4 components\)/,
    );
  });

  test("bad input names what was wrong", () => {
    expect(() => srga([[1, 2]], vectors(3, 2, 1))).toThrow(/at least 2 feature vectors/);
    expect(() => srga([[1, 2], [3]], vectors(3, 2, 1))).toThrow(
      /test vector 1 has 1 values, expected 2/,
    );
  });
});
