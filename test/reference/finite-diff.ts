/**
 * Central finite differences on a float64 reference: the expected gradient of
 * L(xs) = sum(f(xs) * cotangent) with respect to the chosen inputs.
 */
import { dot, type Nd } from "./nd.ts";

/**
 * d/dxs[k] of sum(f(xs) * ct) for every k in `wrt`, by (L(x + h) - L(x - h)) / 2h per element.
 * The inputs are perturbed in place and restored. With float64 arithmetic, h = 1e-5 leaves a
 * truncation error ~ h^2 |f'''| and a rounding error ~ 1e-16 |L| / h, both far below float32.
 */
export function numericVjp(
  f: (xs: Nd[]) => Nd,
  xs: Nd[],
  ct: Nd,
  wrt: readonly number[],
  h = 1e-5,
): Nd[] {
  const loss = () => dot(f(xs).data, ct.data);
  return wrt.map((k) => {
    const x = xs[k].data;
    const g = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      x[i] = v + h;
      const lp = loss();
      x[i] = v - h;
      const lm = loss();
      x[i] = v;
      g[i] = (lp - lm) / (2 * h);
    }
    return { shape: [...xs[k].shape], data: g };
  });
}

/**
 * The Jacobian matrix J[i][j] = d f_i / d x_j of a function of one input, by central
 * differences (exact up to rounding for a linear or affine f).
 */
export function numericJacobian(f: (x: Nd) => Nd, x: Nd, h = 1e-3): number[][] {
  const n = x.data.length;
  let rows: number[][] | null = null;
  for (let j = 0; j < n; j++) {
    const v = x.data[j];
    x.data[j] = v + h;
    const p = f(x).data;
    x.data[j] = v - h;
    const m = f(x).data;
    x.data[j] = v;
    if (!rows) rows = Array.from({ length: p.length }, () => new Array<number>(n).fill(0));
    for (let i = 0; i < p.length; i++) rows[i][j] = (p[i] - m[i]) / (2 * h);
  }
  return rows ?? [];
}
