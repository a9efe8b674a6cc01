/**
 * Structural checks of PNG and JPEG bytes before a decoder sees them. Decoders trust the declared
 * width and height (pngjs allocates width x height x 4 bytes from the header alone) and quietly
 * return black pixels for missing or truncated data, so an image's declared size is checked
 * against maxImagePixels first, and a file whose data stops early is refused rather than decoded
 * as a partly black picture.
 */
import { checkLimit } from "../models/io/limits.ts";

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export interface PngLayout {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
  /** The concatenated IDAT payloads (the zlib stream). */
  idat: Uint8Array;
  /** Bytes the zlib stream must inflate to: filter bytes plus packed rows, per Adam7 pass. */
  inflatedBytes: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Samples per pixel and the bit depths each PNG colour type allows. */
const COLOR_TYPES = new Map<number, { channels: number; depths: number[] }>([
  [0, { channels: 1, depths: [1, 2, 4, 8, 16] }],
  [2, { channels: 3, depths: [8, 16] }],
  [3, { channels: 1, depths: [1, 2, 4, 8] }],
  [4, { channels: 2, depths: [8, 16] }],
  [6, { channels: 4, depths: [8, 16] }],
]);

/** Adam7 passes: x start, y start, x step, y step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function inflatedSize(w: number, h: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (pw: number, ph: number) =>
    pw > 0 && ph > 0 ? ph * (1 + Math.ceil((pw * bitsPerPixel) / 8)) : 0;
  if (!interlaced) return rows(w, h);
  let total = 0;
  for (const [xs, ys, dx, dy] of ADAM7)
    total += rows(Math.ceil((w - xs) / dx), Math.ceil((h - ys) / dy));
  return total;
}

/**
 * Walks a PNG's chunks: signature, IHDR first with a valid size and format, every chunk whole
 * and its CRC right, at least one IDAT, and IEND. Throws naming `name` and what is wrong.
 */
export function checkPng(bytes: Uint8Array, name: string): PngLayout {
  const fail = (msg: string): never => {
    throw new Error(`${name}: ${msg}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  let pos = 8;
  let ihdr: Omit<PngLayout, "idat" | "inflatedBytes"> | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (!ended) {
    if (pos + 8 > bytes.length) {
      fail(
        `truncated PNG: the file ends at byte ${bytes.length} ${idat.length ? "before its IEND chunk" : "before any image data (IDAT)"}`,
      );
    }
    const len = view.getUint32(pos);
    const kind = type(pos + 4);
    if (pos + 12 + len > bytes.length) {
      fail(
        `truncated PNG: chunk "${kind}" at byte ${pos} declares ${len} bytes, but the file ends at byte ${bytes.length}`,
      );
    }
    const data = bytes.subarray(pos + 8, pos + 8 + len);
    if (crc32(bytes.subarray(pos + 4, pos + 8 + len)) !== view.getUint32(pos + 8 + len))
      fail(`corrupt PNG: chunk "${kind}" at byte ${pos} fails its CRC check`);
    if (!ihdr) {
      if (kind !== "IHDR" || len !== 13)
        fail(`corrupt PNG: the first chunk is "${kind}" (${len} bytes), expected a 13-byte IHDR`);
      const dv = new DataView(data.buffer, data.byteOffset, 13);
      const [width, height] = [dv.getUint32(0), dv.getUint32(4)];
      const [bitDepth, colorType, , , interlace] = data.subarray(8, 13);
      if (width === 0 || height === 0) fail(`PNG declares an empty image (${width}x${height})`);
      checkLimit(
        name,
        `the declared image size ${width}x${height}`,
        width * height,
        "maxImagePixels",
      );
      const fmt = COLOR_TYPES.get(colorType);
      if (!fmt?.depths.includes(bitDepth))
        fail(`unsupported PNG format: colour type ${colorType} with bit depth ${bitDepth}`);
      if (interlace > 1) fail(`corrupt PNG: unknown interlace method ${interlace}`);
      ihdr = { width, height, bitDepth, colorType, interlaced: interlace === 1 };
    } else if (kind === "IDAT") idat.push(data);
    else if (kind === "IEND") ended = true;
    pos += 12 + len;
  }
  const header = ihdr!;
  if (idat.length === 0) fail("PNG has no image data (IDAT chunk)");
  const stream = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of idat) {
    stream.set(c, at);
    at += c.length;
  }
  const bitsPerPixel = COLOR_TYPES.get(header.colorType)!.channels * header.bitDepth;
  const inflatedBytes = inflatedSize(header.width, header.height, bitsPerPixel, header.interlaced);
  checkLimit(name, "the inflated PNG image data", inflatedBytes, "maxInflatedBytes");
  return { ...header, idat: stream, inflatedBytes };
}

/** Markers that stand alone (no length field): TEM, RST0-7, SOI, EOI. */
const standalone = (m: number) => m === 0x01 || (m >= 0xd0 && m <= 0xd9);
/** Start-of-frame markers (SOF0-15 except DHT, JPG and DAC, which share the range). */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/**
 * Walks a JPEG's segments and entropy-coded scans up to EOI: a frame header (SOF) whose size is
 * within maxImagePixels, every segment whole, and the scan data ending in a marker rather than
 * at the end of the file. Returns the declared size.
 */
export function checkJpeg(bytes: Uint8Array, name: string): { width: number; height: number } {
  const fail = (msg: string): never => {
    throw new Error(`${name}: ${msg}`);
  };
  let size: { width: number; height: number } | undefined;
  let pos = 2;
  for (;;) {
    if (pos + 2 > bytes.length)
      fail(`truncated JPEG: the file ends at byte ${bytes.length} before its end marker (EOI)`);
    if (bytes[pos] !== 0xff)
      fail(`corrupt JPEG: expected a marker at byte ${pos}, found 0x${bytes[pos].toString(16)}`);
    while (bytes[pos + 1] === 0xff && pos + 2 < bytes.length) pos++; // fill bytes
    const m = bytes[pos + 1];
    pos += 2;
    if (m === 0xd9) break;
    if (standalone(m)) continue;
    if (pos + 2 > bytes.length)
      fail(`truncated JPEG: segment 0xff${m.toString(16)} at byte ${pos - 2} has no length`);
    const len = (bytes[pos] << 8) | bytes[pos + 1];
    if (len < 2 || pos + len > bytes.length)
      fail(
        `truncated JPEG: segment 0xff${m.toString(16)} at byte ${pos - 2} declares ${len} bytes, but the file ends at byte ${bytes.length}`,
      );
    if (isSof(m)) {
      if (len < 7) fail(`corrupt JPEG: frame header at byte ${pos - 2} is ${len} bytes`);
      const height = (bytes[pos + 3] << 8) | bytes[pos + 4];
      const width = (bytes[pos + 5] << 8) | bytes[pos + 6];
      if (width === 0 || height === 0) fail(`JPEG declares an empty image (${width}x${height})`);
      checkLimit(
        name,
        `the declared image size ${width}x${height}`,
        width * height,
        "maxImagePixels",
      );
      size = { width, height };
    }
    pos += len;
    if (m === 0xda) {
      if (!size) fail("corrupt JPEG: image data (SOS) before any frame header (SOF)");
      // Entropy-coded data: 0xff is stuffed as ff00 and RSTn markers may interleave; the next
      // other marker ends the scan.
      for (;;) {
        pos = bytes.indexOf(0xff, pos);
        if (pos < 0 || pos + 1 >= bytes.length) {
          pos = bytes.length;
          break;
        }
        const next = bytes[pos + 1];
        if (next !== 0 && !(next >= 0xd0 && next <= 0xd7) && next !== 0xff) break;
        pos += next === 0xff ? 1 : 2;
      }
      if (pos + 1 >= bytes.length)
        fail(
          `truncated JPEG: the image data stops at byte ${bytes.length} without an end marker (EOI)`,
        );
    }
  }
  if (!size) fail("corrupt JPEG: no frame header (SOF) before the end marker");
  return size!;
}
