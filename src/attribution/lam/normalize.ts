/** LAM's `grad_abs_norm`: |sum over channels| divided by its maximum (channels summed first). */
export function gradAbsNorm(
  map: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
): Float64Array {
  const px = height * width;
  if (map.length !== channels * px)
    throw new Error(`gradAbsNorm: ${map.length} values for [${channels}, ${height}, ${width}]`);
  const out = new Float64Array(px);
  let max = 0;
  for (let p = 0; p < px; p++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += map[c * px + p];
    out[p] = Math.abs(s);
    if (out[p] > max) max = out[p];
  }
  if (max > 0) for (let p = 0; p < px; p++) out[p] /= max;
  return out;
}
