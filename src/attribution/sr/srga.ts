/**
 * SRGA, the SR generalisation assessment index (after Liu et al. 2023): deep features of a test
 * set and of a reference set, reduced by PCA (fitted on the reference, both sets centred on the
 * reference's mean), each set's projections modelled by a zero-mean multivariate generalised
 * Gaussian fitted by maximum likelihood (mggd-fit.ts), and
 * SRGA = log10(KL(test || reference) + 1e-5) + 5 with the MGGD KL divergence (mggd.ts).
 * Identical sets give the floor value 0; larger values mean the test features are further from
 * the reference (a shift of the test set's mean shows as a wider test scatter).
 *
 * `model: "per-component"` is a faster approximation kept for comparison: one univariate
 * generalised Gaussian per principal component (shape by moment matching), KLs summed (closed
 * form, Do & Vetterli 2002), exact only for independent components.
 */
import { logGamma } from "./gamma.ts";
import { type Mggd, mggdKl } from "./mggd.ts";
import { fitMggd } from "./mggd-fit.ts";

export { logGamma };

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

/** The distribution model SRGA fits to each set's projections. */
export type SrgaModel = "mggd" | "per-component";

interface SrgaCommon {
  /** log10(kl + 1e-5) + 5: 0 for identical sets, larger further from the reference. */
  srga: number;
  /** KL(test || reference) in nats (clamped at 0). */
  kl: number;
  /** Principal components used. */
  components: number;
}

/** SRGA of a test feature set against a reference set, with the fits behind it. */
export type SrgaResult = SrgaCommon &
  (
    | {
        model: "mggd";
        /** Multivariate generalised Gaussian fitted to the test projections. */
        test: Mggd;
        /** Multivariate generalised Gaussian fitted to the reference projections. */
        reference: Mggd;
      }
    | {
        model: "per-component";
        /** Generalised Gaussian fitted to the test projections, per component. */
        test: Ggd[];
        /** Generalised Gaussian fitted to the reference projections, per component. */
        reference: Ggd[];
      }
  );

/**
 * SRGA of `test` feature vectors against `reference` ones (each [n, d], e.g. the deepest
 * features of each image pooled over space), with `components` principal components. The
 * multivariate fit needs more vectors in each set than components.
 */
export function srga(
  test: readonly ArrayLike<number>[],
  reference: readonly ArrayLike<number>[],
  components = 8,
  model: SrgaModel = "mggd",
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
  const floor = (kl: number) => Math.log10(kl + 1e-5) + 5;
  if (model === "per-component") {
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
    return { srga: floor(kl), kl, components: axes.length, model, test: t, reference: q };
  }
  const k = axes.length;
  for (const [name, set] of [
    ["test", test],
    ["reference", reference],
  ] as const)
    if (set.length <= k)
      throw new Error(
        `srga: the multivariate fit needs more ${name} vectors than components (${set.length} vectors, ${k} components); use fewer components or more images`,
      );
  const fitSet = (set: readonly ArrayLike<number>[], name: string): Mggd => {
    try {
      const { scatter, beta } = fitMggd(projectRows(set, mean, axes));
      return { scatter, beta };
    } catch (e) {
      throw new Error(`srga: fitting the ${name} set: ${(e as Error).message}`);
    }
  };
  const t = fitSet(test, "test");
  const q = fitSet(reference, "reference");
  const kl = Math.max(0, mggdKl(t, q));
  return { srga: floor(kl), kl, components: k, model, test: t, reference: q };
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
