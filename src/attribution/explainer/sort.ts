/**
 * Differentiable descending sort along the last axis, the way torch.sort differentiates: the
 * permutation is found on the host from the values, then applied with `gather`, whose gradient
 * (scatterAdd) sends each sorted position's gradient back to the element that landed there.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { tensor } from "../../ops/creation.ts";
import { gather } from "../../ops/gather.ts";
import { reshape } from "../../ops/reshape.ts";

/** Indices that sort `values` descending (stable: equal values keep their order). */
export function argsortDescending(values: ArrayLike<number>): Int32Array {
  const idx = Int32Array.from({ length: values.length }, (_, i) => i);
  // Typed-array sort is not stable across engines for a comparator; tie-break on the index.
  idx.sort((a, b) => values[b] - values[a] || a - b);
  return idx;
}

/**
 * Rows `rows` of x [R, N] (default all), each sorted descending: [rows.length, N]. Reads x back
 * (synchronous), so use it where the values are on the host anyway (the CPU backend).
 */
export function sortRowsDescending(x: Tensor, rows?: readonly number[]): Tensor {
  if (x.rank !== 2) throw new Error(`sortRowsDescending: expected [R, N], got [${x.shape}]`);
  const [r, n] = x.shape;
  const pick = rows ?? Array.from({ length: r }, (_, i) => i);
  const v = x.dataSync();
  const flat = new Int32Array(pick.length * n);
  pick.forEach((row, k) => {
    if (!Number.isInteger(row) || row < 0 || row >= r) {
      throw new Error(`sortRowsDescending: row ${row} is not in [0, ${r})`);
    }
    const order = argsortDescending(v.subarray(row * n, (row + 1) * n));
    for (let i = 0; i < n; i++) flat[k * n + i] = row * n + order[i];
  });
  return reshape(gather(reshape(x, [r * n]), tensor(flat)), [pick.length, n]);
}
