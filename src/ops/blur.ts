/** Gaussian blurs of NCHW images: separable with any border mode, or any 2-D kernel per channel. */
import type { Tensor } from "../autodiff/tensor.ts";
import { correlationMap, gaussianBlurMap1d, gaussianKernel1d } from "../kernels/resample-maps.ts";
import { broadcastTo } from "./broadcast.ts";
import { conv2d } from "./conv.ts";
import { tensor } from "./creation.ts";
import { mapAxis } from "./map-axis.ts";
import { pad2d } from "./pad.ts";
import { reshape } from "./reshape.ts";

/** How a blur extends the image past its border (OpenCV's names). */
export type BlurBorder = "reflect101" | "reflect" | "replicate" | "zero";

/**
 * The LAM reference blur: an l x l isotropic Gaussian (std sigma + 1e-5, coordinates as the
 * reference builds them) correlated per channel with OpenCV's default reflect-101 border.
 * The kernel is the outer product of two normalised 1-D kernels, so two 1-D passes are exact.
 */
export function lamGaussianBlur(
  x: Tensor,
  sigma: number,
  size: number,
  border: BlurBorder = "reflect101",
): Tensor {
  if (x.rank !== 4) throw new Error(`lamGaussianBlur: expected [N, C, H, W], got [${x.shape}]`);
  const taps = gaussianKernel1d(sigma, size);
  const anchor = Math.floor(size / 2);
  const h = mapAxis(x, 2, correlationMap(x.shape[2], taps, anchor, border));
  return mapAxis(h, 3, correlationMap(x.shape[3], taps, anchor, border));
}

/** scipy.ndimage.gaussian_filter on H and W (truncate 4, zero border by default), as Blur IG uses. */
export function gaussianFilter(
  x: Tensor,
  sigma: number,
  o: { truncate?: number; border?: BlurBorder } = {},
): Tensor {
  if (x.rank !== 4) throw new Error(`gaussianFilter: expected [N, C, H, W], got [${x.shape}]`);
  const opts = { truncate: o.truncate ?? 4, border: o.border ?? "zero" };
  const h = mapAxis(x, 2, gaussianBlurMap1d(x.shape[2], sigma, opts));
  return mapAxis(h, 3, gaussianBlurMap1d(x.shape[3], sigma, opts));
}

/**
 * Correlates every channel with the same 2-D kernel [kh, kw] (a depthwise conv), anchored at
 * its centre (kh // 2, kw // 2) like cv2.filter2D, with the given border.
 */
export function depthwiseFilter2d(
  x: Tensor,
  kernel: Tensor,
  border: BlurBorder = "reflect101",
): Tensor {
  if (x.rank !== 4 || kernel.rank !== 2) {
    throw new Error(
      `depthwiseFilter2d: expected x [N, C, H, W] and kernel [kh, kw], got [${x.shape}] and [${kernel.shape}]`,
    );
  }
  const [kh, kw] = kernel.shape;
  const c = x.shape[1];
  const top = Math.floor(kh / 2);
  const left = Math.floor(kw / 2);
  const pads = [top, kh - 1 - top, left, kw - 1 - left] as const;
  if (border === "reflect") {
    throw new Error(
      "depthwiseFilter2d: 'reflect' (edge repeated) is not supported here; use reflect101, replicate or zero",
    );
  }
  const mode = border === "zero" ? "constant" : border === "reflect101" ? "reflect" : "replicate";
  const padded = pad2d(x, pads, mode);
  const w = broadcastTo(reshape(kernel, [1, 1, kh, kw]), [c, 1, kh, kw]);
  return conv2d(padded, w, { groups: c });
}

/** A normalised 2-D Gaussian kernel as the LAM reference builds it (for depthwiseFilter2d). */
export function lamGaussianKernel2d(sigma: number, size: number): Tensor {
  const k = gaussianKernel1d(sigma, size);
  const v = new Float32Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) v[i * size + j] = k[i] * k[j];
  return tensor(v, [size, size]);
}
