/**
 * SRGA, the SR generalisation assessment index (after Liu et al. 2023): deep features of a test
 * set and of a reference set, reduced by PCA (fitted on the reference), each set modelled by a
 * generalised Gaussian, and SRGA = log10(KL(test || reference) + 1e-5) + 5. Identical sets give
 * the floor value 0; larger values mean the test features are further from the reference.
 *
 * Simplification (stated, not hidden): the paper fits one multivariate generalised Gaussian;
 * here each principal component gets its own univariate generalised Gaussian (shape by moment
 * matching) and the KL divergences of the components are summed, which is exact for
 * independent components and has a closed form (Do & Vetterli 2002).
 */

/** log Gamma(x) for x > 0 (Lanczos, g = 7). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** A zero-mean generalised Gaussian: density beta / (2 alpha Gamma(1/beta)) exp(-(|x|/alpha)^beta). */
export interface Ggd {
  alpha: number;
  beta: number;
}

/** E[x^2] / E[|x|]^2 of a generalised Gaussian of shape beta (decreasing in beta). */
const momentRatio = (b: number) =>
  Math.exp(logGamma(1 / b) + logGamma(3 / b) - 2 * logGamma(2 / b));

/** Fits a zero-mean generalised Gaussian to samples by moment matching (beta in [0.05, 20]). */
export function fitGgd(x: ArrayLike<number>): Ggd {
  let m1 = 0;
  let m2 = 0;
  for (let i = 0; i < x.length; i++) {
    m1 += Math.abs(x[i]);
    m2 += x[i] * x[i];
  }
  m1 /= x.length;
  m2 /= x.length;
  if (!(m2 > 0)) return { alpha: 1e-12, beta: 2 };
  const rho = m2 / (m1 * m1);
  let lo = 0.05;
  let hi = 20;
  for (let k = 0; k < 100; k++) {
    const mid = Math.sqrt(lo * hi);
    if (momentRatio(mid) > rho) lo = mid;
    else hi = mid;
  }
  const beta = Math.sqrt(lo * hi);
  const alpha = Math.sqrt(m2 * Math.exp(logGamma(1 / beta) - logGamma(3 / beta)));
  return { alpha, beta };
}

/** KL(p || q) of two zero-mean generalised Gaussians, in nats (closed form). */
export function ggdKl(p: Ggd, q: Ggd): number {
  return (
    Math.log((p.beta * q.alpha) / (q.beta * p.alpha)) +
    logGamma(1 / q.beta) -
    logGamma(1 / p.beta) +
    (p.alpha / q.alpha) ** q.beta *
      Math.exp(logGamma((q.beta + 1) / p.beta) - logGamma(1 / p.beta)) -
    1 / p.beta
  );
}

/** Principal axes of rows [n, d] (centred on their mean): the top `k` by variance. */
export function pca(
  rows: readonly Float64Array[],
  k: number,
): { mean: Float64Array; axes: Float64Array[] } {
  const n = rows.length;
  const d = rows[0].length;
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j] / n;
  const cov = Array.from({ length: d }, () => new Float64Array(d));
  for (const r of rows)
    for (let i = 0; i < d; i++) {
      const a = r[i] - mean[i];
      for (let j = i; j < d; j++) cov[i][j] += (a * (r[j] - mean[j])) / n;
    }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) cov[i][j] = cov[j][i];
  // power iteration with deflation: enough for the few leading components SRGA uses
  const axes: Float64Array[] = [];
  for (let c = 0; c < Math.min(k, d); c++) {
    let v = Float64Array.from({ length: d }, (_, i) => 1 / Math.sqrt(d) + 1e-3 * ((i * 7919) % 13));
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[i] += cov[i][j] * v[j];
      for (const a of axes) {
        const dot = a.reduce((s, ai, i) => s + ai * w[i], 0);
        for (let i = 0; i < d; i++) w[i] -= dot * a[i];
      }
      const norm = Math.hypot(...w);
      if (norm < 1e-300) break;
      lambda = norm;
      v = w.map((x) => x / norm);
    }
    if (lambda <= 1e-12) break;
    axes.push(v);
  }
  return { mean, axes };
}

/** SRGA of a test feature set against a reference set, with the fits behind it. */
export interface SrgaResult {
  /** log10(kl + 1e-5) + 5: 0 for identical sets, larger further from the reference. */
  srga: number;
  /** KL(test || reference) summed over the principal components (nats, clamped at 0). */
  kl: number;
  /** Principal components used. */
  components: number;
  /** Generalised Gaussian fitted to the test projections, per component. */
  test: Ggd[];
  /** Generalised Gaussian fitted to the reference projections, per component. */
  reference: Ggd[];
}

/**
 * SRGA of `test` feature vectors against `reference` ones (each [n, d], e.g. the deepest
 * features of each image pooled over space), with `components` principal components.
 */
export function srga(
  test: readonly ArrayLike<number>[],
  reference: readonly ArrayLike<number>[],
  components = 8,
): SrgaResult {
  if (test.length < 2 || reference.length < 2)
    throw new Error(
      `srga: needs at least 2 feature vectors per set, got ${test.length} test and ${reference.length} reference`,
    );
  const d = reference[0].length;
  for (const [name, set] of [
    ["test", test],
    ["reference", reference],
  ] as const)
    set.forEach((r, i) => {
      if (r.length !== d)
        throw new Error(`srga: ${name} vector ${i} has ${r.length} values, expected ${d}`);
    });
  const ref = reference.map((r) => Float64Array.from(r));
  const { mean, axes } = pca(ref, components);
  const project = (set: readonly ArrayLike<number>[], a: Float64Array) =>
    set.map((r) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += (r[j] - mean[j]) * a[j];
      return s;
    });
  const t = axes.map((a) => fitGgd(project(test, a)));
  const q = axes.map((a) => fitGgd(project(reference, a)));
  const kl = Math.max(
    0,
    t.reduce((s, p, i) => s + ggdKl(p, q[i]), 0),
  );
  return { srga: Math.log10(kl + 1e-5) + 5, kl, components: axes.length, test: t, reference: q };
}

/** Rows projected on principal axes (centred on `mean`): [n][axes.length]. */
export function projectRows(
  rows: readonly ArrayLike<number>[],
  mean: Float64Array,
  axes: readonly Float64Array[],
): Float64Array[] {
  return rows.map((r) =>
    Float64Array.from(axes, (a) => {
      let s = 0;
      for (let j = 0; j < mean.length; j++) s += (r[j] - mean[j]) * a[j];
      return s;
    }),
  );
}
