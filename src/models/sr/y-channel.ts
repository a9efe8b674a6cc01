/**
 * Luminance-only SR models on colour images, the standard way (Dong et al.): RGB -> YCbCr
 * (BT.601 studio range), the model on Y, bicubic upscaling of Cb and Cr, back to RGB. Every step
 * is a differentiable op, so attribution (LAM, IG) runs from the RGB input through the model.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { concat } from "../../ops/concat.ts";
import { resize } from "../../ops/resize.ts";
import { split } from "../../ops/slice.ts";
import type { Module } from "../nn/module.ts";
import { rgbToYcbcr, ycbcrToRgb } from "./ycbcr.ts";

/**
 * RGB SR from a Y-channel SR function: [N, 3, h, w] in [0, 1] -> [N, 3, scale h, scale w] (not
 * clamped, so gradients are not cut at the range's edges). `runY` maps Y [N, 1, h, w] in [0, 1]
 * to [N, 1, scale h, scale w].
 */
export function yChannelSr(runY: (y: Tensor) => Tensor, scale: number): (rgb: Tensor) => Tensor {
  if (!Number.isInteger(scale) || scale < 1) {
    throw new Error(`yChannelSr: scale must be a positive integer, got ${scale}`);
  }
  return (x) => {
    if (x.rank !== 4 || x.shape[1] !== 3) {
      throw new Error(`yChannelSr: expected an RGB image [N, 3, H, W], got [${x.shape}]`);
    }
    const [y, cbcr] = split(rgbToYcbcr(x), [1, 2], 1);
    const ySr = runY(y);
    const size: [number, number] = [x.shape[2] * scale, x.shape[3] * scale];
    if (
      ySr.rank !== 4 ||
      ySr.shape[1] !== 1 ||
      ySr.shape[2] !== size[0] ||
      ySr.shape[3] !== size[1]
    ) {
      throw new Error(
        `yChannelSr: the model turned Y [${y.shape}] into [${ySr.shape}], expected [${x.shape[0]}, 1, ${size}] (x${scale})`,
      );
    }
    return ycbcrToRgb(concat([ySr, resize(cbcr, size, { mode: "bicubic" })], 1));
  };
}

/**
 * The channels an image model reads, when the model says: a tfjs model's batch_input_shape, an
 * ONNX graph's fixed input channel dim, else the input channels of the first 4-D weight (OIHW,
 * the first conv of a zoo architecture or an ONNX graph). undefined when none of these exists.
 */
export function imageInputChannels(m: Module): number | undefined {
  // Read structurally, so this module needs neither importer.
  const declared = m as { inputChannels?: unknown; inputShapes?: unknown };
  const channels = declared.inputChannels;
  if (Array.isArray(channels) && typeof channels[0] === "number") return channels[0];
  const shapes = declared.inputShapes;
  if (Array.isArray(shapes) && Array.isArray(shapes[0]) && typeof shapes[0][1] === "number") {
    return shapes[0][1];
  }
  return m.namedParameters().find(([, p]) => p.shape.length === 4)?.[1].shape[1];
}

/**
 * An RGB SR function for `m`: `run` itself when the model reads 3 channels, the Y-channel
 * pipeline around it when it reads 1 channel.
 */
export function rgbSr(
  m: Module,
  run: (x: Tensor) => Tensor,
  scale: number,
): (rgb: Tensor) => Tensor {
  return imageInputChannels(m) === 1 ? yChannelSr(run, scale) : run;
}
