/**
 * Reading and writing images in Node: PNG through pngjs, JPEG decoding through jpeg-js. Images come
 * back as float32 [C, H, W] in [0, 1]: RGB, or grey (ITU-R 601 luma, as PIL's "L") when one
 * channel is asked for. Not part of the platform-neutral library bundle.
 */
import { readFileSync, writeFileSync } from "node:fs";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import type { RgbImage } from "./overlay.ts";

export interface LoadedImage {
  channels: number;
  height: number;
  width: number;
  /** [C, H, W] in [0, 1]. */
  data: Float32Array;
}

function decode(path: string): { width: number; height: number; rgba: Uint8Array } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read image "${path}": ${(e as Error).message}`);
  }
  const isPng =
    bytes.length > 8 &&
    bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const isJpeg = bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isPng) {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data) };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      return { width: img.width, height: img.height, rgba: img.data };
    }
  } catch (e) {
    throw new Error(`cannot decode image "${path}": ${(e as Error).message}`);
  }
  throw new Error(
    `"${path}" is neither a PNG nor a JPEG file (by its first bytes); give a .png or .jpg image`,
  );
}

/** Reads a PNG or JPEG as [channels, H, W] in [0, 1] (channels 3 = RGB, 1 = grey). */
export function readImage(path: string, channels: 1 | 3 = 3): LoadedImage {
  const { width, height, rgba } = decode(path);
  const hw = width * height;
  const data = new Float32Array(channels * hw);
  for (let p = 0; p < hw; p++) {
    const r = rgba[p * 4];
    const g = rgba[p * 4 + 1];
    const b = rgba[p * 4 + 2];
    if (channels === 1) data[p] = Math.floor((r * 299 + g * 587 + b * 114) / 1000) / 255;
    else {
      data[p] = r / 255;
      data[hw + p] = g / 255;
      data[2 * hw + p] = b / 255;
    }
  }
  return { channels, height, width, data };
}

export function encodePng(img: RgbImage): Uint8Array {
  const png = new PNG({ width: img.width, height: img.height });
  for (let p = 0; p < img.width * img.height; p++) {
    png.data[p * 4] = img.data[p * 3];
    png.data[p * 4 + 1] = img.data[p * 3 + 1];
    png.data[p * 4 + 2] = img.data[p * 3 + 2];
    png.data[p * 4 + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png));
}

export function writePng(path: string, img: RgbImage): void {
  writeFileSync(path, encodePng(img));
}
