/**
 * Tensors to and from the browser's image types: ImageData, 2D canvases (HTMLCanvasElement or
 * OffscreenCanvas) and ImageBitmap. Pixels are bytes 0-255; tensors hold byte / 255 * range, so
 * [0, 1] by default and [0, 255] with range 255 (the UpscalerJS models). Only the structure of
 * ImageData ({data, width, height}) is relied on, so the conversions also run in Node.
 */
import type { Tensor } from "../autodiff/tensor.ts";
import { tensor } from "../ops/creation.ts";
import { blend, type HeatmapOptions, heatmap, type RgbImage, toRgb } from "./overlay.ts";

/** What ImageData holds: RGBA bytes, row by row, 4 per pixel. A plain object works in Node. */
export interface ImageDataLike {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray | Uint8Array;
}

/** The memory order of a tensor's image axes. */
export type ImageLayout = "CHW" | "HWC";

/** How image bytes become a tensor: channels, layout and value range. */
export interface FromImageOptions {
  /**
   * 3 (default): RGB; 1: grey as ITU-R 601 luma (PIL's "L", the same as readImage in Node);
   * 4: RGBA.
   */
  channels?: 1 | 3 | 4;
  /** "CHW" (default) gives [1, C, H, W]; "HWC" gives [1, H, W, C]. */
  layout?: ImageLayout;
  /** The tensor value of a full-intensity byte (255): 1 (default) for [0, 1] models, 255 for [0, 255]. */
  range?: number;
}

/** How a tensor becomes image bytes: layout and value range. */
export interface ToImageOptions {
  /** The layout of the tensor's image axes (default "CHW"). */
  layout?: ImageLayout;
  /** The tensor value shown as full intensity (default 1); values outside [0, range] are clipped. */
  range?: number;
}

function checkRange(fn: string, range: number): void {
  if (!(range > 0 && Number.isFinite(range)))
    throw new Error(`${fn}: range must be a positive number, got ${range}`);
}

function checkImageData(fn: string, img: ImageDataLike): void {
  const { width, height, data } = img;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`${fn}: the image is ${width} x ${height}; expected positive integer sizes`);
  }
  if (data?.length !== width * height * 4) {
    throw new Error(
      `${fn}: ${data?.length} bytes do not make a ${width} x ${height} RGBA image (expected ${width * height * 4})`,
    );
  }
}

/** An ImageData when the platform has one (browsers, Deno), else a plain {data, width, height}. */
function makeImageData(data: Uint8ClampedArray, width: number, height: number): ImageDataLike {
  const Ctor = (globalThis as { ImageData?: typeof ImageData }).ImageData;
  return Ctor
    ? new Ctor(data as Uint8ClampedArray<ArrayBuffer>, width, height)
    : { data, width, height };
}

/** An image's RGBA bytes as a tensor [1, C, H, W] (or [1, H, W, C]) of byte / 255 * range. */
export function fromImageData(img: ImageDataLike, o: FromImageOptions = {}): Tensor {
  checkImageData("fromImageData", img);
  const channels = o.channels ?? 3;
  const layout = o.layout ?? "CHW";
  const range = o.range ?? 1;
  if (channels !== 1 && channels !== 3 && channels !== 4)
    throw new Error(`fromImageData: channels must be 1, 3 or 4, got ${channels}`);
  if (layout !== "CHW" && layout !== "HWC")
    throw new Error(`fromImageData: layout must be "CHW" or "HWC", got "${layout}"`);
  checkRange("fromImageData", range);
  const { width, height, data } = img;
  const hw = width * height;
  const out = new Float32Array(channels * hw);
  const k = range / 255;
  // Element (c, p) sits at c * hw + p (CHW) or p * channels + c (HWC).
  const cStride = layout === "CHW" ? hw : 1;
  const pStride = layout === "CHW" ? 1 : channels;
  for (let p = 0; p < hw; p++) {
    if (channels === 1) {
      const luma = Math.floor(
        (data[p * 4] * 299 + data[p * 4 + 1] * 587 + data[p * 4 + 2] * 114) / 1000,
      );
      out[p] = luma * k;
    } else {
      for (let c = 0; c < channels; c++) out[c * cStride + p * pStride] = data[p * 4 + c] * k;
    }
  }
  const shape = layout === "CHW" ? [1, channels, height, width] : [1, height, width, channels];
  return tensor(out, shape);
}

/** Channels, height and width of an image tensor [C, H, W] or [1, C, H, W] (or HWC). */
function imageDims(fn: string, shape: readonly number[], layout: ImageLayout) {
  const dims = shape.length === 4 && shape[0] === 1 ? shape.slice(1) : shape;
  if (dims.length !== 3) {
    throw new Error(
      `${fn}: expected an image tensor [1, C, H, W] or [C, H, W] (${layout}), got [${shape}]; take one image of a batch with slice first`,
    );
  }
  const [c, h, w] = layout === "CHW" ? dims : [dims[2], dims[0], dims[1]];
  if (c !== 1 && c !== 3 && c !== 4) {
    throw new Error(
      `${fn}: an image needs 1, 3 or 4 channels, got ${c} (shape [${shape}], layout ${layout})`,
    );
  }
  return { c, h, w };
}

/**
 * An image tensor as RGBA bytes: value / range * 255, rounded and clipped to 0-255; grey is
 * replicated, alpha is 255 unless the tensor has a fourth channel. Async: GPU tensors read back.
 */
export async function toImageData(t: Tensor, o: ToImageOptions = {}): Promise<ImageDataLike> {
  const layout = o.layout ?? "CHW";
  const range = o.range ?? 1;
  checkRange("toImageData", range);
  const { c, h, w } = imageDims("toImageData", t.shape, layout);
  const values = await t.data();
  const hw = h * w;
  const cStride = layout === "CHW" ? hw : 1;
  const pStride = layout === "CHW" ? 1 : c;
  const bytes = new Uint8ClampedArray(hw * 4);
  for (let p = 0; p < hw; p++) {
    for (let ch = 0; ch < 4; ch++) {
      const src = c === 1 ? (ch < 3 ? 0 : -1) : ch < c ? ch : -1;
      // Rounded half up like toRgb (the clamped array alone would round half to even).
      const v = src < 0 ? 255 : Math.round((values[src * cStride + p * pStride] / range) * 255);
      bytes[p * 4 + ch] = Number.isNaN(v) ? 0 : v;
    }
  }
  return makeImageData(bytes, w, h);
}

/** RGB bytes [H, W, 3] (as the overlay and gallery functions make them) as opaque RGBA. */
export function rgbToImageData(img: RgbImage): ImageDataLike {
  const n = img.width * img.height;
  if (img.data.length !== n * 3) {
    throw new Error(
      `rgbToImageData: ${img.data.length} bytes do not make a ${img.width} x ${img.height} RGB image`,
    );
  }
  const bytes = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    bytes[p * 4] = img.data[p * 3];
    bytes[p * 4 + 1] = img.data[p * 3 + 1];
    bytes[p * 4 + 2] = img.data[p * 3 + 2];
    bytes[p * 4 + 3] = 255;
  }
  return makeImageData(bytes, img.width, img.height);
}

/** Heatmap options plus the blend weight and the image's value range. */
export interface OverlayOptions extends HeatmapOptions {
  /** Weight of the heatmap in the blend: (1 - alpha) image + alpha heat (default 0.5). */
  alpha?: number;
  /** The tensor value of full intensity in the image (default 1). */
  range?: number;
}

/**
 * A colour heatmap of an attribution map [1, C, H, W] or [C, H, W] (channels reduced by
 * `reduce`, scaled by `sign` / `clipPercentile` / `vmax`), blended over the image tensor of the
 * same height and width (1 or 3 channels, CHW), as RGBA bytes ready for a canvas. Without an
 * image, the heatmap alone.
 */
export async function overlayImageData(
  image: Tensor | null,
  map: Tensor,
  o: OverlayOptions = {},
): Promise<ImageDataLike> {
  const m = imageDimsAny("overlayImageData", map.shape);
  const heat = heatmap(await map.data(), m.c, m.h, m.w, o);
  if (!image) return rgbToImageData(heat);
  const range = o.range ?? 1;
  checkRange("overlayImageData", range);
  const im = imageDims("overlayImageData", image.shape, "CHW");
  if (im.h !== m.h || im.w !== m.w) {
    throw new Error(
      `overlayImageData: the image is ${im.w} x ${im.h} but the map is ${m.w} x ${m.h}; they must match`,
    );
  }
  if (im.c === 4) throw new Error("overlayImageData: the image must have 1 or 3 channels, got 4");
  const values = Float32Array.from(await image.data(), (v) => v / range);
  return rgbToImageData(blend(toRgb(values, im.c, im.h, im.w), heat, o.alpha ?? 0.5));
}

/** Maps may have any channel count (they are reduced), so only the rank is checked. */
function imageDimsAny(fn: string, shape: readonly number[]) {
  const dims = shape.length === 4 && shape[0] === 1 ? shape.slice(1) : shape;
  if (dims.length !== 3)
    throw new Error(`${fn}: expected a map [1, C, H, W] or [C, H, W], got [${shape}]`);
  return { c: dims[0], h: dims[1], w: dims[2] };
}

/** A canvas with a 2D context: an HTMLCanvasElement or an OffscreenCanvas. */
export type Canvas2D = HTMLCanvasElement | OffscreenCanvas;

function context2d(fn: string, canvas: Canvas2D) {
  const ctx = canvas.getContext("2d") as
    | CanvasRenderingContext2D
    | OffscreenCanvasRenderingContext2D
    | null;
  if (!ctx) {
    throw new Error(
      `${fn}: the canvas has no 2D context (it may already have a WebGL/WebGPU context; use a fresh canvas)`,
    );
  }
  return ctx;
}

/** The pixels of a canvas as a tensor (see fromImageData for the options). */
export function fromCanvas(canvas: Canvas2D, o: FromImageOptions = {}): Tensor {
  const ctx = context2d("fromCanvas", canvas);
  return fromImageData(ctx.getImageData(0, 0, canvas.width, canvas.height), o);
}

/** An ImageBitmap (e.g. from createImageBitmap(blob)) as a tensor, drawn through an OffscreenCanvas. */
export function fromImageBitmap(bitmap: ImageBitmap, o: FromImageOptions = {}): Tensor {
  const Offscreen = (globalThis as { OffscreenCanvas?: typeof OffscreenCanvas }).OffscreenCanvas;
  if (!Offscreen) {
    throw new Error(
      "fromImageBitmap: this platform has no OffscreenCanvas; draw the bitmap on a canvas and use fromCanvas",
    );
  }
  const canvas = new Offscreen(bitmap.width, bitmap.height);
  const ctx = context2d("fromImageBitmap", canvas);
  ctx.drawImage(bitmap, 0, 0);
  return fromImageData(ctx.getImageData(0, 0, bitmap.width, bitmap.height), o);
}

/** Draws an image tensor on a canvas, resizing the canvas to the image (see toImageData). */
export async function drawToCanvas(
  t: Tensor,
  canvas: Canvas2D,
  o: ToImageOptions = {},
): Promise<void> {
  const img = await toImageData(t, o);
  drawImageData(img, canvas);
}

/** Puts RGBA bytes on a canvas, resizing the canvas to the image. */
export function drawImageData(img: ImageDataLike, canvas: Canvas2D): void {
  checkImageData("drawImageData", img);
  canvas.width = img.width;
  canvas.height = img.height;
  context2d("drawImageData", canvas).putImageData(img as ImageData, 0, 0);
}
