/**
 * SLIC superpixels (Achanta et al. 2012), as skimage.segmentation.slic does it: k-means in
 * (colour, position) with distance d_c^2 + (d_s / S)^2 m^2 over 2S x 2S windows around each centre,
 * centres started on a regular grid and moved to the lowest gradient nearby, then small or
 * disconnected pieces merged into a neighbour so every segment is 4-connected. Colour is CIELAB for
 * RGB images and 100 x intensity for one channel, so the default compactness (10) suits both.
 */

export interface SlicOptions {
  /** Approximate number of segments (default 50). */
  segments?: number;
  /** Weight of spatial distance (default 10, skimage's). */
  compactness?: number;
  /** k-means iterations (default 10). */
  iterations?: number;
}

function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** sRGB in [0, 1] to CIELAB (D65). */
export function rgbToLab(r: number, g: number, b: number): [number, number, number] {
  const R = srgbToLinear(r);
  const G = srgbToLinear(g);
  const B = srgbToLinear(b);
  const x = (0.412453 * R + 0.35758 * G + 0.180423 * B) / 0.95047;
  const y = 0.212671 * R + 0.71516 * G + 0.072169 * B;
  const z = (0.019334 * R + 0.119193 * G + 0.950227 * B) / 1.08883;
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const fx = f(x);
  const fy = f(y);
  const fz = f(z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/**
 * Superpixel labels 0..k-1, [H, W] row-major, for an image [C, H, W] (C = 1 or 3, values in [0, 1]).
 */
export function slicSegments(
  image: Float32Array | Float64Array,
  channels: number,
  height: number,
  width: number,
  o: SlicOptions = {},
): Int32Array {
  if (channels !== 1 && channels !== 3) {
    throw new Error(`slicSegments: expected a 1- or 3-channel image, got ${channels} channels`);
  }
  if (image.length !== channels * height * width) {
    throw new Error(
      `slicSegments: ${image.length} values do not make a ${channels} x ${height} x ${width} image`,
    );
  }
  const k = o.segments ?? 50;
  if (!Number.isInteger(k) || k < 1 || k > height * width) {
    throw new Error(
      `slicSegments: segments must be an integer in [1, ${height * width}], got ${k}`,
    );
  }
  const m = o.compactness ?? 10;
  const iterations = o.iterations ?? 10;
  const hw = height * width;
  const nf = channels === 3 ? 3 : 1;
  const feat = new Float64Array(hw * nf);
  for (let p = 0; p < hw; p++) {
    if (channels === 3) {
      const lab = rgbToLab(image[p], image[hw + p], image[2 * hw + p]);
      feat[p * 3] = lab[0];
      feat[p * 3 + 1] = lab[1];
      feat[p * 3 + 2] = lab[2];
    } else feat[p] = 100 * image[p];
  }
  const step = Math.sqrt(hw / k);
  const ny = Math.max(1, Math.round(height / step));
  const nx = Math.max(1, Math.round(width / step));
  const nc = ny * nx;
  const cy = new Float64Array(nc);
  const cx = new Float64Array(nc);
  const cf = new Float64Array(nc * nf);
  const gradAt = (y: number, x: number) => {
    let g = 0;
    const at = (yy: number, xx: number) =>
      (Math.min(height - 1, Math.max(0, yy)) * width + Math.min(width - 1, Math.max(0, xx))) * nf;
    for (let f = 0; f < nf; f++) {
      g += (feat[at(y, x + 1) + f] - feat[at(y, x - 1) + f]) ** 2;
      g += (feat[at(y + 1, x) + f] - feat[at(y - 1, x) + f]) ** 2;
    }
    return g;
  };
  for (let i = 0; i < ny; i++) {
    for (let j = 0; j < nx; j++) {
      const c = i * nx + j;
      let by = Math.min(height - 1, Math.floor(((i + 0.5) * height) / ny));
      let bx = Math.min(width - 1, Math.floor(((j + 0.5) * width) / nx));
      let best = gradAt(by, bx);
      const y0 = by;
      const x0 = bx;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const y = y0 + dy;
          const x = x0 + dx;
          if (y < 0 || x < 0 || y >= height || x >= width) continue;
          const g = gradAt(y, x);
          if (g < best) {
            best = g;
            by = y;
            bx = x;
          }
        }
      }
      cy[c] = by;
      cx[c] = bx;
      for (let f = 0; f < nf; f++) cf[c * nf + f] = feat[(by * width + bx) * nf + f];
    }
  }
  const label = new Int32Array(hw).fill(-1);
  const dist = new Float64Array(hw);
  const spatial = (m / step) ** 2;
  const win = Math.ceil(step);
  for (let it = 0; it < iterations; it++) {
    dist.fill(Infinity);
    for (let c = 0; c < nc; c++) {
      const yLo = Math.max(0, Math.floor(cy[c] - win));
      const yHi = Math.min(height - 1, Math.ceil(cy[c] + win));
      const xLo = Math.max(0, Math.floor(cx[c] - win));
      const xHi = Math.min(width - 1, Math.ceil(cx[c] + win));
      for (let y = yLo; y <= yHi; y++) {
        for (let x = xLo; x <= xHi; x++) {
          const p = y * width + x;
          let d = 0;
          for (let f = 0; f < nf; f++) d += (feat[p * nf + f] - cf[c * nf + f]) ** 2;
          d += ((y - cy[c]) ** 2 + (x - cx[c]) ** 2) * spatial;
          if (d < dist[p]) {
            dist[p] = d;
            label[p] = c;
          }
        }
      }
    }
    const count = new Float64Array(nc);
    const sy = new Float64Array(nc);
    const sx = new Float64Array(nc);
    const sf = new Float64Array(nc * nf);
    for (let p = 0; p < hw; p++) {
      const c = label[p];
      if (c < 0) continue;
      count[c]++;
      sy[c] += Math.floor(p / width);
      sx[c] += p % width;
      for (let f = 0; f < nf; f++) sf[c * nf + f] += feat[p * nf + f];
    }
    for (let c = 0; c < nc; c++) {
      if (count[c] === 0) continue;
      cy[c] = sy[c] / count[c];
      cx[c] = sx[c] / count[c];
      for (let f = 0; f < nf; f++) cf[c * nf + f] = sf[c * nf + f] / count[c];
    }
  }
  return enforceConnectivity(label, height, width, Math.max(1, Math.floor((0.5 * hw) / nc)));
}

/**
 * Relabels 4-connected components in raster order; a component smaller than `minSize` (or an
 * unassigned pixel) joins the component next to its first pixel that was labelled before it.
 */
export function enforceConnectivity(
  label: Int32Array,
  height: number,
  width: number,
  minSize: number,
): Int32Array {
  const hw = height * width;
  const out = new Int32Array(hw).fill(-1);
  const stack: number[] = [];
  const members: number[] = [];
  let next = 0;
  for (let p0 = 0; p0 < hw; p0++) {
    if (out[p0] >= 0) continue;
    // The label of an already-relabelled 4-neighbour of the seed (the left one, else the top one).
    let adjacent = -1;
    const y0 = Math.floor(p0 / width);
    const x0 = p0 % width;
    if (x0 > 0 && out[p0 - 1] >= 0) adjacent = out[p0 - 1];
    else if (y0 > 0 && out[p0 - width] >= 0) adjacent = out[p0 - width];
    const id = next++;
    members.length = 0;
    stack.push(p0);
    out[p0] = id;
    while (stack.length) {
      const p = stack.pop()!;
      members.push(p);
      const y = Math.floor(p / width);
      const x = p % width;
      for (const [yy, xx] of [
        [y - 1, x],
        [y + 1, x],
        [y, x - 1],
        [y, x + 1],
      ]) {
        if (yy < 0 || xx < 0 || yy >= height || xx >= width) continue;
        const q = yy * width + xx;
        if (out[q] < 0 && label[q] === label[p0]) {
          out[q] = id;
          stack.push(q);
        }
      }
    }
    if ((members.length < minSize || label[p0] < 0) && adjacent >= 0) {
      for (const p of members) out[p] = adjacent;
      next--;
    }
  }
  return out;
}
