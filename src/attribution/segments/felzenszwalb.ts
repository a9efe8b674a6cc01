/**
 * Felzenszwalb-Huttenlocher graph segmentation (2004) as skimage.segmentation.felzenszwalb does
 * it: Gaussian smoothing per channel, an 8-connected grid graph weighted by the Euclidean colour
 * distance, edges taken in increasing weight and two components merged when the edge is lighter
 * than both internal thresholds Int(C) + k / |C| (Int(C) = the heaviest edge merged into C, k =
 * scale / 255 as skimage rescales it), then components smaller than minSize merged along the
 * remaining edges in the same order. Labels 0..k-1 in raster order of each segment's first pixel.
 */

export interface FelzenszwalbOptions {
  /** Larger means larger segments (default 1; skimage divides it by 255). */
  scale?: number;
  /** Gaussian pre-smoothing width in pixels (default 0.8; 0 skips it). */
  sigma?: number;
  /** Smallest segment size, enforced after the merging (default 20). */
  minSize?: number;
}

/** scipy.ndimage.gaussian_filter1d along one axis (truncate 4, mode "reflect"), in place. */
function smoothAxis(
  v: Float64Array,
  off: number,
  len: number,
  stride: number,
  count: number,
  countStride: number,
  kernel: Float64Array,
): void {
  const r = (kernel.length - 1) / 2;
  const line = new Float64Array(len);
  const reflect = (i: number): number => {
    // Half-sample symmetric: d c b a | a b c d | d c b a, repeating.
    const period = 2 * len;
    let j = ((i % period) + period) % period;
    if (j >= len) j = period - 1 - j;
    return j;
  };
  for (let c = 0; c < count; c++) {
    const base = off + c * countStride;
    for (let i = 0; i < len; i++) line[i] = v[base + i * stride];
    for (let i = 0; i < len; i++) {
      let s = 0;
      for (let t = -r; t <= r; t++) s += kernel[t + r] * line[reflect(i + t)];
      v[base + i * stride] = s;
    }
  }
}

function gaussianKernel(sigma: number): Float64Array {
  const r = Math.floor(4 * sigma + 0.5);
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let t = -r; t <= r; t++) {
    k[t + r] = Math.exp((-0.5 * t * t) / (sigma * sigma));
    sum += k[t + r];
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Union-find whose root is always the smallest index of its set (skimage's join_trees). */
class Forest {
  readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    const p = this.parent;
    let r = i;
    while (p[r] !== r) r = p[r];
    while (p[i] !== r) {
      const next = p[i];
      p[i] = r;
      i = next;
    }
    return r;
  }
  /** Joins the sets of roots a and b; returns the new root. */
  join(a: number, b: number): number {
    const r = Math.min(a, b);
    this.parent[a] = r;
    this.parent[b] = r;
    return r;
  }
}

/**
 * Segment labels 0..k-1, [H, W] row-major, of an image [C, H, W] (any C, any value range: the
 * scale is relative to values in [0, 1], as in skimage).
 */
export function felzenszwalbSegments(
  image: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
  o: FelzenszwalbOptions = {},
): Int32Array {
  const api = "felzenszwalbSegments";
  for (const [name, v] of [
    ["channels", channels],
    ["height", height],
    ["width", width],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`${api}: ${name} must be a positive integer, got ${v}`);
  }
  if (image.length !== channels * height * width) {
    throw new Error(
      `${api}: ${image.length} values do not make a ${channels} x ${height} x ${width} image`,
    );
  }
  const scale = o.scale ?? 1;
  if (!(scale >= 0 && Number.isFinite(scale)))
    throw new Error(`${api}: scale must be a finite number >= 0, got ${scale}`);
  const sigma = o.sigma ?? 0.8;
  if (!(sigma >= 0 && Number.isFinite(sigma)))
    throw new Error(`${api}: sigma must be a finite number >= 0, got ${sigma}`);
  const minSize = o.minSize ?? 20;
  if (!Number.isInteger(minSize) || minSize < 0)
    throw new Error(`${api}: minSize must be an integer >= 0, got ${minSize}`);
  const plane = height * width;
  const img = Float64Array.from(image);
  for (let i = 0; i < img.length; i++) {
    if (!Number.isFinite(img[i]))
      throw new Error(`${api}: the image has a non-finite value at index ${i}`);
  }
  if (sigma > 0) {
    const kernel = gaussianKernel(sigma);
    for (let c = 0; c < channels; c++) {
      smoothAxis(img, c * plane, height, width, width, 1, kernel); // columns
      smoothAxis(img, c * plane, width, 1, height, width, kernel); // rows
    }
  }
  const dist = (p: number, q: number): number => {
    let s = 0;
    for (let c = 0; c < channels; c++) {
      const d = img[c * plane + p] - img[c * plane + q];
      s += d * d;
    }
    return Math.sqrt(s);
  };
  // Edges in skimage's order (right, down, down-right, up-right), then sorted stably by weight.
  const a: number[] = [];
  const b: number[] = [];
  const push = (p: number, q: number) => {
    a.push(p);
    b.push(q);
  };
  for (let y = 0; y < height; y++)
    for (let x = 1; x < width; x++) push(y * width + x, y * width + x - 1);
  for (let y = 1; y < height; y++)
    for (let x = 0; x < width; x++) push(y * width + x, (y - 1) * width + x);
  for (let y = 1; y < height; y++)
    for (let x = 1; x < width; x++) push(y * width + x, (y - 1) * width + x - 1);
  for (let y = 0; y < height - 1; y++)
    for (let x = 1; x < width; x++) push(y * width + x, (y + 1) * width + x - 1);
  const m = a.length;
  const cost = Float64Array.from({ length: m }, (_, e) => dist(a[e], b[e]));
  const order = Int32Array.from({ length: m }, (_, e) => e).sort(
    (e1, e2) => cost[e1] - cost[e2] || e1 - e2,
  );
  const k = scale / 255;
  const forest = new Forest(plane);
  const size = new Int32Array(plane).fill(1);
  const internal = new Float64Array(plane);
  for (const e of order) {
    const r0 = forest.find(a[e]);
    const r1 = forest.find(b[e]);
    if (r0 === r1) continue;
    const w = cost[e];
    if (w < Math.min(internal[r0] + k / size[r0], internal[r1] + k / size[r1])) {
      const r = forest.join(r0, r1);
      size[r] = size[r0] + size[r1];
      internal[r] = w;
    }
  }
  for (const e of order) {
    const r0 = forest.find(a[e]);
    const r1 = forest.find(b[e]);
    if (r0 === r1) continue;
    if (size[r0] < minSize || size[r1] < minSize) {
      const r = forest.join(r0, r1);
      size[r] = size[r0] + size[r1];
    }
  }
  const labels = new Int32Array(plane);
  const labelOf = new Map<number, number>();
  for (let p = 0; p < plane; p++) {
    const r = forest.find(p);
    let l = labelOf.get(r);
    if (l === undefined) {
      l = labelOf.size;
      labelOf.set(r, l);
    }
    labels[p] = l;
  }
  return labels;
}
