/**
 * Boxes from a saliency map by the three threshold rules of Fong & Vedaldi's (2017) localisation
 * evaluation, with alpha tuned on a held-out split:
 * - value: pixels with value >= alpha max(map);
 * - mean: pixels with value >= alpha mean(map);
 * - energy: the fewest highest-valued pixels holding a fraction alpha of the map's total (positive) mass.
 * The box is the bounding box of the largest 8-connected component of the thresholded pixels (as
 * Simonyan et al. take the largest component of their segment), or of all of them.
 * Boxes are [x0, y0, x1, y1] in pixels, inclusive.
 */

export type ThresholdRule = "value" | "mean" | "energy";
export const THRESHOLD_RULES: readonly ThresholdRule[] = ["value", "mean", "energy"];

/** [x0, y0, x1, y1], inclusive pixel coordinates. */
export type Box = [number, number, number, number];

export interface BoxOptions {
  /** "largest" (default): the largest 8-connected component; "all": every selected pixel. */
  component?: "largest" | "all";
}

function checkMap(map: ArrayLike<number>, h: number, w: number, api: string): void {
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0))
    throw new Error(`${api}: height and width must be positive integers, got ${h} x ${w}`);
  if (map.length !== h * w)
    throw new Error(`${api}: the map has ${map.length} values, expected ${h} x ${w} = ${h * w}`);
}

/** The pixels a rule selects (1) at alpha; negative values count as 0. */
export function thresholdMap(
  map: ArrayLike<number>,
  h: number,
  w: number,
  rule: ThresholdRule,
  alpha: number,
): Uint8Array {
  checkMap(map, h, w, "thresholdMap");
  if (!THRESHOLD_RULES.includes(rule))
    throw new Error(`thresholdMap: rule must be value, mean or energy, got "${rule}"`);
  if (!Number.isFinite(alpha) || alpha < 0)
    throw new Error(`thresholdMap: alpha must be a finite number >= 0, got ${alpha}`);
  const n = h * w;
  const v = Float64Array.from(map, (x) => Math.max(x, 0));
  const out = new Uint8Array(n);
  if (rule === "energy") {
    let total = 0;
    for (const x of v) total += x;
    if (total <= 0) return out;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => v[b] - v[a] || a - b);
    let acc = 0;
    for (const i of order) {
      if (acc >= alpha * total || v[i] <= 0) break;
      out[i] = 1;
      acc += v[i];
    }
    return out;
  }
  let ref = 0;
  if (rule === "value") for (const x of v) ref = Math.max(ref, x);
  else {
    for (const x of v) ref += x;
    ref /= n;
  }
  if (ref <= 0) return out;
  for (let i = 0; i < n; i++) out[i] = v[i] >= alpha * ref && v[i] > 0 ? 1 : 0;
  return out;
}

/** 8-connected component labels (0 = background, 1.. = components) and their sizes. */
export function components(
  mask: ArrayLike<number>,
  h: number,
  w: number,
): { labels: Int32Array; sizes: number[] } {
  checkMap(mask, h, w, "components");
  const labels = new Int32Array(h * w);
  const sizes: number[] = [0];
  const stack: number[] = [];
  for (let start = 0; start < h * w; start++) {
    if (!mask[start] || labels[start]) continue;
    const id = sizes.length;
    let size = 0;
    labels[start] = id;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop() as number;
      size++;
      const y = Math.floor(p / w);
      const x = p % w;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          const q = yy * w + xx;
          if (mask[q] && !labels[q]) {
            labels[q] = id;
            stack.push(q);
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

/** The bounding box of a binary mask (largest component or all pixels); null when empty. */
export function maskBox(
  mask: ArrayLike<number>,
  h: number,
  w: number,
  o: BoxOptions = {},
): Box | null {
  let keep: (i: number) => boolean = (i) => mask[i] > 0;
  if ((o.component ?? "largest") === "largest") {
    const { labels, sizes } = components(mask, h, w);
    if (sizes.length < 2) return null;
    let best = 1;
    for (let k = 2; k < sizes.length; k++) if (sizes[k] > sizes[best]) best = k;
    keep = (i) => labels[i] === best;
  }
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!keep(y * w + x)) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  }
  return x1 < 0 ? null : [x0, y0, x1, y1];
}

/** The box a threshold rule gives at alpha (null when nothing is selected). */
export function thresholdBox(
  map: ArrayLike<number>,
  h: number,
  w: number,
  rule: ThresholdRule,
  alpha: number,
  o: BoxOptions = {},
): Box | null {
  return maskBox(thresholdMap(map, h, w, rule, alpha), h, w, o);
}

/** Intersection over union of two inclusive pixel boxes. */
export function boxIoU(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]) + 1;
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]) + 1;
  const inter = iw > 0 && ih > 0 ? iw * ih : 0;
  const area = (r: Box) => (r[2] - r[0] + 1) * (r[3] - r[1] + 1);
  return inter / (area(a) + area(b) - inter);
}

/**
 * Localisation error (ILSVRC style): the fraction of predictions whose box overlaps none of its
 * ground-truth boxes with IoU >= `minIoU` (default 0.5); a missing box is an error.
 */
export function localisationError(
  predicted: readonly (Box | null)[],
  truth: readonly (readonly Box[])[],
  minIoU = 0.5,
): number {
  if (predicted.length !== truth.length)
    throw new Error(
      `localisationError: ${predicted.length} predictions but ${truth.length} ground-truth entries`,
    );
  if (predicted.length === 0) throw new Error("localisationError: no predictions");
  let wrong = 0;
  predicted.forEach((p, i) => {
    if (!p || !truth[i].some((t) => boxIoU(p, t) >= minIoU)) wrong++;
  });
  return wrong / predicted.length;
}

/** Default alpha grids: 0 to 1 in steps of 0.05 (value, energy) and 0 to 5 in steps of 0.25 (mean). */
export function alphaGrid(rule: ThresholdRule): number[] {
  if (rule === "mean") return Array.from({ length: 21 }, (_, i) => i * 0.25);
  return Array.from({ length: 21 }, (_, i) => Math.round(i * 5) / 100);
}

export interface HeldOutMap {
  map: ArrayLike<number>;
  height: number;
  width: number;
  boxes: readonly Box[];
}

/**
 * The alpha with the lowest localisation error on held-out maps (ties: the first), and that error.
 */
export function tuneAlpha(
  examples: readonly HeldOutMap[],
  rule: ThresholdRule,
  alphas: readonly number[] = alphaGrid(rule),
  o: BoxOptions = {},
): { alpha: number; error: number } {
  if (examples.length === 0) throw new Error("tuneAlpha: no held-out examples");
  let best = { alpha: alphas[0], error: Infinity };
  for (const a of alphas) {
    const err = localisationError(
      examples.map((e) => thresholdBox(e.map, e.height, e.width, rule, a, o)),
      examples.map((e) => e.boxes),
    );
    if (err < best.error) best = { alpha: a, error: err };
  }
  return best;
}
