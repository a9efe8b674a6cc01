/**
 * LAM's KDE view (`vis_saliency_kde`): scipy.stats.gaussian_kde over the pixel coordinates,
 * weighted by the map, with Scott's bandwidth, evaluated on the whole grid and divided by its max.
 */
export function weightedKde(map: ArrayLike<number>, height: number, width: number): Float64Array {
  const n = height * width;
  if (map.length !== n)
    throw new Error(`weightedKde: ${map.length} values for a ${height}x${width} map`);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (!(map[i] >= 0))
      throw new Error(`weightedKde: weights must be finite and >= 0 (got ${map[i]} at ${i})`);
    total += map[i];
  }
  const out = new Float64Array(n);
  if (total === 0) return out;
  const w = Float64Array.from(map, (v) => v / total);
  // Weighted mean and covariance (numpy.cov with aweights, ddof 1), points are (x, y).
  let mx = 0;
  let my = 0;
  let v2 = 0;
  for (let i = 0; i < n; i++) {
    mx += w[i] * (i % width);
    my += w[i] * Math.floor(i / width);
    v2 += w[i] * w[i];
  }
  let cxx = 0;
  let cyy = 0;
  let cxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (i % width) - mx;
    const dy = Math.floor(i / width) - my;
    cxx += w[i] * dx * dx;
    cyy += w[i] * dy * dy;
    cxy += w[i] * dx * dy;
  }
  const norm = 1 - v2;
  // Scott's factor with the effective sample size 1 / sum(w^2), d = 2.
  const factor2 = (1 / v2) ** (-2 / 6);
  const sxx = (cxx / norm) * factor2;
  const syy = (cyy / norm) * factor2;
  const sxy = (cxy / norm) * factor2;
  const det = sxx * syy - sxy * sxy;
  if (!(det > 0)) {
    // All mass on one pixel or one line: scipy refuses; the density's limit is the map itself.
    let wmax = 0;
    for (const v of w) wmax = Math.max(wmax, v);
    return w.map((v) => v / wmax);
  }
  const ixx = syy / det;
  const iyy = sxx / det;
  const ixy = -sxy / det;
  const support: number[] = [];
  for (let i = 0; i < n; i++) if (w[i] > 0) support.push(i);
  let max = 0;
  for (let p = 0; p < n; p++) {
    const px = p % width;
    const py = Math.floor(p / width);
    let acc = 0;
    for (const i of support) {
      const dx = px - (i % width);
      const dy = py - Math.floor(i / width);
      acc += w[i] * Math.exp(-0.5 * (ixx * dx * dx + 2 * ixy * dx * dy + iyy * dy * dy));
    }
    out[p] = acc;
    if (acc > max) max = acc;
  }
  for (let p = 0; p < n; p++) out[p] /= max;
  return out;
}
