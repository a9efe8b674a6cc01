/**
 * Colour super-resolution with a luminance-only FSRCNN, the standard way (Dong et al.): convert
 * RGB to YCbCr (ITU-R BT.601 studio range as MATLAB's rgb2ycbcr, the convention the bundled
 * FSRCNN was trained in: Y in [16, 235] / 255), run FSRCNN on Y, upscale Cb and Cr with bicubic
 * interpolation, and convert back to RGB. Every step is a differentiable salient op (two 1x1
 * convolutions, a split, a resize and a concat), so attribution (LAM) runs through the whole
 * pipeline from the RGB input.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { yChannelSr } from "../sr/y-channel.ts";
import type { Fsrcnn } from "./fsrcnn.ts";

export {
  RGB_TO_YCBCR,
  rgbToYcbcr,
  YCBCR_OFFSET,
  YCBCR_TO_RGB,
  ycbcrToRgb,
} from "../sr/ycbcr.ts";

/**
 * An RGB super-resolution function from a luminance FSRCNN: [N, 3, h, w] in [0, 1] ->
 * [N, 3, s h, s w] (not clamped, so gradients are not cut at the range's edges).
 */
export function fsrcnnRgb(model: Fsrcnn): (x: Tensor) => Tensor {
  return yChannelSr((y) => model.call(y), model.scale);
}
