/**
 * E[(u^T diag(lambda) u)^s] for u uniform on the unit sphere of R^p, the hard part of the KL
 * divergence between two multivariate generalised Gaussians (Bouhlel & Dziri 2019 write it as
 * lambda_max^s times a Lauricella F_D^(p-1)(-s; 1/2, ..., 1/2; p/2; 1 - lambda_i / lambda_max)).
 *
 * Computed through a Gaussian vector g ~ N(0, I_p): |g| and g/|g| are independent, so with
 * Y = sum_i lambda_i g_i^2,  E[(u^T L u)^s] = E[Y^s] / E[(chi2_p)^s],  E[chi2_p^s] =
 * 2^s Gamma(p/2 + s) / Gamma(p/2). E[Y^s] comes from the Laplace transform
 * phi(t) = E[e^(-tY)] = prod_i (1 + 2 t lambda_i)^(-1/2):
 *  - all lambda equal: lambda^s (closed form);
 *  - s an integer n: E[Y^n] = (-1)^n phi^(n)(0), exact, from the cumulants (closed form);
 *  - otherwise, s = n + f with 0 < f < 1: E[Y^s] = f / Gamma(1 - f) *
 *    int_0^inf (m_n(0) - m_n(t)) t^(-f-1) dt with m_n(t) = E[Y^n e^(-tY)] = (-1)^n phi^(n)(t),
 *    a one-dimensional integral evaluated by the trapezoid rule in log t (the integrand is
 *    smooth and decays exponentially at both ends there; the two tails beyond the grid are
 *    added in closed form), converged to about 1e-8 relative.
 */
import { logGamma } from "./gamma.ts";

/** m_0..m_n at t: m_k(t) = E[Y^k e^(-tY)] for Y = sum lambda_i g_i^2 (all non-negative). */
function tiltedMoments(lambda: readonly number[], n: number, t: number): number[] {
  // kappa_j(t) = (-1)^j (log phi)^(j)(t) = (j-1)!/2 sum (2 lambda / (1 + 2 t lambda))^j
  const kappa = [0];
  let fact = 1;
  for (let j = 1; j <= n; j++) {
    if (j > 1) fact *= j - 1;
    let s = 0;
    for (const l of lambda) s += ((2 * l) / (1 + 2 * t * l)) ** j;
    kappa.push(0.5 * fact * s);
  }
  let logPhi = 0;
  for (const l of lambda) logPhi -= 0.5 * Math.log1p(2 * t * l);
  const m = [Math.exp(logPhi)];
  // m_k = sum_{j<k} C(k-1, j) m_j kappa_(k-j)   (from phi' = phi (log phi)')
  for (let k = 1; k <= n; k++) {
    let s = 0;
    let binom = 1;
    for (let j = 0; j < k; j++) {
      s += binom * m[j] * kappa[k - j];
      binom = (binom * (k - 1 - j)) / (j + 1);
    }
    m.push(s);
  }
  return m;
}

/** E[Y^s] for Y = sum lambda_i g_i^2, lambda_i > 0 with max 1 (see the module comment). */
function weightedChiSquareMoment(lambda: readonly number[], s: number): number {
  const n = Math.floor(s);
  const f = s - n;
  if (f === 0) return tiltedMoments(lambda, n, 0)[n];
  const m0 = tiltedMoments(lambda, n + 1, 0);
  const mn0 = m0[n];
  const minLambda = Math.min(...lambda);
  // below xLo, m_n(0) - m_n(t) = t m_(n+1)(0) to first order (relative error ~ t lambda_max);
  // above xHi, m_n(t) < m_n(0) (2 t lambda_min)^(-1/2) is negligible and only m_n(0) remains
  const xLo = Math.log(1e-9);
  const xHi = Math.log(1e18 / minLambda);
  const h = 0.01;
  const steps = Math.ceil((xHi - xLo) / h);
  const dx = (xHi - xLo) / steps;
  let sum = 0;
  for (let k = 0; k <= steps; k++) {
    const x = xLo + k * dx;
    const v = (mn0 - tiltedMoments(lambda, n, Math.exp(x))[n]) * Math.exp(-f * x);
    sum += k === 0 || k === steps ? v / 2 : v;
  }
  const integral =
    sum * dx + (m0[n + 1] * Math.exp((1 - f) * xLo)) / (1 - f) + (mn0 * Math.exp(-f * xHi)) / f;
  return (f / Math.exp(logGamma(1 - f))) * integral;
}

/** E[(u^T diag(lambda) u)^s] for u uniform on the unit sphere in R^lambda.length; lambda > 0, s > 0. */
export function sphereQuadraticMoment(lambda: readonly number[], s: number): number {
  const p = lambda.length;
  if (p < 1) throw new Error("sphereQuadraticMoment: needs at least one eigenvalue");
  if (!(s > 0) || !Number.isFinite(s))
    throw new Error(`sphereQuadraticMoment: the power must be a positive number, got ${s}`);
  for (const l of lambda)
    if (!(l > 0) || !Number.isFinite(l))
      throw new Error(`sphereQuadraticMoment: eigenvalues must be positive, got ${l}`);
  const max = Math.max(...lambda);
  const min = Math.min(...lambda);
  if (max - min <= 1e-13 * max) return max ** s;
  const scaled = lambda.map((l) => l / max);
  const chi2Moment = Math.exp(s * Math.LN2 + logGamma(p / 2 + s) - logGamma(p / 2));
  return (max ** s * weightedChiSquareMoment(scaled, s)) / chi2Moment;
}
