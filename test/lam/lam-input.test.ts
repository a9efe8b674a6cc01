/**
 * LAM's input preparation (lamCrop, lamImagesFromHr, srOutputProblem): the crop arithmetic worked
 * by hand, and the LR pixels of a bundled photo against a crop cut out by index here and the
 * antialiased bicubic resize applied directly, rounded to 8-bit levels as LAM_Demo's PNG is.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { lamImagesFromHr as lamImagesFromFile } from "../../src/cli/lam-images.ts";
import * as s from "../../src/index.ts";
import { readImage } from "../../src/viz/image-io-node.ts";

const photo = fileURLToPath(new URL("../../assets/photos/chelsea.png", import.meta.url));

/** The LR values the CLI has always made: the HR rows/columns cut by index, resized, 8-bit. */
function expectedLr(path: string, scale: number, top: number, left: number, h: number, w: number) {
  const img = readImage(path, 3);
  const H = h * scale;
  const W = w * scale;
  const cut = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        cut[(c * H + y) * W + x] = img.data[(c * img.height + top + y) * img.width + left + x];
  const down = s.resize(s.tensor(cut, [1, 3, H, W]), [h, w], { mode: "antialias-bicubic" });
  return {
    hr: cut,
    lr: Array.from(
      Float32Array.from(
        down.dataSync(),
        (v) => Math.round(255 * Math.min(1, Math.max(0, v))) / 255,
      ),
    ),
  };
}

describe("LAM input", () => {
  test("lamCrop: centred square, then a multiple of the scale (worked by hand)", () => {
    // 128x128 at x4: the whole image, 32x32 LR.
    expect(s.lamCrop(128, 128, 4)).toEqual({ top: 0, left: 0, height: 32, width: 32 });
    // 130 rows x 97 columns, crop 100, x4: rows (130 - 100) / 2 = 15 down, columns uncut (97 < 100);
    // LR floor(100 / 4) = 25 rows, floor(97 / 4) = 24 columns.
    expect(s.lamCrop(130, 97, 4, 100)).toEqual({ top: 15, left: 0, height: 25, width: 24 });
    // 130x97 at x3 without a crop: floor(130 / 3) = 43, floor(97 / 3) = 32, cut at bottom/right.
    expect(s.lamCrop(130, 97, 3)).toEqual({ top: 0, left: 0, height: 43, width: 32 });
    // 0 means no crop, as the CLI's --crop default.
    expect(s.lamCrop(130, 97, 3, 0)).toEqual(s.lamCrop(130, 97, 3));
  });

  test("an image too small for two LR pixels is an error naming the sizes", () => {
    expect(() => s.lamCrop(9, 7, 4)).toThrow(
      "7x9 is too small for x4 LAM (the LR image needs at least 2x2 pixels, so the HR image at least 8x8)",
    );
    expect(() => s.lamCrop(9, 9, 2.5)).toThrow("LAM scale must be an integer >= 1, got 2.5");
  });

  test("a bundled photo, centred crop 50 at x3: LR pixels as cut and resized directly", () => {
    const img = readImage(photo, 3);
    // A 50x50 centred crop at x3 is 16x16 LR from the 48x48 HR block at ((H - 50) / 2, (W - 50) / 2).
    const top = Math.floor((img.height - 50) / 2);
    const left = Math.floor((img.width - 50) / 2);
    const want = expectedLr(photo, 3, top, left, 16, 16);
    for (const got of [
      s.lamImagesFromHr(s.tensor(img.data, [1, 3, img.height, img.width]), 3, 50),
      lamImagesFromFile(photo, 3, 50),
    ]) {
      expect(got.lr.shape).toEqual([1, 3, 16, 16]);
      expect(Array.from(got.lrValues)).toEqual(want.lr);
      expect(Array.from(got.lr.dataSync())).toEqual(want.lr);
      // The HR panel is the crop itself, as 8-bit RGB bytes.
      expect(got.hr!.width).toBe(48);
      expect(got.hr!.height).toBe(48);
      const y = 5;
      const x = 7;
      expect(got.hr!.data[(y * 48 + x) * 3 + 1]).toBe(Math.round(want.hr[(48 + y) * 48 + x] * 255));
    }
  });

  test("a bundled photo, whole at x4: LR pixels as resized directly", () => {
    const img = readImage(photo, 3);
    const h = Math.floor(img.height / 4);
    const w = Math.floor(img.width / 4);
    const got = lamImagesFromFile(photo, 4);
    expect(Array.from(got.lrValues)).toEqual(expectedLr(photo, 4, 0, 0, h, w).lr);
  });

  test("a tensor that is not an RGB image is an error naming its shape", () => {
    expect(() => s.lamImagesFromHr(s.zeros([1, 1, 8, 8]), 2)).toThrow(
      "lamImagesFromHr: expected an RGB image [1, 3, H, W], got [1, 1, 8, 8]",
    );
  });

  test("srOutputProblem: upscaled by the scale, by another scale, or not an image", () => {
    expect(s.srOutputProblem([1, 3, 32, 48], 8, 12, 4)).toBeNull();
    expect(s.srOutputProblem([1, 3, 16, 24], 8, 12, 4)).toEqual({
      kind: "wrong-scale",
      expected: [32, 48],
      observedScale: 2,
    });
    expect(s.srOutputProblem([1, 10], 8, 12, 4)).toEqual({
      kind: "not-upscaled",
      expected: [1, 3, 32, 48],
    });
    // Same size out: not an upscaler.
    expect(s.srOutputProblem([1, 3, 8, 12], 8, 12, 2)?.kind).toBe("not-upscaled");
    expect(s.srOutputProblem([1, 1, 32, 48], 8, 12, 4)?.kind).toBe("not-upscaled");
  });
});
