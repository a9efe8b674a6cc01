/**
 * Maximum-likelihood fit of a zero-mean multivariate generalised Gaussian (see mggd.ts) to
 * samples, after Pascal et al. 2013: alternate the normalised fixed point for the scatter shape
 * S (trace p), S <- sum_i u_i^(beta - 1) x_i x_i^T, normalised, with u_i = x_i^T S^-1 x_i, and
 * the shape beta maximising the likelihood profiled over the scale m (closed form
 * m^beta = beta / (N p) sum u_i^beta), found by golden-section search on log beta. The result is
 * Sigma = m S.
 */
import { logGamma } from "./gamma.ts";
import type { Mggd } from "./mggd.ts";
import { symmetricEigen } from "./mggd-linalg.ts";

export interface MggdFitOptions {
  /** Most alternations of the scatter and shape steps (default 1000). */
  maxIterations?: number;
  /**
   * Stop when beta and the normalised scatter change by less than this, relatively (default
   * 1e-6: far below the sampling error, and above the ~1e-8 jitter of the beta search, which
   * cannot resolve the flat top of the likelihood more finely in double precision).
   */
  tolerance?: number;
  /** Search range of beta (default [0.05, 20]). */
  betaRange?: [number, number];
}

export interface MggdFit extends Mggd {
  iterations: number;
}

/** Quadratic forms x_i^T S^-1 x_i for the rows, through the eigen-decomposition of S. */
function quadraticForms(rows: readonly Float64Array[], s: number[][]): number[] {
  const { values, vectors } = symmetricEigen(s);
  const max = Math.max(...values);
  if (!(Math.min(...values) > 1e-12 * max))
    throw new Error(
      `fitMggd: the scatter is singular (eigenvalues ${values.map((v) => v.toPrecision(3)).join(", ")}): the samples lie in a lower-dimensional subspace; use fewer components`,
    );
  return rows.map((x) => {
    let q = 0;
    for (let k = 0; k < values.length; k++) {
      let proj = 0;
      for (let i = 0; i < x.length; i++) proj += vectors[k][i] * x[i];
      q += (proj * proj) / values[k];
    }
    return q;
  });
}

/** Mean log-likelihood in beta with the scale profiled out (terms free of beta dropped). */
function profileLogLikelihood(logU: readonly number[], beta: number, p: number): number {
  const n = logU.length;
  let max = -Infinity;
  for (const l of logU) max = Math.max(max, beta * l);
  let sum = 0;
  for (const l of logU) sum += Math.exp(beta * l - max);
  const logMBeta = Math.log(beta / (n * p)) + max + Math.log(sum); // log m^beta
  const k = p / (2 * beta);
  return Math.log(beta) - logGamma(k) - k * Math.LN2 - k * logMBeta - k;
}

function bestBeta(logU: readonly number[], p: number, [lo, hi]: [number, number]): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let a = Math.log(lo);
  let b = Math.log(hi);
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = profileLogLikelihood(logU, Math.exp(c), p);
  let fd = profileLogLikelihood(logU, Math.exp(d), p);
  while (b - a > 1e-10) {
    if (fc > fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = profileLogLikelihood(logU, Math.exp(c), p);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = profileLogLikelihood(logU, Math.exp(d), p);
    }
  }
  return Math.exp((a + b) / 2);
}

const normaliseTrace = (s: number[][]) => {
  const p = s.length;
  const tr = s.reduce((a, row, i) => a + row[i], 0);
  return s.map((row) => row.map((v) => (v * p) / tr));
};

/** ML fit of a zero-mean MGGD to `rows` ([N][p], N > p, already centred). */
export function fitMggd(rows: readonly ArrayLike<number>[], options: MggdFitOptions = {}): MggdFit {
  const n = rows.length;
  const p = rows[0]?.length ?? 0;
  if (p < 1) throw new Error("fitMggd: needs at least one sample of dimension >= 1");
  if (n <= p)
    throw new Error(
      `fitMggd: needs more samples than dimensions to fit a ${p}x${p} scatter, got ${n} samples`,
    );
  const x = rows.map((r, i) => {
    if (r.length !== p)
      throw new Error(`fitMggd: sample ${i} has ${r.length} values, expected ${p}`);
    return Float64Array.from(r);
  });
  const maxIterations = options.maxIterations ?? 1000;
  const tolerance = options.tolerance ?? 1e-6;
  const range = options.betaRange ?? [0.05, 20];
  const weighted = (w: readonly number[]) => {
    const s = Array.from({ length: p }, () => new Array<number>(p).fill(0));
    for (let r = 0; r < n; r++)
      for (let i = 0; i < p; i++) for (let j = 0; j <= i; j++) s[i][j] += w[r] * x[r][i] * x[r][j];
    for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) s[j][i] = s[i][j];
    return normaliseTrace(s);
  };
  // start from the Gaussian fit (beta 1: S proportional to the second-moment matrix)
  let s = weighted(new Array(n).fill(1));
  let beta = 1;
  let u = quadraticForms(x, s);
  for (let it = 1; it <= maxIterations; it++) {
    const floor = 1e-12 * (u.reduce((a, b) => a + b, 0) / n); // a sample at the origin
    const uSafe = u.map((v) => Math.max(v, floor));
    const nextBeta = bestBeta(
      uSafe.map((v) => Math.log(v)),
      p,
      range,
    );
    const next = weighted(uSafe.map((v) => v ** (nextBeta - 1)));
    let change = 0;
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) change += (next[i][j] - s[i][j]) ** 2;
    const betaChange = Math.abs(nextBeta - beta) / beta;
    s = next;
    beta = nextBeta;
    u = quadraticForms(x, s);
    if (betaChange < tolerance && Math.sqrt(change) < tolerance * p) {
      const sumUBeta = u.reduce((a, v) => a + Math.max(v, 1e-300) ** beta, 0);
      const m = ((beta / (n * p)) * sumUBeta) ** (1 / beta);
      return { scatter: s.map((row) => row.map((v) => v * m)), beta, iterations: it };
    }
  }
  throw new Error(
    `fitMggd: did not converge in ${maxIterations} iterations (beta ${beta.toPrecision(4)}); pass a larger maxIterations or check the samples`,
  );
}
