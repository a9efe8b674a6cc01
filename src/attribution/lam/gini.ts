/** Concentration of an attribution map: Gini coefficient, diffusion index and 95%-mass count. */

/** LAM's `gini`: shift to non-negative, add 1e-7, sort ascending, sum (2i - n - 1) x_i / (n sum x). */
export function gini(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) throw new Error("gini: empty map");
  const x = Float64Array.from(values);
  for (const v of x)
    if (!Number.isFinite(v)) throw new Error("gini: map contains NaN or infinite values");
  let min = Number.POSITIVE_INFINITY;
  for (const v of x) min = Math.min(min, v);
  for (let i = 0; i < n; i++) x[i] = (min < 0 ? x[i] - min : x[i]) + 1e-7;
  x.sort();
  let num = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    num += (2 * (i + 1) - n - 1) * x[i];
    total += x[i];
  }
  return num / (n * total);
}

/** DI = (1 - Gini) * 100: larger means the network drew on a wider spread of LR pixels. */
export function diffusionIndex(values: ArrayLike<number>): number {
  return (1 - gini(values)) * 100;
}

/**
 * LAM's `count_saliency_pixels`: how many of the largest values have running sums still below
 * `threshold` of the total (so "just under 95%" of the mass by default).
 */
export function countSaliencyPixels(values: ArrayLike<number>, threshold = 0.95): number {
  const sorted = Float64Array.from(values).sort().reverse();
  let total = 0;
  for (const v of sorted) total += v;
  const limit = total * threshold;
  let count = 0;
  let acc = 0;
  for (const v of sorted) {
    acc += v;
    if (acc < limit) count++;
  }
  return count;
}
