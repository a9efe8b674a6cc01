/**
 * Builders of AxisMaps: the 1-D linear maps behind resizing, separable blurs and adaptive average
 * pooling. A 2-D operation is the map applied along H, then the (other) map along W; every
 * reference here (PyTorch upsampling, PIL resampling, scipy/OpenCV filtering with a product
 * kernel) is separable in exactly this way, so matching each 1-D map matches the 2-D result.
 */
import type { AxisMap } from "./sparse-map.ts";

export type BorderMode = "reflect101" | "reflect" | "replicate" | "zero";
export type AntialiasFilter = "bicubic" | "bilinear" | "box" | "lanczos" | "hamming";

const f32 = Math.fround;

function checkLength(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) {
    throw new Error(`${fn}: ${name} must be a positive integer, got ${v}`);
  }
}

function checkFinite(fn: string, name: string, v: number, min: number): void {
  if (!Number.isFinite(v) || v < min) {
    throw new Error(`${fn}: ${name} must be a finite number >= ${min}, got ${v}`);
  }
}

/**
 * Accumulates one row at a time into a dense scratch line, so repeated columns (clamped taps,
 * folded borders) merge and each CSR row comes out with unique, ascending columns.
 */
class RowBuilder {
  private readonly acc: Float64Array;
  private readonly used: Uint8Array;
  private touched: number[] = [];
  private readonly rowStart: Int32Array;
  private cols: number[] = [];
  private weights: number[] = [];
  private row = 0;

  constructor(
    private readonly inLength: number,
    private readonly outLength: number,
  ) {
    this.acc = new Float64Array(inLength);
    this.used = new Uint8Array(inLength);
    this.rowStart = new Int32Array(outLength + 1);
  }

  /** Zero weights are skipped: they only cost work when the map is applied. */
  add(col: number, w: number): void {
    if (w === 0) return;
    if (!this.used[col]) {
      this.used[col] = 1;
      this.touched.push(col);
    }
    this.acc[col] += w;
  }

  endRow(): void {
    const t = this.touched;
    if (t.length > 1) t.sort((a, b) => a - b);
    for (const c of t) {
      this.cols.push(c);
      this.weights.push(this.acc[c]);
      this.acc[c] = 0;
      this.used[c] = 0;
    }
    this.touched = [];
    this.rowStart[++this.row] = this.cols.length;
  }

  finish(): AxisMap {
    if (this.row !== this.outLength) {
      throw new Error(`RowBuilder: built ${this.row} rows, expected ${this.outLength}`);
    }
    return {
      inLength: this.inLength,
      outLength: this.outLength,
      rowStart: this.rowStart,
      cols: Int32Array.from(this.cols),
      weights: Float32Array.from(this.weights),
    };
  }
}

/**
 * PyTorch `F.interpolate(mode="nearest")` with an output size: src = min(floor(dst * s), in - 1)
 * where s = in / out and the product are float32, exactly as ATen computes them (the rounding of
 * the float32 product decides the index for ratios such as 3 -> 7).
 */
export function nearestMap(inLen: number, outLen: number): AxisMap {
  checkLength("nearestMap", "inLen", inLen);
  checkLength("nearestMap", "outLen", outLen);
  const scale = f32(inLen / outLen);
  const b = new RowBuilder(inLen, outLen);
  for (let o = 0; o < outLen; o++) {
    b.add(Math.min(Math.floor(f32(o * scale)), inLen - 1), 1);
    b.endRow();
  }
  return b.finish();
}

/** ATen's area_pixel_compute_scale, in float32. */
function torchScale(inLen: number, outLen: number, alignCorners: boolean): number {
  if (alignCorners) return outLen > 1 ? f32((inLen - 1) / (outLen - 1)) : 0;
  return f32(inLen / outLen);
}

/** ATen's area_pixel_compute_source_index, in float32 (cubic: no clamp at 0). */
function torchSource(scale: number, o: number, alignCorners: boolean, cubic: boolean): number {
  if (alignCorners) return f32(scale * o);
  const src = f32(f32(scale * (o + 0.5)) - 0.5);
  return !cubic && src < 0 ? 0 : src;
}

/** PyTorch `F.interpolate(mode="bilinear" | "linear", align_corners)` along one axis. */
export function bilinearMap(inLen: number, outLen: number, alignCorners = false): AxisMap {
  checkLength("bilinearMap", "inLen", inLen);
  checkLength("bilinearMap", "outLen", outLen);
  const b = new RowBuilder(inLen, outLen);
  const scale = torchScale(inLen, outLen, alignCorners);
  for (let o = 0; o < outLen; o++) {
    if (inLen === outLen) {
      b.add(o, 1);
    } else {
      const src = torchSource(scale, o, alignCorners, false);
      const i0 = Math.trunc(src);
      const i1 = i0 < inLen - 1 ? i0 + 1 : i0;
      const l1 = Math.min(Math.max(f32(src - i0), 0), 1);
      b.add(i0, f32(1 - l1));
      b.add(i1, l1);
    }
    b.endRow();
  }
  return b.finish();
}

/** Keys' cubic convolution with PyTorch's A = -0.75, for |x| <= 1 and 1 < |x| < 2. */
const TORCH_A = -0.75;
const cubic1 = (x: number, a: number) => ((a + 2) * x - (a + 3)) * x * x + 1;
const cubic2 = (x: number, a: number) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;

/**
 * PyTorch `F.interpolate(mode="bicubic", align_corners)` along one axis: four taps at
 * floor(src) - 1 .. floor(src) + 2 with the tap *indices* clamped to the input (src itself is not
 * clamped, unlike bilinear), no antialiasing.
 */
export function bicubicMap(inLen: number, outLen: number, alignCorners = false): AxisMap {
  checkLength("bicubicMap", "inLen", inLen);
  checkLength("bicubicMap", "outLen", outLen);
  const b = new RowBuilder(inLen, outLen);
  const scale = torchScale(inLen, outLen, alignCorners);
  for (let o = 0; o < outLen; o++) {
    const src = torchSource(scale, o, alignCorners, true);
    const i = Math.floor(src);
    const t = f32(src - i);
    const w = [
      cubic2(t + 1, TORCH_A),
      cubic1(t, TORCH_A),
      cubic1(1 - t, TORCH_A),
      cubic2(2 - t, TORCH_A),
    ];
    for (let j = 0; j < 4; j++) b.add(Math.min(Math.max(i - 1 + j, 0), inLen - 1), w[j]);
    b.endRow();
  }
  return b.finish();
}

// PIL's filters (libImaging/Resample.c), each with its support in input pixels at scale 1.
const sinc = (x: number) => {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
};
const PIL_FILTERS: Record<AntialiasFilter, { f: (x: number) => number; support: number }> = {
  box: { f: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0), support: 0.5 },
  bilinear: { f: (x) => Math.max(1 - Math.abs(x), 0), support: 1 },
  hamming: {
    f: (x) => {
      x = Math.abs(x);
      if (x === 0) return 1;
      if (x >= 1) return 0;
      const px = x * Math.PI;
      // PIL writes the constants as C floats: 0.54f and 0.46f.
      return (Math.sin(px) / px) * (f32(0.54) + f32(0.46) * Math.cos(px));
    },
    support: 1,
  },
  // PIL's bicubic uses a = -0.5 (PyTorch's upsampling uses -0.75).
  bicubic: {
    f: (x) => {
      x = Math.abs(x);
      if (x < 1) return cubic1(x, -0.5);
      if (x < 2) return cubic2(x, -0.5);
      return 0;
    },
    support: 2,
  },
  lanczos: { f: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0), support: 3 },
};

/**
 * PIL `Image.resize(..., filter)` along one axis (ImagingResample's precompute_coeffs, whole-image
 * box): the filter is stretched by the downscale factor, so downscaling is antialiased. Weights
 * are computed in double and normalised to sum 1, which is what PIL applies to "F" images; "L"
 * images additionally round coefficients to fixed point and the result to uint8 after each pass.
 */
export function antialiasResizeMap(
  inLen: number,
  outLen: number,
  filter: AntialiasFilter,
): AxisMap {
  checkLength("antialiasResizeMap", "inLen", inLen);
  checkLength("antialiasResizeMap", "outLen", outLen);
  const flt = Object.hasOwn(PIL_FILTERS, filter) ? PIL_FILTERS[filter] : undefined;
  if (!flt) {
    throw new Error(
      `antialiasResizeMap: filter must be one of ${Object.keys(PIL_FILTERS).join(", ")}, got ${filter}`,
    );
  }
  const scale = inLen / outLen;
  const filterScale = Math.max(scale, 1);
  const support = flt.support * filterScale;
  const ss = 1 / filterScale;
  const b = new RowBuilder(inLen, outLen);
  const w: number[] = [];
  for (let o = 0; o < outLen; o++) {
    const center = (o + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inLen);
    w.length = 0;
    let sum = 0;
    for (let x = xmin; x < xmax; x++) {
      const v = flt.f((x - center + 0.5) * ss);
      w.push(v);
      sum += v;
    }
    for (let x = xmin; x < xmax; x++) b.add(x, sum !== 0 ? w[x - xmin] / sum : w[x - xmin]);
    b.endRow();
  }
  return b.finish();
}

/**
 * The 1-D factor of LAM's `isotropic_gaussian_kernel(l, sigma, epsilon=1e-5)`
 * (X-Lowlevel-Vision/LAM_Demo): coordinates np.arange(-l // 2 + 1, l // 2 + 1) with Python's floor
 * division (l = 9: -4..4; l = 4: -1..2, so even sizes are asymmetric), std = sigma + 1e-5,
 * normalised to sum 1.
 *
 * The reference's 2-D kernel is exactly outer(k, k) of this kernel: exp(-(x^2 + y^2) / 2s^2)
 * factors into exp(-x^2 / 2s^2) * exp(-y^2 / 2s^2) on the meshgrid, and the sum over the grid of
 * a product is the product of the two 1-D sums, so normalising the product equals multiplying
 * the normalised factors.
 *
 * LAM applies it with cv2.filter2D's default anchor, index floor(l / 2) (see opencvAnchor), not
 * the index of coordinate 0: for even l those differ by one pixel (l = 4: anchor 2, coordinate 0
 * at index 1), so the reference's blur shifts the image by one pixel towards +x/+y.
 */
export function gaussianKernel1d(sigma: number, size: number): Float64Array {
  checkFinite("gaussianKernel1d", "sigma", sigma, 0);
  checkLength("gaussianKernel1d", "size", size);
  const std = sigma + 1e-5;
  const first = Math.floor(-size / 2) + 1;
  const k = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = first + i;
    k[i] = Math.exp(-(x * x) / (2 * std * std));
    sum += k[i];
  }
  for (let i = 0; i < size; i++) k[i] /= sum;
  return k;
}

/** cv2.filter2D's default anchor (-1 = kernel centre) for a kernel of `ksize` taps: ksize // 2. */
export function opencvAnchor(ksize: number): number {
  checkLength("opencvAnchor", "ksize", ksize);
  return ksize >> 1;
}

const BORDERS: readonly BorderMode[] = ["reflect101", "reflect", "replicate", "zero"];

/**
 * Folds an out-of-range index back into [0, len) (or -1 for the zero border). Reflection repeats
 * for any distance (periodic with period 2(len - 1) or 2 len), as OpenCV's borderInterpolate and
 * np.pad do, so kernels longer than the axis work.
 */
function fold(p: number, len: number, border: BorderMode): number {
  if (p >= 0 && p < len) return p;
  switch (border) {
    case "zero":
      return -1;
    case "replicate":
      return p < 0 ? 0 : len - 1;
    case "reflect101": {
      if (len === 1) return 0;
      const period = 2 * (len - 1);
      const m = ((p % period) + period) % period;
      return m < len ? m : period - m;
    }
    case "reflect": {
      const period = 2 * len;
      const m = ((p % period) + period) % period;
      return m < len ? m : period - 1 - m;
    }
  }
}

/**
 * Same-size 1-D correlation out[o] = sum_t taps[t] * in[o + t - anchor], out-of-range inputs
 * folded by `border`: reflect101 = OpenCV BORDER_REFLECT_101 = np.pad "reflect" = scipy "mirror"
 * (edge not repeated); reflect = np.pad "symmetric" = scipy "reflect" (edge repeated);
 * replicate = edge; zero = dropped (scipy "constant" with cval 0).
 */
export function correlationMap(
  len: number,
  taps: ArrayLike<number>,
  anchor: number,
  border: BorderMode,
): AxisMap {
  checkLength("correlationMap", "len", len);
  if (taps.length < 1) throw new Error("correlationMap: taps must not be empty");
  for (let t = 0; t < taps.length; t++) {
    if (!Number.isFinite(taps[t])) {
      throw new Error(`correlationMap: taps[${t}] must be finite, got ${taps[t]}`);
    }
  }
  if (!Number.isInteger(anchor) || anchor < 0 || anchor >= taps.length) {
    throw new Error(
      `correlationMap: anchor must be an integer in [0, ${taps.length - 1}], got ${anchor}`,
    );
  }
  if (!BORDERS.includes(border)) {
    throw new Error(`correlationMap: border must be one of ${BORDERS.join(", ")}, got ${border}`);
  }
  const b = new RowBuilder(len, len);
  for (let o = 0; o < len; o++) {
    for (let t = 0; t < taps.length; t++) {
      const c = fold(o + t - anchor, len, border);
      if (c >= 0) b.add(c, taps[t]);
    }
    b.endRow();
  }
  return b.finish();
}

/**
 * scipy.ndimage.gaussian_filter1d (order 0): radius = int(truncate * sigma + 0.5), weights
 * exp(-x^2 / 2 sigma^2) normalised to sum 1. sigma = 0 is the identity (gaussian_filter skips
 * such axes). Blur IG (PAIR) blurs with mode "constant", i.e. border "zero".
 */
export function gaussianBlurMap1d(
  len: number,
  sigma: number,
  options: { truncate?: number; border?: BorderMode } = {},
): AxisMap {
  const { truncate = 4, border = "zero" } = options;
  checkLength("gaussianBlurMap1d", "len", len);
  checkFinite("gaussianBlurMap1d", "sigma", sigma, 0);
  checkFinite("gaussianBlurMap1d", "truncate", truncate, 0);
  const radius = Math.trunc(truncate * sigma + 0.5);
  // A zero radius leaves the single tap exp(0) = 1 (also sigma = 0, which scipy skips and whose
  // formula would be 0 / 0).
  if (radius === 0) return correlationMap(len, [1], 0, border);
  const taps = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = 0; i < taps.length; i++) {
    const x = i - radius;
    taps[i] = Math.exp((-0.5 / (sigma * sigma)) * x * x);
    sum += taps[i];
  }
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return correlationMap(len, taps, radius, border);
}

/**
 * PyTorch AdaptiveAvgPool along one axis: window [floor(i in / out), ceil((i + 1) in / out)),
 * each weight 1 / window length. Works for out > in too (windows overlap).
 */
export function adaptiveAvgPoolMap(inLen: number, outLen: number): AxisMap {
  checkLength("adaptiveAvgPoolMap", "inLen", inLen);
  checkLength("adaptiveAvgPoolMap", "outLen", outLen);
  const b = new RowBuilder(inLen, outLen);
  for (let o = 0; o < outLen; o++) {
    const start = Math.floor((o * inLen) / outLen);
    const end = Math.ceil(((o + 1) * inLen) / outLen);
    for (let i = start; i < end; i++) b.add(i, 1 / (end - start));
    b.endRow();
  }
  return b.finish();
}

/**
 * The adjoint map (CSR of the transpose). Given rows with unique columns (every builder here
 * guarantees that), the transposed rows come out with ascending unique columns.
 */
export function transposeAxisMap(map: AxisMap): AxisMap {
  const { inLength, outLength, rowStart, cols, weights } = map;
  if (rowStart.length !== outLength + 1 || rowStart[outLength] !== cols.length) {
    throw new Error(
      `transposeAxisMap: malformed map (rowStart length ${rowStart.length}, expected ${outLength + 1}; ` +
        `${cols.length} cols, rowStart ends at ${rowStart[outLength]})`,
    );
  }
  const nnz = cols.length;
  const tStart = new Int32Array(inLength + 1);
  for (let j = 0; j < nnz; j++) {
    const c = cols[j];
    if (!(c >= 0 && c < inLength)) {
      throw new Error(`transposeAxisMap: column ${c} out of range [0, ${inLength})`);
    }
    tStart[c + 1]++;
  }
  for (let i = 0; i < inLength; i++) tStart[i + 1] += tStart[i];
  const next = tStart.slice(0, inLength);
  const tCols = new Int32Array(nnz);
  const tWeights = new Float32Array(nnz);
  // Visiting rows in order fills each transposed row with ascending columns; columns within one
  // original row are unique, so transposed rows are unique too.
  for (let o = 0; o < outLength; o++) {
    for (let j = rowStart[o]; j < rowStart[o + 1]; j++) {
      const k = next[cols[j]]++;
      tCols[k] = o;
      tWeights[k] = weights[j];
    }
  }
  return {
    inLength: outLength,
    outLength: inLength,
    rowStart: tStart,
    cols: tCols,
    weights: tWeights,
  };
}
