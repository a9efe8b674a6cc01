/**
 * RGB <-> YCbCr, ITU-R BT.601 studio range as MATLAB's rgb2ycbcr (Y in [16, 235] / 255), the
 * convention luminance SR models (SRCNN, FSRCNN, VDSR and the bundled fsrcnn-x2) are trained in.
 * Both directions are 1x1 convolutions, so gradients flow through them.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { conv2d } from "../../ops/conv.ts";
import { tensor } from "../../ops/creation.ts";

/** Rows Y, Cb, Cr: MATLAB rgb2ycbcr's matrix for RGB in [0, 1] giving [0, 255] values. */
const RGB_TO_YCBCR_255 = [
  [65.481, 128.553, 24.966],
  [-37.797, -74.203, 112.0],
  [112.0, -93.786, -18.214],
] as const;
const YCBCR_OFFSET_255 = [16, 128, 128] as const;

/** The forward matrix and offset for RGB in [0, 1] -> YCbCr in [0, 1] (the above / 255). */
export const RGB_TO_YCBCR: readonly (readonly number[])[] = RGB_TO_YCBCR_255.map((r) =>
  r.map((v) => v / 255),
);
export const YCBCR_OFFSET: readonly number[] = YCBCR_OFFSET_255.map((v) => v / 255);

function invert3(m: readonly (readonly number[])[]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

/** The inverse map (computed in float64): RGB = YCBCR_TO_RGB (YCbCr - YCBCR_OFFSET). */
export const YCBCR_TO_RGB: readonly (readonly number[])[] = invert3(RGB_TO_YCBCR);
const RGB_BIAS = YCBCR_TO_RGB.map((r) => -r.reduce((s, v, j) => s + v * YCBCR_OFFSET[j], 0));

/** y = M x + b per pixel, as a 1x1 convolution of [N, 3, H, W]. */
function affine3(x: Tensor, m: readonly (readonly number[])[], b: readonly number[]): Tensor {
  if (x.rank !== 4 || x.shape[1] !== 3)
    throw new Error(`expected an RGB/YCbCr image [N, 3, H, W], got [${x.shape}]`);
  return conv2d(x, tensor(m.flat(), [3, 3, 1, 1]), { bias: tensor([...b], [3]) });
}

/** RGB [N, 3, H, W] in [0, 1] -> YCbCr [N, 3, H, W] in [0, 1] (BT.601 studio range / 255). */
export function rgbToYcbcr(x: Tensor): Tensor {
  return affine3(x, RGB_TO_YCBCR, YCBCR_OFFSET);
}

/** The inverse of rgbToYcbcr. */
export function ycbcrToRgb(x: Tensor): Tensor {
  return affine3(x, YCBCR_TO_RGB, RGB_BIAS);
}
