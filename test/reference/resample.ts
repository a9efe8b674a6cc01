/**
 * Float64 references of resizing and blurring, from the formulas of PyTorch (ATen
 * UpSample*.cpp), PIL (libImaging/Resample.c), OpenCV filter2D and scipy.ndimage, each written as
 * a dense 1-D weight matrix per axis (the 2-D operations are separable products) or, for the
 * 2-D filters, as a direct 2-D correlation.
 */
import { applyMatrixAlongAxis } from "./layout.ts";
import { type Nd, ravel, unravel } from "./nd.ts";

type Matrix = number[][];

function zerosMatrix(rows: number, cols: number): Matrix {
  return Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
}

/**
 * ATen nearest: src = min(floor(dst * scale), in - 1) with scale = in / out. ATen computes scale
 * and the product in float (float32), which decides the index when dst * in / out is an integer
 * in exact arithmetic, so the reference does the same with Math.fround.
 */
export function nearestMatrix(inLen: number, outLen: number): Matrix {
  const m = zerosMatrix(outLen, inLen);
  const scale = Math.fround(inLen / outLen);
  for (let o = 0; o < outLen; o++) {
    const src = inLen === outLen ? o : Math.min(Math.floor(Math.fround(o * scale)), inLen - 1);
    m[o][src] = 1;
  }
  return m;
}

/** ATen area_pixel_compute_scale (output-size form). */
function torchScale(inLen: number, outLen: number, alignCorners: boolean): number {
  if (alignCorners) return outLen > 1 ? (inLen - 1) / (outLen - 1) : 0;
  return inLen / outLen;
}

/** ATen bilinear: src = max(scale*(dst + 0.5) - 0.5, 0) (or scale*dst), taps floor(src), +1. */
export function bilinearMatrix(inLen: number, outLen: number, alignCorners: boolean): Matrix {
  const m = zerosMatrix(outLen, inLen);
  const scale = torchScale(inLen, outLen, alignCorners);
  for (let o = 0; o < outLen; o++) {
    const src = alignCorners ? scale * o : Math.max(scale * (o + 0.5) - 0.5, 0);
    const i0 = Math.floor(src);
    const i1 = i0 < inLen - 1 ? i0 + 1 : i0;
    const l1 = src - i0;
    m[o][i0] += 1 - l1;
    m[o][i1] += l1;
  }
  return m;
}

/** Keys' cubic convolution kernel with parameter a (PyTorch a = -0.75, PIL a = -0.5). */
export function keysCubic(x: number, a: number): number {
  const t = Math.abs(x);
  if (t <= 1) return (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1;
  if (t < 2) return a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a;
  return 0;
}

/**
 * ATen bicubic: src = scale*(dst + 0.5) - 0.5 (not clamped) or scale*dst; taps at floor(src) - 1
 * .. floor(src) + 2 with weights keys(t + 1), keys(t), keys(1 - t), keys(2 - t), t = src -
 * floor(src); tap indices clamped into the input.
 */
export function bicubicMatrix(inLen: number, outLen: number, alignCorners: boolean): Matrix {
  const m = zerosMatrix(outLen, inLen);
  const scale = torchScale(inLen, outLen, alignCorners);
  for (let o = 0; o < outLen; o++) {
    const src = alignCorners ? scale * o : scale * (o + 0.5) - 0.5;
    const i = Math.floor(src);
    const t = src - i;
    for (let k = -1; k <= 2; k++) {
      const tap = Math.min(Math.max(i + k, 0), inLen - 1);
      m[o][tap] += keysCubic(t - k, -0.75);
    }
  }
  return m;
}

/**
 * PIL ImagingResample (precompute_coeffs): the filter is stretched by max(in/out, 1), centred at
 * (o + 0.5) * in/out, evaluated on the input pixels from (int)(center - support + 0.5) to
 * (int)(center + support + 0.5) (clipped) and normalised to sum 1.
 */
export function pilMatrix(inLen: number, outLen: number, filter: "bicubic" | "bilinear"): Matrix {
  const m = zerosMatrix(outLen, inLen);
  const f =
    filter === "bicubic"
      ? (x: number) => keysCubic(x, -0.5)
      : (x: number) => Math.max(1 - Math.abs(x), 0);
  const support0 = filter === "bicubic" ? 2 : 1;
  const scale = inLen / outLen;
  const fs = Math.max(scale, 1);
  const support = support0 * fs;
  for (let o = 0; o < outLen; o++) {
    const center = (o + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inLen);
    let sum = 0;
    for (let x = xmin; x < xmax; x++) sum += f((x - center + 0.5) / fs);
    for (let x = xmin; x < xmax; x++) m[o][x] = f((x - center + 0.5) / fs) / (sum || 1);
  }
  return m;
}

export type ResizeMode64 =
  | "nearest"
  | "bilinear"
  | "bicubic"
  | "antialias-bicubic"
  | "antialias-bilinear";

export function resizeMatrix(
  mode: ResizeMode64,
  inLen: number,
  outLen: number,
  alignCorners: boolean,
): Matrix {
  switch (mode) {
    case "nearest":
      return nearestMatrix(inLen, outLen);
    case "bilinear":
      return bilinearMatrix(inLen, outLen, alignCorners);
    case "bicubic":
      return bicubicMatrix(inLen, outLen, alignCorners);
    case "antialias-bicubic":
      return pilMatrix(inLen, outLen, "bicubic");
    case "antialias-bilinear":
      return pilMatrix(inLen, outLen, "bilinear");
  }
}

/** Resize of [N, C, H, W] to [oh, ow]: the H matrix along axis 2, then the W matrix along 3. */
export function resizeRef(
  x: Nd,
  oh: number,
  ow: number,
  mode: ResizeMode64,
  alignCorners = false,
): Nd {
  const h = applyMatrixAlongAxis(x, 2, resizeMatrix(mode, x.shape[2], oh, alignCorners));
  return applyMatrixAlongAxis(h, 3, resizeMatrix(mode, x.shape[3], ow, alignCorners));
}

export type Border64 = "reflect101" | "reflect" | "replicate" | "zero";

/**
 * Folds index p into [0, n) by the border rule, reflecting repeatedly for far indices; -1 for
 * the zero border. reflect101 = OpenCV BORDER_REFLECT_101 (edge not repeated: -1 -> 1);
 * reflect = scipy "reflect" / OpenCV BORDER_REFLECT (edge repeated: -1 -> 0).
 */
export function foldIndex(p: number, n: number, border: Border64): number {
  if (p >= 0 && p < n) return p;
  if (border === "zero") return -1;
  if (border === "replicate") return p < 0 ? 0 : n - 1;
  if (border === "reflect101") {
    if (n === 1) return 0;
    while (p < 0 || p >= n) p = p < 0 ? -p : 2 * (n - 1) - p;
    return p;
  }
  while (p < 0 || p >= n) p = p < 0 ? -p - 1 : 2 * n - 1 - p;
  return p;
}

/**
 * cv2.filter2D per channel: out[y, x] = sum_{i, j} k[i][j] * in[fold(y + i - ay), fold(x + j -
 * ax)], anchor (ay, ax) = (kh // 2, kw // 2).
 */
export function filter2dRef(x: Nd, k: Nd, border: Border64): Nd {
  const [, , h, w] = x.shape;
  const [kh, kw] = k.shape;
  const ay = Math.floor(kh / 2);
  const ax = Math.floor(kw / 2);
  const data = new Float64Array(x.data.length);
  for (let idx = 0; idx < data.length; idx++) {
    const [n, c, y, xx] = unravel(idx, x.shape);
    let acc = 0;
    for (let i = 0; i < kh; i++) {
      const sy = foldIndex(y + i - ay, h, border);
      if (sy < 0) continue;
      for (let j = 0; j < kw; j++) {
        const sx = foldIndex(xx + j - ax, w, border);
        if (sx < 0) continue;
        acc += k.data[i * kw + j] * x.data[ravel([n, c, sy, sx], x.shape)];
      }
    }
    data[idx] = acc;
  }
  return { shape: [...x.shape], data };
}

/**
 * LAM_Demo isotropic_gaussian_kernel(l, sigma): ax = np.arange(-l // 2 + 1, l // 2 + 1) (Python
 * floor division), kernel = exp(-(xx^2 + yy^2) / (2 (sigma + 1e-5)^2)) on the meshgrid,
 * normalised to sum 1.
 */
export function lamKernel2dRef(sigma: number, l: number): Nd {
  const start = Math.floor(-l / 2) + 1;
  const s = sigma + 1e-5;
  const data = new Float64Array(l * l);
  let sum = 0;
  for (let i = 0; i < l; i++)
    for (let j = 0; j < l; j++) {
      const yy = start + i;
      const xx = start + j;
      data[i * l + j] = Math.exp(-(xx * xx + yy * yy) / (2 * s * s));
      sum += data[i * l + j];
    }
  for (let i = 0; i < data.length; i++) data[i] /= sum;
  return { shape: [l, l], data };
}

/** LAM's blur: cv2.filter2D(img, -1, isotropic_gaussian_kernel(l, sigma)) per channel. */
export function lamBlurRef(x: Nd, sigma: number, l: number, border: Border64): Nd {
  return filter2dRef(x, lamKernel2dRef(sigma, l), border);
}

/**
 * scipy.ndimage.gaussian_filter over H and W: per axis, correlate1d with exp(-x^2 / 2 sigma^2)
 * for x in [-r, r], r = int(truncate * sigma + 0.5), normalised to sum 1.
 */
export function gaussianFilterRef(x: Nd, sigma: number, truncate: number, border: Border64): Nd {
  const r = Math.trunc(truncate * sigma + 0.5);
  const taps: number[] = [];
  for (let t = -r; t <= r; t++) taps.push(r === 0 ? 1 : Math.exp((-t * t) / (2 * sigma * sigma)));
  const tsum = taps.reduce((a, b) => a + b, 0);
  const wts = taps.map((v) => v / tsum);
  const matrix = (n: number) => {
    const m = zerosMatrix(n, n);
    for (let o = 0; o < n; o++)
      for (let t = -r; t <= r; t++) {
        const src = foldIndex(o + t, n, border);
        if (src >= 0) m[o][src] += wts[t + r];
      }
    return m;
  };
  const h = applyMatrixAlongAxis(x, 2, matrix(x.shape[2]));
  return applyMatrixAlongAxis(h, 3, matrix(x.shape[3]));
}

/** A dense matrix from CSR parts (the AxisMap layout), for mapAxis. */
export function csrToDense(
  inLen: number,
  outLen: number,
  rowStart: ArrayLike<number>,
  cols: ArrayLike<number>,
  weights: ArrayLike<number>,
): Matrix {
  const m = zerosMatrix(outLen, inLen);
  for (let o = 0; o < outLen; o++)
    for (let j = rowStart[o]; j < rowStart[o + 1]; j++) m[o][cols[j]] += weights[j];
  return m;
}
