/**
 * Small dense solvers in float64 for the surrogate models of KernelSHAP and LIME: weighted least
 * squares (optionally with an intercept and a sum constraint) and sklearn's weighted Lasso.
 */

/** Solves the symmetric system A x = b (n x n, row-major) by Gaussian elimination with pivoting. */
function solveSymmetric(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  // A tiny ridge keeps rank-deficient designs (fewer samples than features) solvable; it picks
  // (nearly) the minimum-norm solution, as a pseudo-inverse would.
  let trace = 0;
  for (let i = 0; i < n; i++) trace += m[i * n + i];
  const ridge = (1e-12 * trace) / Math.max(1, n) || 1e-300;
  for (let i = 0; i < n; i++) m[i * n + i] += ridge;
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++)
      if (Math.abs(m[r * n + col]) > Math.abs(m[piv * n + col])) piv = r;
    if (piv !== col) {
      for (let k = 0; k < n; k++) {
        const t = m[col * n + k];
        m[col * n + k] = m[piv * n + k];
        m[piv * n + k] = t;
      }
      const t = x[col];
      x[col] = x[piv];
      x[piv] = t;
    }
    const d = m[col * n + col];
    if (d === 0) continue;
    for (let r = col + 1; r < n; r++) {
      const f = m[r * n + col] / d;
      if (f === 0) continue;
      for (let k = col; k < n; k++) m[r * n + k] -= f * m[col * n + k];
      x[r] -= f * x[col];
    }
  }
  for (let col = n - 1; col >= 0; col--) {
    let s = x[col];
    for (let k = col + 1; k < n; k++) s -= m[col * n + k] * x[k];
    const d = m[col * n + col];
    x[col] = d === 0 ? 0 : s / d;
  }
  return x;
}

/**
 * argmin_beta sum_r w_r (y_r - X_r beta)^2 for rows X [rows x p] (row-major): the weighted normal
 * equations, solved in float64.
 */
export function weightedLeastSquares(
  xs: Float64Array,
  y: Float64Array,
  w: Float64Array,
  p: number,
): Float64Array {
  const rows = y.length;
  const a = new Float64Array(p * p);
  const b = new Float64Array(p);
  for (let r = 0; r < rows; r++) {
    const wr = w[r];
    if (wr === 0) continue;
    const o = r * p;
    for (let i = 0; i < p; i++) {
      const xi = xs[o + i] * wr;
      if (xi === 0) continue;
      b[i] += xi * y[r];
      for (let j = i; j < p; j++) a[i * p + j] += xi * xs[o + j];
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) a[i * p + j] = a[j * p + i];
  return solveSymmetric(a, b, p);
}

/** Weighted means of the columns of X [rows x p] and of y. */
function weightedCentre(xs: Float64Array, y: Float64Array, w: Float64Array, p: number) {
  let sw = 0;
  const mx = new Float64Array(p);
  let my = 0;
  for (let r = 0; r < y.length; r++) {
    sw += w[r];
    my += w[r] * y[r];
    for (let i = 0; i < p; i++) mx[i] += w[r] * xs[r * p + i];
  }
  for (let i = 0; i < p; i++) mx[i] /= sw;
  return { mx, my: my / sw, sw };
}

/**
 * sklearn's weighted Lasso with an intercept: argmin (1 / (2 sum w)) sum_r w_r (y_r - b - X_r
 * beta)^2 + alpha |beta|_1, by cyclic coordinate descent on the weighted-centred data until no
 * coefficient moves by more than `tol` (relative to the largest). alpha = 0 is weighted least squares.
 */
export function weightedLasso(
  xs: Float64Array,
  y: Float64Array,
  w: Float64Array,
  p: number,
  alpha: number,
  o: { tol?: number; maxIter?: number } = {},
): { coef: Float64Array; intercept: number } {
  const rows = y.length;
  const { mx, my, sw } = weightedCentre(xs, y, w, p);
  const xc = new Float64Array(rows * p);
  const r = new Float64Array(rows);
  for (let k = 0; k < rows; k++) {
    r[k] = y[k] - my;
    for (let i = 0; i < p; i++) xc[k * p + i] = xs[k * p + i] - mx[i];
  }
  let coef: Float64Array;
  if (alpha === 0) {
    coef = weightedLeastSquares(xc, r, w, p);
  } else {
    coef = new Float64Array(p);
    const z = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      for (let k = 0; k < rows; k++) z[i] += w[k] * xc[k * p + i] ** 2;
      z[i] /= sw;
    }
    const tol = o.tol ?? 1e-12;
    const maxIter = o.maxIter ?? 100000;
    for (let it = 0; it < maxIter; it++) {
      let moved = 0;
      let largest = 0;
      for (let i = 0; i < p; i++) {
        if (z[i] === 0) continue;
        const old = coef[i];
        let rho = 0;
        for (let k = 0; k < rows; k++) rho += w[k] * xc[k * p + i] * (r[k] + xc[k * p + i] * old);
        rho /= sw;
        const next = (Math.sign(rho) * Math.max(Math.abs(rho) - alpha, 0)) / z[i];
        if (next !== old) {
          for (let k = 0; k < rows; k++) r[k] -= xc[k * p + i] * (next - old);
          coef[i] = next;
        }
        moved = Math.max(moved, Math.abs(next - old));
        largest = Math.max(largest, Math.abs(next));
      }
      if (moved <= tol * Math.max(largest, 1e-300)) break;
    }
  }
  let intercept = my;
  for (let i = 0; i < p; i++) intercept -= mx[i] * coef[i];
  return { coef, intercept };
}
