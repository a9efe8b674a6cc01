/**
 * XRAI's candidate regions (PAIR saliency's _get_segments_felzenszwalb): the image is min-max
 * normalised into [-1, 1], resized to 224 x 224, segmented by Felzenszwalb at scales 50, 100, 150,
 * 250, 500 and 1200 (sigma 0.8, min size 150), each segmentation resized back with nearest
 * neighbours, and every segment of every scale becomes one region, dilated by a disk of radius 5.
 * PAIR resizes with skimage's cubic spline; this uses bilinear interpolation (half-pixel centres).
 */
import { felzenszwalbSegments } from "./felzenszwalb.ts";

/** How XRAI's candidate regions are made; defaults are PAIR saliency's. */
export interface XraiRegionOptions {
  /** Felzenszwalb scales, one segmentation each (default PAIR's 50, 100, 150, 250, 500, 1200). */
  scales?: readonly number[];
  /** Felzenszwalb smoothing (default 0.8). */
  sigma?: number;
  /** Felzenszwalb min segment size, in pixels of the resized image (default 150). */
  minSize?: number;
  /** Side of the square the image is resized to for segmenting (default 224; 0 keeps the size). */
  resizeTo?: number;
  /** Radius of the disk each region is dilated by (default 5; 0 skips it). */
  dilation?: number;
}

export const PAIR_FELZENSZWALB_SCALES: readonly number[] = [50, 100, 150, 250, 500, 1200];

/** Bilinear resize of a [C, H, W] image (half-pixel centres, edge clamped). */
function resizeBilinear(
  v: Float64Array,
  c: number,
  h: number,
  w: number,
  oh: number,
  ow: number,
): Float64Array {
  const out = new Float64Array(c * oh * ow);
  const axis = (inLen: number, outLen: number, o: number): [number, number, number] => {
    const s = Math.min(Math.max((o + 0.5) * (inLen / outLen) - 0.5, 0), inLen - 1);
    const i0 = Math.floor(s);
    return [i0, Math.min(i0 + 1, inLen - 1), s - i0];
  };
  for (let y = 0; y < oh; y++) {
    const [y0, y1, fy] = axis(h, oh, y);
    for (let x = 0; x < ow; x++) {
      const [x0, x1, fx] = axis(w, ow, x);
      for (let ch = 0; ch < c; ch++) {
        const p = ch * h * w;
        const top = v[p + y0 * w + x0] * (1 - fx) + v[p + y0 * w + x1] * fx;
        const bottom = v[p + y1 * w + x0] * (1 - fx) + v[p + y1 * w + x1] * fx;
        out[(ch * oh + y) * ow + x] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}

/** Nearest-neighbour resize of a label map [H, W] to [oh, ow]. */
function resizeLabels(l: Int32Array, h: number, w: number, oh: number, ow: number): Int32Array {
  const out = new Int32Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(Math.floor((y + 0.5) * (h / oh)), h - 1);
    for (let x = 0; x < ow; x++) {
      out[y * ow + x] = l[sy * w + Math.min(Math.floor((x + 0.5) * (w / ow)), w - 1)];
    }
  }
  return out;
}

/** The pixels of a region dilated by a disk of radius r (x^2 + y^2 <= r^2), sorted. */
export function dilateRegion(
  pixels: Int32Array,
  height: number,
  width: number,
  r: number,
): Int32Array {
  if (r <= 0) return pixels;
  const hit = new Uint8Array(height * width);
  for (const p of pixels) {
    const py = Math.floor(p / width);
    const px = p - py * width;
    for (let dy = -r; dy <= r; dy++) {
      const y = py + dy;
      if (y < 0 || y >= height) continue;
      for (let dx = -r; dx <= r; dx++) {
        const x = px + dx;
        if (x < 0 || x >= width || dx * dx + dy * dy > r * r) continue;
        hit[y * width + x] = 1;
      }
    }
  }
  const out: number[] = [];
  for (let p = 0; p < hit.length; p++) if (hit[p]) out.push(p);
  return Int32Array.from(out);
}

/** Each label of a label map as the sorted pixel list of one region, labels in increasing order. */
export function labelRegions(labels: Int32Array): Int32Array[] {
  let max = -1;
  for (const l of labels) max = Math.max(max, l);
  const lists: number[][] = Array.from({ length: max + 1 }, () => []);
  labels.forEach((l, p) => {
    lists[l].push(p);
  });
  return lists.filter((l) => l.length > 0).map((l) => Int32Array.from(l));
}

/** XRAI's candidate regions of an image [C, H, W], as sorted pixel-index lists. */
export function xraiRegions(
  image: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
  o: XraiRegionOptions = {},
): Int32Array[] {
  const api = "xraiRegions";
  if (image.length !== channels * height * width) {
    throw new Error(
      `${api}: ${image.length} values do not make a ${channels} x ${height} x ${width} image`,
    );
  }
  const scales = o.scales ?? PAIR_FELZENSZWALB_SCALES;
  if (scales.length === 0) throw new Error(`${api}: scales must list at least one scale`);
  const side = o.resizeTo ?? 224;
  if (!Number.isInteger(side) || side < 0)
    throw new Error(`${api}: resizeTo must be an integer >= 0, got ${side}`);
  const dilation = o.dilation ?? 5;
  if (!Number.isInteger(dilation) || dilation < 0)
    throw new Error(`${api}: dilation must be an integer >= 0, got ${dilation}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < image.length; i++) {
    lo = Math.min(lo, image[i]);
    hi = Math.max(hi, image[i]);
  }
  // Into [-1, 1]; a constant image (PAIR divides by zero there) becomes all zeros.
  const span = hi - lo;
  let v: Float64Array = Float64Array.from(image, (p) => (span > 0 ? ((p - lo) / span) * 2 - 1 : 0));
  const sh = side || height;
  const sw = side || width;
  if (sh !== height || sw !== width) v = resizeBilinear(v, channels, height, width, sh, sw);
  const regions: Int32Array[] = [];
  for (const scale of scales) {
    let labels = felzenszwalbSegments(v, channels, sh, sw, {
      scale,
      sigma: o.sigma ?? 0.8,
      minSize: o.minSize ?? 150,
    });
    if (sh !== height || sw !== width) labels = resizeLabels(labels, sh, sw, height, width);
    for (const r of labelRegions(labels)) regions.push(dilateRegion(r, height, width, dilation));
  }
  return regions;
}
