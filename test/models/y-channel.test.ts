/**
 * Y-channel SR on RGB images: yChannelSr against an independent composition written here from
 * the BT.601 studio-range formulas (MATLAB rgb2ycbcr / ycbcr2rgb, in float64): Y through the model,
 * Cb and Cr upscaled bicubically, back to RGB.
 */
import { describe, expect, test } from "vitest";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { imageInputChannels, rgbSr, yChannelSr } from "../../src/models/sr/y-channel.ts";
import { Fsrcnn } from "../../src/models/zoo/fsrcnn.ts";
import { tensor } from "../../src/ops/creation.ts";
import { randomImage, yPathByHand } from "../reference/ycbcr.ts";

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("yChannelSr", () => {
  const model = new Fsrcnn(3, { channels: 1, d: 8, s: 4, m: 1, seed: 7 }).eval();
  const [h, w] = [7, 5];
  const rgb = randomImage(h, w, 3);

  test("a 1-channel FSRCNN on an RGB image equals BT.601 Y -> model, bicubic Cb/Cr -> RGB", () => {
    const run = yChannelSr((y) => model.call(y), 3);
    const got = tidy(() => run(tensor(rgb, [1, 3, h, w])).dataSync());
    const want = yPathByHand((y) => model.call(y), rgb, h, w, 3);
    expect(want.length).toBe(3 * h * 3 * w * 3);
    expect(maxDiff(got, want)).toBeLessThan(1e-4);
  });

  test("rgbSr wraps 1-channel models and leaves 3-channel models alone", () => {
    const rgbModel = new Fsrcnn(2, { channels: 3, d: 4, s: 2, m: 1 });
    expect(imageInputChannels(model)).toBe(1);
    expect(imageInputChannels(rgbModel)).toBe(3);
    const plain = (x: Tensor) => rgbModel.call(x);
    expect(rgbSr(rgbModel, plain, 2)).toBe(plain);
    const wrapped = rgbSr(model, (y) => model.call(y), 3);
    const got = tidy(() => wrapped(tensor(rgb, [1, 3, h, w])).dataSync());
    expect(
      maxDiff(
        got,
        yPathByHand((y) => model.call(y), rgb, h, w, 3),
      ),
    ).toBeLessThan(1e-4);
  });

  test("refuses a non-RGB input and a model that does not upscale Y by the scale", () => {
    const run = yChannelSr((y) => model.call(y), 3);
    expect(() => run(tensor(new Float32Array(4), [1, 1, 2, 2]))).toThrow(
      "yChannelSr: expected an RGB image [N, 3, H, W], got [1,1,2,2]",
    );
    const wrongScale = yChannelSr((y) => model.call(y), 2);
    expect(() => tidy(() => wrongScale(tensor(rgb, [1, 3, h, w])))).toThrow(
      "yChannelSr: the model turned Y [1,1,7,5] into [1,1,21,15], expected [1, 1, 14,10] (x2)",
    );
    expect(() => yChannelSr((y) => y, 0)).toThrow("scale must be a positive integer, got 0");
  });
});
