/**
 * Tensors to and from ImageData-shaped RGBA bytes, canvases (structural fakes: Node has no DOM)
 * and heatmap overlays, against values worked out by hand.
 */
import { describe, expect, test } from "vitest";
import { tensor } from "../../src/ops/creation.ts";
import {
  type Canvas2D,
  drawToCanvas,
  fromCanvas,
  fromImageData,
  type ImageDataLike,
  overlayImageData,
  rgbToImageData,
  toImageData,
} from "../../src/viz/browser-image.ts";

// Two pixels, left to right: (255, 0, 51, a 255) and (10, 20, 30, a 128).
const twoPixels: ImageDataLike = {
  width: 2,
  height: 1,
  data: new Uint8ClampedArray([255, 0, 51, 255, 10, 20, 30, 128]),
};

const close = (got: ArrayLike<number>, want: number[]) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 6);
};

describe("fromImageData", () => {
  test("RGB, CHW: planes of byte / 255", () => {
    const t = fromImageData(twoPixels);
    expect(t.shape).toEqual([1, 3, 1, 2]);
    close(t.dataSync(), [1, 10 / 255, 0, 20 / 255, 0.2, 30 / 255]);
  });

  test("HWC keeps the pixel order; range 255 gives the bytes themselves", () => {
    const t = fromImageData(twoPixels, { layout: "HWC", range: 255 });
    expect(t.shape).toEqual([1, 1, 2, 3]);
    close(t.dataSync(), [255, 0, 51, 10, 20, 30]);
  });

  test("grey is ITU-R 601 luma floored to a byte, as PIL's L mode", () => {
    // floor((255*299 + 0*587 + 51*114) / 1000) = floor(82.059) = 82;
    // floor((10*299 + 20*587 + 30*114) / 1000) = floor(18.15) = 18.
    const t = fromImageData(twoPixels, { channels: 1 });
    expect(t.shape).toEqual([1, 1, 1, 2]);
    close(t.dataSync(), [82 / 255, 18 / 255]);
  });

  test("four channels carry alpha", () => {
    close(fromImageData(twoPixels, { channels: 4, layout: "HWC" }).dataSync(), [
      1,
      0,
      0.2,
      1,
      10 / 255,
      20 / 255,
      30 / 255,
      128 / 255,
    ]);
  });

  test("bad input names what is wrong", () => {
    expect(() => fromImageData({ width: 2, height: 2, data: new Uint8Array(8) })).toThrow(
      /8 bytes do not make a 2 x 2 RGBA image \(expected 16\)/,
    );
    expect(() => fromImageData(twoPixels, { channels: 2 as never })).toThrow(
      /channels must be 1, 3 or 4, got 2/,
    );
    expect(() => fromImageData(twoPixels, { layout: "NHWC" as never })).toThrow(/layout must be/);
    expect(() => fromImageData(twoPixels, { range: 0 })).toThrow(/range must be a positive/);
  });
});

describe("toImageData", () => {
  test("RGB values scale by 255, round half up, clip, and get opaque alpha", async () => {
    // R = [1, 0.5], G = [0, -0.2], B = [0.25, 2]
    const img = await toImageData(tensor([1, 0.5, 0, -0.2, 0.25, 2], [1, 3, 1, 2]));
    expect([img.width, img.height]).toEqual([2, 1]);
    // 0.5 * 255 = 127.5 -> 128; 0.25 * 255 = 63.75 -> 64; -0.2 -> 0; 2 -> 255.
    expect(Array.from(img.data)).toEqual([255, 0, 64, 255, 128, 0, 255, 255]);
  });

  test("grey is replicated into R, G and B; NaN shows as 0", async () => {
    const img = await toImageData(tensor([0.2, Number.NaN], [1, 1, 2]));
    expect(Array.from(img.data)).toEqual([51, 51, 51, 255, 0, 0, 0, 255]);
  });

  test("HWC with range 255 and a fourth channel", async () => {
    const img = await toImageData(tensor([10, 20, 30, 40, 250, 260, -1, 127.5], [1, 2, 1, 4]), {
      layout: "HWC",
      range: 255,
    });
    expect([img.width, img.height]).toEqual([1, 2]);
    expect(Array.from(img.data)).toEqual([10, 20, 30, 40, 250, 255, 0, 128]);
  });

  test("bytes -> tensor -> bytes is the identity (RGBA, both layouts)", async () => {
    const data = new Uint8ClampedArray(5 * 3 * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) % 256;
    const img: ImageDataLike = { width: 5, height: 3, data };
    for (const layout of ["CHW", "HWC"] as const) {
      const back = await toImageData(fromImageData(img, { channels: 4, layout }), { layout });
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
  });

  test("refuses batches and odd channel counts", async () => {
    await expect(toImageData(tensor(new Float32Array(12), [2, 3, 1, 2]))).rejects.toThrow(
      /expected an image tensor \[1, C, H, W\] or \[C, H, W\] \(CHW\), got \[2,3,1,2\]/,
    );
    await expect(toImageData(tensor(new Float32Array(4), [1, 2, 1, 2]))).rejects.toThrow(
      /1, 3 or 4 channels, got 2/,
    );
  });
});

describe("overlays and RGB images", () => {
  test("a map blended over a grey image, half and half (viridis ends)", async () => {
    // Image 0.4 -> byte 102. Map |[0, 3]| scaled by its maximum -> [0, 1] -> viridis
    // (68, 1, 84) and (253, 231, 37). Blend: round((102 + v) / 2), halves rounded up.
    const img = await overlayImageData(
      tensor([0.4, 0.4], [1, 1, 1, 2]),
      tensor([0, 3], [1, 1, 2]),
      {
        clipPercentile: 100,
      },
    );
    expect(Array.from(img.data)).toEqual([85, 52, 93, 255, 178, 167, 70, 255]);
  });

  test("a 3-channel map is summed over channels first; no image gives the heatmap alone", async () => {
    // Channel sums: [1 + 1 + 1, 0 + 0 + 0] = [3, 0] -> viridis(1), viridis(0).
    const img = await overlayImageData(null, tensor([1, 0, 1, 0, 1, 0], [1, 3, 1, 2]), {
      clipPercentile: 100,
    });
    expect(Array.from(img.data)).toEqual([253, 231, 37, 255, 68, 1, 84, 255]);
  });

  test("the image's range divides its values", async () => {
    // 102 of 255 is 0.4: the same bytes as the first overlay test.
    const img = await overlayImageData(
      tensor([102, 102], [1, 1, 1, 2]),
      tensor([0, 3], [1, 1, 2]),
      {
        clipPercentile: 100,
        range: 255,
      },
    );
    expect(Array.from(img.data)).toEqual([85, 52, 93, 255, 178, 167, 70, 255]);
  });

  test("sizes must match", async () => {
    await expect(
      overlayImageData(tensor([0, 0], [1, 1, 1, 2]), tensor([0, 0, 0], [1, 1, 3])),
    ).rejects.toThrow(/the image is 2 x 1 but the map is 3 x 1/);
  });

  test("rgbToImageData adds opaque alpha", () => {
    const img = rgbToImageData({ width: 1, height: 2, data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
    expect(Array.from(img.data)).toEqual([1, 2, 3, 255, 4, 5, 6, 255]);
    expect(() => rgbToImageData({ width: 2, height: 2, data: new Uint8Array(3) })).toThrow(
      /3 bytes do not make a 2 x 2 RGB image/,
    );
  });
});

/** A canvas with just what the helpers use: size, getImageData and putImageData. */
function fakeCanvas(start: ImageDataLike) {
  let pixels = start;
  const ctx = {
    getImageData: (x: number, y: number, w: number, h: number) => {
      expect([x, y, w, h]).toEqual([0, 0, pixels.width, pixels.height]);
      return pixels;
    },
    putImageData: (img: ImageDataLike, x: number, y: number) => {
      expect([x, y]).toEqual([0, 0]);
      pixels = img;
    },
  };
  const canvas = {
    width: start.width,
    height: start.height,
    getContext: (id: string) => (id === "2d" ? ctx : null),
  };
  return { canvas: canvas as unknown as Canvas2D, pixels: () => pixels };
}

describe("canvases", () => {
  test("fromCanvas reads the whole canvas", () => {
    const { canvas } = fakeCanvas(twoPixels);
    close(fromCanvas(canvas, { channels: 1, range: 255 }).dataSync(), [82, 18]);
  });

  test("drawToCanvas resizes the canvas and puts the pixels at the origin", async () => {
    const { canvas, pixels } = fakeCanvas(twoPixels);
    await drawToCanvas(tensor([0, 1, 0.2], [1, 1, 3, 1]), canvas);
    expect([canvas.width, canvas.height]).toEqual([1, 3]);
    expect(Array.from(pixels().data)).toEqual([0, 0, 0, 255, 255, 255, 255, 255, 51, 51, 51, 255]);
  });

  test("a canvas without a 2D context is refused with the reason", () => {
    const canvas = { width: 1, height: 1, getContext: () => null } as unknown as Canvas2D;
    expect(() => fromCanvas(canvas)).toThrow(/has no 2D context/);
  });
});
