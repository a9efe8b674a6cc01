/**
 * Hostile and broken images (scripts/fixtures/make_hostile_onnx.mjs): declared sizes far beyond
 * the data, missing or truncated image data, bad CRCs, non-images. Each is refused with an error
 * naming the file and the problem, before a pixel buffer of the declared size exists; valid
 * images (plain, interlaced, JPEG) still decode to the values they were built from.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pngFromScanlines } from "../../scripts/fixtures/make_hostile_onnx.mjs";
import { LimitError, withImportLimits } from "../../src/models/io/limits.ts";
import { decodeImageBytes, readImage } from "../../src/viz/image-io-node.ts";

const DIR = join(import.meta.dirname, "..", "fixtures", "hostile", "images");
const path = (n: string) => join(DIR, n);

describe("images that declare more than they hold", () => {
  it("a 69-byte PNG declaring 20000x20000 is refused from its header", () => {
    const p = path("png_huge_dims.png");
    let err: unknown;
    try {
      readImage(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).value).toBe(20000 * 20000);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^${p.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: the declared image size 20000x20000 is 4\\.00e\\+8, over the limit of 1\\.00e\\+8 \\(maxImagePixels`,
      ),
    );
  });

  it("a JPEG whose frame header says 30000x30000 likewise", () => {
    expect(() => readImage(path("jpeg_huge_dims.jpg"))).toThrow(LimitError);
    expect(() => readImage(path("jpeg_huge_dims.jpg"))).toThrow(
      `${path("jpeg_huge_dims.jpg")}: the declared image size 30000x30000 is 9.00e+8`,
    );
  });

  it("the limit is adjustable: a 16x16 image needs maxImagePixels >= 256", () => {
    for (const f of ["good_16x16.png", "good_16x16.jpg"]) {
      withImportLimits({ maxImagePixels: 255 }, () => {
        expect(() => readImage(path(f))).toThrow(
          /declared image size 16x16 is 256, over the limit of 255/,
        );
      });
      withImportLimits({ maxImagePixels: 256 }, () => expect(readImage(path(f)).width).toBe(16));
    }
  });
});

describe("missing, truncated and corrupt image data is an error, not a black picture", () => {
  const cases: [string, string][] = [
    ["png_no_idat.png", "PNG has no image data (IDAT chunk)"],
    [
      "png_truncated.png",
      'truncated PNG: chunk "IDAT" at byte 33 declares 501 bytes, but the file ends at byte 63',
    ],
    [
      "png_truncated_zlib.png",
      "corrupt or truncated PNG image data (unexpected end of file; 784 bytes expected)",
    ],
    ["png_bad_crc.png", 'corrupt PNG: chunk "IDAT" at byte 33 fails its CRC check'],
    ["png_zero_width.png", "PNG declares an empty image (0x16)"],
    ["jpeg_truncated.jpg", "truncated JPEG: segment 0xffc4 at byte 173 declares 418 bytes"],
    [
      "jpeg_truncated_scan.jpg",
      "truncated JPEG: the image data stops at byte 902 without an end marker (EOI)",
    ],
  ];
  for (const [file, problem] of cases) {
    it(file, () => {
      expect(() => readImage(path(file))).toThrow(`${path(file)}: ${problem}`);
    });
  }

  it("files that are not images say what they start with and what is expected", () => {
    expect(() => readImage(path("text_named.png"))).toThrow(
      `"${path("text_named.png")}" is neither a PNG nor a JPEG file (it starts with 68 65 6c 6c 6f 2c 20 49 ("hello, I")); give a .png or .jpg image`,
    );
    expect(() => readImage(path("empty.png"))).toThrow(
      /empty\.png" is neither a PNG nor a JPEG file \(it is empty \(0 bytes\)\)/,
    );
  });
});

describe("valid images still decode to what they hold", () => {
  it("the 16x16 PNG: pixel (x, y) = (16x, 16y, 8(x+y)) mod 256, as the generator wrote it", () => {
    const img = readImage(path("good_16x16.png"));
    const hw = 256;
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        const p = y * 16 + x;
        expect(Math.round(img.data[p] * 255)).toBe((x * 16) & 255);
        expect(Math.round(img.data[hw + p] * 255)).toBe((y * 16) & 255);
        expect(Math.round(img.data[2 * hw + p] * 255)).toBe(((x + y) * 8) & 255);
      }
    }
  });

  it("an Adam7-interlaced 5x3 PNG built by hand decodes to its pixels", () => {
    const [w, h] = [5, 3];
    const pixel = (x: number, y: number) => [x * 50, y * 100, 7 + x + 10 * y];
    // Adam7 passes (x0, y0, dx, dy); each non-empty pass is its own little image.
    const passes = [
      [0, 0, 8, 8],
      [4, 0, 8, 8],
      [0, 4, 4, 8],
      [2, 0, 4, 4],
      [0, 2, 2, 4],
      [1, 0, 2, 2],
      [0, 1, 1, 2],
    ];
    const scanlines: number[] = [];
    for (const [x0, y0, dx, dy] of passes) {
      if (x0 >= w || y0 >= h) continue;
      for (let y = y0; y < h; y += dy) {
        scanlines.push(0);
        for (let x = x0; x < w; x += dx) scanlines.push(...pixel(x, y));
      }
    }
    const img = decodeImageBytes(pngFromScanlines(w, h, scanlines, 1), "adam7.png");
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        expect([...img.rgba.subarray((y * w + x) * 4, (y * w + x) * 4 + 3)]).toEqual(pixel(x, y));
    // The same scanlines less one byte are refused as truncated.
    const short = pngFromScanlines(w, h, scanlines.slice(0, -1), 1);
    expect(() => decodeImageBytes(short, "short.png")).toThrow(
      `short.png: truncated PNG image data: it inflates to ${scanlines.length - 1} bytes, 5x3 needs ${scanlines.length}`,
    );
  });

  it("the 16x16 JPEG (quality 90) stays within JPEG error of its source", () => {
    const img = readImage(path("good_16x16.jpg"));
    let worst = 0;
    for (let p = 0; p < 256; p++) {
      const want = [(p * 7) & 255, (p * 3) & 255, 128];
      for (let c = 0; c < 3; c++)
        worst = Math.max(worst, Math.abs(img.data[c * 256 + p] * 255 - want[c]));
    }
    // A sawtooth this sharp is JPEG's worst case; what matters is a whole image, not black.
    expect(worst).toBeLessThan(80);
    const mean = img.data.subarray(512).reduce((a, b) => a + b, 0) / 256;
    expect(mean * 255).toBeCloseTo(128, -1);
  });
});
