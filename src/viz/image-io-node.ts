/**
 * Reading and writing images in Node: PNG through pngjs, JPEG decoding through jpeg-js. Images come
 * back as float32 [C, H, W] in [0, 1]: RGB, or grey (ITU-R 601 luma, as PIL's "L") when one
 * channel is asked for. Not part of the platform-neutral library bundle.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { importLimits } from "../models/io/limits.ts";
import { checkJpeg, checkPng, PNG_SIGNATURE } from "./image-check.ts";
import type { RgbImage } from "./overlay.ts";

/** A decoded image as planar float32 [C, H, W] in [0, 1]. */
export interface LoadedImage {
  channels: number;
  height: number;
  width: number;
  /** [C, H, W] in [0, 1]. */
  data: Float32Array;
}

const isPng = (b: Uint8Array) => b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v);
const isJpeg = (b: Uint8Array) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** The first bytes of a file, for a message saying what it looks like instead. */
function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return "it is empty (0 bytes)";
  const head = bytes.subarray(0, 8);
  const hex = [...head].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  const text = [...head].every((b) => b >= 0x20 && b < 0x7f)
    ? ` ("${String.fromCharCode(...head)}")`
    : "";
  return `it starts with ${hex}${text}`;
}

/**
 * Decodes PNG or JPEG bytes to RGBA after checking their structure (see image-check.ts): the
 * declared size against maxImagePixels before any pixel buffer exists, and data that stops early,
 * a missing IDAT, or a bad CRC refused. Every error names `name`.
 */
export function decodeImageBytes(
  bytes: Uint8Array,
  name: string,
): { width: number; height: number; rgba: Uint8Array } {
  if (isPng(bytes)) {
    const layout = checkPng(bytes, name);
    let inflated: Buffer;
    try {
      // pngjs pads a short zlib stream with zeros (a black bottom); inflate first to know.
      inflated = inflateSync(layout.idat, { maxOutputLength: layout.inflatedBytes + 1 });
    } catch (e) {
      throw new Error(
        `${name}: corrupt or truncated PNG image data (${(e as Error).message}; ${layout.inflatedBytes} bytes expected)`,
      );
    }
    if (inflated.length !== layout.inflatedBytes) {
      throw new Error(
        `${name}: truncated PNG image data: it inflates to ${inflated.length} bytes, ${layout.width}x${layout.height} needs ${layout.inflatedBytes}`,
      );
    }
    try {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data) };
    } catch (e) {
      throw new Error(`${name}: cannot decode PNG: ${(e as Error).message}`);
    }
  }
  if (isJpeg(bytes)) {
    const { width, height } = checkJpeg(bytes, name);
    const pixels = importLimits().maxImagePixels;
    try {
      const img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: pixels / 1e6,
        // RGBA output plus per-component planes: about 16 bytes a pixel at most.
        maxMemoryUsageInMB: Math.max(512, Math.ceil((pixels * 16) / 2 ** 20)),
      });
      if (img.width !== width || img.height !== height)
        throw new Error(`decoded ${img.width}x${img.height}, the header says ${width}x${height}`);
      return { width: img.width, height: img.height, rgba: img.data };
    } catch (e) {
      throw new Error(`${name}: cannot decode JPEG: ${(e as Error).message}`);
    }
  }
  throw new Error(
    `"${name}" is neither a PNG nor a JPEG file (${describeStart(bytes)}); give a .png or .jpg image`,
  );
}

function decode(path: string): { width: number; height: number; rgba: Uint8Array } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read image "${path}": ${(e as Error).message}`);
  }
  return decodeImageBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
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

/** RGB bytes [H, W, 3] as an opaque 8-bit PNG file's bytes. */
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

/** Writes RGB bytes [H, W, 3] as a PNG file. */
export function writePng(path: string, img: RgbImage): void {
  writeFileSync(path, encodePng(img));
}
