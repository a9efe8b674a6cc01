/**
 * The bundled FSRCNN x2 on photographs it never saw in training (the 128x128 crops of coffee.png
 * and chelsea.png in assets/photos): it must beat bicubic upscaling of the same low-resolution
 * input, with PSNR computed here on the Y channel.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { tidy } from "../../src/autodiff/tidy.ts";
import { downscale, greyTensor, psnr, rgbToY } from "../../src/models/train/sr-data.ts";
import { fsrcnnX2Weights, loadFsrcnnX2 } from "../../src/models/zoo/fsrcnn-pretrained.ts";
import { resize } from "../../src/ops/resize.ts";
import { readImage } from "../../src/viz/image-io-node.ts";

const photo = (name: string) =>
  fileURLToPath(new URL(`../../assets/photos/${name}`, import.meta.url));

describe("bundled fsrcnn-x2", () => {
  test("the inlined weights are the shipped safetensors file", () => {
    const file = readFileSync(
      new URL("../../src/models/weights/fsrcnn-x2.safetensors", import.meta.url),
    );
    expect(Buffer.from(fsrcnnX2Weights()).equals(file)).toBe(true);
  });

  for (const name of ["coffee.png", "chelsea.png"]) {
    test(`beats bicubic on the held-out ${name} crop`, () => {
      const model = loadFsrcnnX2();
      const hr = rgbToY(readImage(photo(name), 3));
      const { sr, bic } = tidy(() => {
        const lr = downscale(greyTensor(hr), 2);
        return {
          sr: model.call(lr).dataSync(),
          bic: resize(lr, [hr.height, hr.width], { mode: "bicubic" }).dataSync(),
        };
      });
      const o = { shave: 2 };
      const pSr = psnr(sr, hr.data, hr.height, hr.width, o);
      const pBic = psnr(bic, hr.data, hr.height, hr.width, o);
      console.log(`${name}: FSRCNN ${pSr.toFixed(2)} dB, bicubic ${pBic.toFixed(2)} dB`);
      expect(pSr).toBeGreaterThan(pBic + 0.3);
    });
  }
});
