/**
 * The zero-mean multivariate generalised Gaussian (MGGD) of SRGA (Liu et al. 2023), in the
 * parameterisation of Pascal et al. 2013 with the scale folded into the scatter:
 *
 *   f(x) = C(beta, p) |Sigma|^(-1/2) exp(-(x^T Sigma^-1 x)^beta / 2),
 *   C(beta, p) = beta Gamma(p/2) / (pi^(p/2) Gamma(p/(2 beta)) 2^(p/(2 beta))).
 *
 * beta = 1 is the Gaussian N(0, Sigma); beta < 1 has heavier tails, beta > 1 lighter. With
 * x = R Sigma^(1/2) u (u uniform on the unit sphere), R^(2 beta) ~ Gamma(shape p/(2 beta), scale 2).
 */
import type { Random } from "../../random.ts";
import { logGamma } from "./gamma.ts";
import { generalisedEigenvalues, symmetricEigen } from "./mggd-linalg.ts";
import { sphereQuadraticMoment } from "./mggd-moment.ts";

export interface Mggd {
  /** Scatter matrix Sigma (p x p, symmetric positive definite); the covariance is a multiple of it. */
  scatter: number[][];
  /** Shape beta > 0. */
  beta: number;
}

/** log C(beta, p), the normalising constant without the |Sigma|^(-1/2). */
export function mggdLogConstant(beta: number, p: number): number {
  return (
    Math.log(beta) +
    logGamma(p / 2) -
    (p / 2) * Math.log(Math.PI) -
    logGamma(p / (2 * beta)) -
    (p / (2 * beta)) * Math.LN2
  );
}

/** The log density of `g` as a function (the scatter is decomposed once). */
export function mggdLogDensityOf(g: Mggd): (x: ArrayLike<number>) => number {
  const p = g.scatter.length;
  const { values, vectors } = symmetricEigen(g.scatter);
  if (!(Math.min(...values) > 0))
    throw new Error("mggdLogDensity: the scatter is not positive definite");
  const logDet = values.reduce((a, v) => a + Math.log(v), 0);
  const c = mggdLogConstant(g.beta, p) - logDet / 2;
  return (x) => {
    if (x.length !== p) throw new Error(`mggdLogDensity: x has ${x.length} values, expected ${p}`);
    let q = 0;
    for (let k = 0; k < p; k++) {
      let proj = 0;
      for (let i = 0; i < p; i++) proj += vectors[k][i] * x[i];
      q += (proj * proj) / values[k];
    }
    return c - q ** g.beta / 2;
  };
}

/** log density of `x` under `g`. */
export function mggdLogDensity(g: Mggd, x: ArrayLike<number>): number {
  return mggdLogDensityOf(g)(x);
}

/** A Gamma(shape, scale 1) variate (Marsaglia & Tsang; shape < 1 by the boost u^(1/shape)). */
function gammaVariate(shape: number, rng: Random): number {
  if (shape < 1) return gammaVariate(shape + 1, rng) * rng.uniform() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = rng.normal();
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    const u = rng.uniform();
    if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** `n` samples of `g`: x = R Sigma^(1/2) u with R^(2 beta) ~ Gamma(p/(2 beta), scale 2). */
export function sampleMggd(g: Mggd, n: number, rng: Random): Float64Array[] {
  const p = g.scatter.length;
  const { values, vectors } = symmetricEigen(g.scatter);
  if (Math.min(...values) <= 0) throw new Error("sampleMggd: the scatter is not positive definite");
  return Array.from({ length: n }, () => {
    const z = Float64Array.from({ length: p }, () => rng.normal());
    const norm = Math.hypot(...z);
    const r = (2 * gammaVariate(p / (2 * g.beta), rng)) ** (1 / (2 * g.beta));
    // Sigma^(1/2) u = sum_k sqrt(value_k) (v_k . u) v_k
    const x = new Float64Array(p);
    for (let k = 0; k < p; k++) {
      let proj = 0;
      for (let i = 0; i < p; i++) proj += vectors[k][i] * z[i];
      const a = (r * Math.sqrt(values[k]) * proj) / norm;
      for (let i = 0; i < p; i++) x[i] += a * vectors[k][i];
    }
    return x;
  });
}

/**
 * KL(p || q) in nats between two zero-mean MGGDs of the same dimension d:
 *
 *   log C(beta_p) - log C(beta_q) - (log|Sigma_p| - log|Sigma_q|)/2 - d/(2 beta_p)
 *     + E_p[(x^T Sigma_q^-1 x)^beta_q] / 2,
 *
 * where E_p[(x^T Sigma_q^-1 x)^beta_q] = E[R^(2 beta_q)] E[(u^T L u)^beta_q] with L the
 * eigenvalues of Sigma_q^-1 Sigma_p, E[R^(2 beta_q)] = 2^s Gamma(d/(2 beta_p) + s) /
 * Gamma(d/(2 beta_p)), s = beta_q / beta_p (Bouhlel & Dziri 2019). The sphere moment is in closed
 * form when beta_q is an integer (beta_q = 1: trace(L)/d) or Sigma_p is a multiple of Sigma_q, and
 * a converged one-dimensional integral otherwise (see sphereQuadraticMoment).
 */
export function mggdKl(p: Mggd, q: Mggd): number {
  const d = p.scatter.length;
  if (q.scatter.length !== d)
    throw new Error(`mggdKl: dimensions differ (${d} and ${q.scatter.length})`);
  for (const [name, g] of [
    ["p", p],
    ["q", q],
  ] as const)
    if (!(g.beta > 0)) throw new Error(`mggdKl: ${name}.beta must be positive, got ${g.beta}`);
  const { values, logDetP, logDetQ } = generalisedEigenvalues(p.scatter, q.scatter);
  const s = q.beta / p.beta;
  const k = d / (2 * p.beta);
  const radial = Math.exp(s * Math.LN2 + logGamma(k + s) - logGamma(k));
  return (
    mggdLogConstant(p.beta, d) -
    mggdLogConstant(q.beta, d) -
    (logDetP - logDetQ) / 2 -
    k +
    (radial * sphereQuadraticMoment(values, q.beta)) / 2
  );
}
