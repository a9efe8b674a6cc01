/**
 * Heatmaps and overlays as RGB bytes [H, W, 3]: a map scaled to [0, 1] through a colormap, blended
 * over the input image as (1 - alpha) image + alpha heat (alpha 0.5 by default, like Captum's
 * blended_heat_map and pytorch-grad-cam's show_cam_on_image).
 */
import { applyColormap, type ColormapName } from "./colormap.ts";
import { type ChannelReduction, reduceChannels, type ScaleOptions, scaleMap } from "./normalize.ts";

/** An RGB image as bytes [H, W, 3]. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** An image [C, H, W] with values in [0, 1] (C = 1 or 3) as RGB bytes; grey is replicated. */
export function toRgb(
  image: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
): RgbImage {
  if (channels !== 1 && channels !== 3)
    throw new Error(`toRgb: expected 1 or 3 channels, got ${channels}`);
  if (image.length !== channels * height * width) {
    throw new Error(
      `toRgb: ${image.length} values are not a ${channels} x ${height} x ${width} image`,
    );
  }
  const hw = height * width;
  const data = new Uint8Array(hw * 3);
  for (let p = 0; p < hw; p++) {
    for (let c = 0; c < 3; c++) {
      const v = image[(channels === 1 ? 0 : c) * hw + p];
      data[p * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)));
    }
  }
  return { width, height, data };
}

/** Scaling, colormap (viridis, or seismic for sign "all") and channel reduction of a heatmap. */
export interface HeatmapOptions extends ScaleOptions {
  colormap?: ColormapName;
  /** How a multi-channel map becomes one value per pixel (default "sum"). */
  reduce?: ChannelReduction;
}

/** Colours a map [C, H, W] (flat): returns the heatmap and the scale used. */
export function heatmap(
  map: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
  o: HeatmapOptions = {},
): RgbImage & { scale: number } {
  const reduced = reduceChannels(map, channels, o.reduce ?? "sum");
  if (reduced.length !== height * width) {
    throw new Error(`heatmap: ${map.length} values are not ${channels} x ${height} x ${width}`);
  }
  const sign = o.sign ?? "absolute";
  const { values, scale } = scaleMap(reduced, o);
  const cmap = o.colormap ?? (sign === "all" ? "seismic" : "viridis");
  return { width, height, data: applyColormap(values, cmap), scale };
}

/** (1 - alpha) base + alpha heat, per byte. */
export function blend(base: RgbImage, heat: RgbImage, alpha = 0.5): RgbImage {
  if (base.width !== heat.width || base.height !== heat.height) {
    throw new Error(
      `blend: the image is ${base.width} x ${base.height} but the heatmap is ${heat.width} x ${heat.height}`,
    );
  }
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`blend: alpha must be in [0, 1], got ${alpha}`);
  const data = new Uint8Array(base.data.length);
  for (let i = 0; i < data.length; i++)
    data[i] = Math.round((1 - alpha) * base.data[i] + alpha * heat.data[i]);
  return { width: base.width, height: base.height, data };
}

/** Nearest-neighbour enlargement by an integer factor (for viewing small maps). */
export function enlarge(img: RgbImage, factor: number): RgbImage {
  if (!Number.isInteger(factor) || factor < 1)
    throw new Error(`enlarge: factor must be a positive integer, got ${factor}`);
  if (factor === 1) return img;
  const width = img.width * factor;
  const height = img.height * factor;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (Math.floor(y / factor) * img.width + Math.floor(x / factor)) * 3;
      data.set(img.data.subarray(src, src + 3), (y * width + x) * 3);
    }
  }
  return { width, height, data };
}
