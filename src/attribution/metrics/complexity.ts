/**
 * Complexity of an explanation (Quantus's complexity family), on one map's values:
 * - sparseness (Chalasani et al. 2020): the Gini index of |a| + 1e-7, sorted ascending,
 *   G = sum_i (2i - n - 1) a_(i) / (n sum a); 1 for a one-hot map (less the 1e-7), 0 for a constant one;
 * - complexity (Bhatt et al. 2020): the Shannon entropy (natural log) of |a| / sum |a|; log n for a
 *   constant map, 0 for a one-hot map;
 * - effective complexity (Nguyen & Martinez 2020): how many |a| exceed eps (default 1e-5) after
 *   dividing by the largest |a| (Quantus normalises by default).
 * Higher sparseness and lower (effective) complexity mean a more concise explanation.
 */

function checkMap(a: ArrayLike<number>, api: string): void {
  if (a.length < 1) throw new Error(`${api}: the map is empty`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new Error(`${api}: the map has ${a[i]} at index ${i}`);
  }
}

/** The Gini index of |a| (Quantus Sparseness): higher is sparser. */
export function sparseness(a: ArrayLike<number>): number {
  checkMap(a, "sparseness");
  const v = Float64Array.from(a, (x) => Math.abs(x) + 1e-7).sort();
  const n = v.length;
  let num = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    num += (2 * (i + 1) - n - 1) * v[i];
    sum += v[i];
  }
  return num / (n * sum);
}

/** The entropy of |a| / sum |a| in nats (Quantus Complexity); 0 for an all-zero map. */
export function complexity(a: ArrayLike<number>): number {
  checkMap(a, "complexity");
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]);
  if (sum === 0) return 0;
  let h = 0;
  for (let i = 0; i < a.length; i++) {
    const p = Math.abs(a[i]) / sum;
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/** How many |a| / max |a| exceed eps (Quantus EffectiveComplexity; normalise false to skip the division). */
export function effectiveComplexity(
  a: ArrayLike<number>,
  o: { eps?: number; normalise?: boolean } = {},
): number {
  checkMap(a, "effectiveComplexity");
  const eps = o.eps ?? 1e-5;
  if (!(eps >= 0)) throw new Error(`effectiveComplexity: eps must be >= 0, got ${eps}`);
  let m = 1;
  if (o.normalise ?? true) {
    m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
    if (m === 0) return 0;
  }
  let count = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]) / m > eps) count++;
  return count;
}
