import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { intensity } from "../../src/attribution/lam/detectors.ts";
import { countSaliencyPixels, diffusionIndex, gini } from "../../src/attribution/lam/gini.ts";
import { weightedKde } from "../../src/attribution/lam/kde.ts";
import { lam } from "../../src/attribution/lam/lam.ts";
import { gradAbsNorm } from "../../src/attribution/lam/normalize.ts";
import { progressiveBlurPath } from "../../src/attribution/lam/paths.ts";
import {
  conv2d,
  memory,
  randomNormal,
  randomUniform,
  type Tensor,
  tensor,
  upsample,
} from "../../src/index.ts";
import { lamPanels } from "../../src/viz/lam-panels.ts";
import { windowGradientMagnitude } from "../reference/lam.ts";

/** Independent float64 reference: LAM_Demo's kernel and cv2.filter2D with BORDER_REFLECT_101. */
function refKernel(sigma: number, l: number): number[][] {
  const coords: number[] = [];
  // Python: arange(-l // 2 + 1, l // 2 + 1), with floor division of the negative value.
  for (let v = Math.floor(-l / 2) + 1; v <= Math.floor(l / 2); v++) coords.push(v);
  const std = sigma + 1e-5;
  const k = coords.map((y) => coords.map((x) => Math.exp(-(x * x + y * y) / (2 * std * std))));
  const s = k.flat().reduce((a, b) => a + b, 0);
  return k.map((r) => r.map((v) => v / s));
}
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}
function refFilter2d(img: number[][], k: number[][]): number[][] {
  const h = img.length;
  const w = img[0].length;
  const a = Math.floor(k.length / 2); // cv2's default anchor
  return img.map((_, y) =>
    img[0].map((_, x) => {
      let acc = 0;
      for (let i = 0; i < k.length; i++)
        for (let j = 0; j < k.length; j++)
          acc += k[i][j] * img[reflect101(y + i - a, h)][reflect101(x + j - a, w)];
      return acc;
    }),
  );
}

const plane = (t: Float32Array | Int32Array, c: number, h: number, w: number) =>
  Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => t[(c * h + y) * w + x]));

describe("LAM path", () => {
  test("endpoints: gamma_fold is the input, gamma_0 is the reference blur with reflect-101 borders", () => {
    const img = randomUniform([1, 1, 5, 5], { seed: 3 });
    for (const l of [9, 4, 5]) {
      const path = progressiveBlurPath(img, 1.2, l);
      // For even l the reference's delta kernel sits one pixel off cv2's anchor (l // 2), so its
      // last path image is the input shifted by one pixel; for odd l it is the input itself.
      const last = plane(path.at([0]).dataSync(), 0, 5, 5);
      const src = plane(img.dataSync(), 0, 5, 5);
      const off = l % 2 === 0 ? 1 : 0;
      last.forEach((row, y) =>
        row.forEach((v, x) =>
          expect(v).toBeCloseTo(src[reflect101(y - off, 5)][reflect101(x - off, 5)], 6),
        ),
      );
      const want = refFilter2d(plane(img.dataSync(), 0, 5, 5), refKernel(1.2, l));
      const got = plane(path.at([1.2]).dataSync(), 0, 5, 5);
      got.forEach((row, y) => row.forEach((v, x) => expect(v).toBeCloseTo(want[y][x], 5)));
    }
  });

  test("the even-size kernel is asymmetric (coordinates -1..2), the odd one symmetric", () => {
    const k4 = refKernel(1.2, 4);
    expect(k4[0][0]).not.toBeCloseTo(k4[3][3], 3);
    const k9 = refKernel(1.2, 9);
    expect(k9[0][0]).toBeCloseTo(k9[8][8], 12);
    // Through the engine: blurring a centred impulse with l = 4 is not mirror-symmetric.
    const impulse = new Float32Array(49);
    impulse[24] = 1;
    const out = progressiveBlurPath(tensor(impulse, [1, 1, 7, 7]), 1.2, 4)
      .at([1.2])
      .dataSync();
    expect(out[(3 - 1) * 7 + 3]).not.toBeCloseTo(out[(3 + 1) * 7 + 3], 4);
    const total = Array.from(out).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 5);
  });
});

describe("LAM on a linear SR map (nearest x4 upsampling, intensity detector)", () => {
  const model = (x: Tensor) => upsample(x, 4, "nearest");
  const window = { x: 5, y: 2, size: 6 };

  test("equals c * (I - I (*) K_sigma) exactly for any fold, and is complete", async () => {
    const lr = randomUniform([1, 3, 6, 5], { seed: 11 });
    // c[y][x] = number of HR pixels of the window that nearest upsampling copies from LR (y, x).
    const c = Array.from({ length: 6 }, (_, y) =>
      Array.from({ length: 5 }, (_, x) => {
        let n = 0;
        for (let Y = window.y; Y < window.y + window.size; Y++)
          for (let X = window.x; X < window.x + window.size; X++)
            if (Math.floor(Y / 4) === y && Math.floor(X / 4) === x) n++;
        return n;
      }),
    );
    const k = refKernel(1.2, 9);
    for (const fold of [1, 3, 50]) {
      const r = await lam(model, lr, { window, fold, detector: intensity, batch: 7 });
      const got = await r.map.data();
      for (let ch = 0; ch < 3; ch++) {
        const img = plane(lr.dataSync(), ch, 6, 5);
        const blurred = refFilter2d(img, k);
        for (let y = 0; y < 6; y++)
          for (let x = 0; x < 5; x++)
            expect(got[(ch * 6 + y) * 5 + x]).toBeCloseTo(c[y][x] * (img[y][x] - blurred[y][x]), 4);
      }
      expect(Math.abs(r.delta)).toBeLessThan(1e-3);
    }
  });

  test("batched evaluation equals step-by-step evaluation", async () => {
    const lr = randomUniform([1, 3, 6, 5], { seed: 12 });
    const w = randomNormal([3, 3, 3, 3], { seed: 13 });
    const net = (x: Tensor) => conv2d(upsample(x, 2), w, { padding: 1, relu: true });
    const win = { x: 2, y: 3, size: 5 };
    const one = await lam(net, lr, { window: win, fold: 6, batch: 1 });
    const all = await lam(net, lr, { window: win, fold: 6, batch: 6 });
    const odd = await lam(net, lr, { window: win, fold: 6, batch: 4 });
    expect(Array.from(await all.map.data())).toEqual(Array.from(await one.map.data()));
    expect(Array.from(await odd.map.data())).toEqual(Array.from(await one.map.data()));
  });
});

describe("LAM NaN policy (sqrt has derivative 0 at 0)", () => {
  test("a window where the SR output is exactly flat gives an all-zero map and D = 0", async () => {
    // Nearest x4 is the last op, so SR rows 4..7 x columns 8..11 copy one LR pixel whatever the
    // input: the window (3 pixels plus the forward difference's extra row and column) sees one
    // value on every path image. D = 0 along the whole path, and with sqrt's derivative taken as
    // 0 at 0 every path gradient is exactly 0 (not NaN).
    const lr = randomUniform([1, 3, 8, 8], { seed: 6 });
    const w = randomNormal([3, 3, 3, 3], { seed: 7, std: 0.3 });
    const net = (x: Tensor) => upsample(conv2d(x, w, { padding: 1, relu: true }), 4);
    const r = await lam(net, lr, { window: { x: 8, y: 4, size: 3 }, fold: 5 });
    const v = await r.map.data();
    expect(v.every((e) => e === 0)).toBe(true);
    expect(r.details.detectorAtInput).toBe(0);
    expect(r.details.detectorAtBaseline).toBe(0);
    expect(r.delta).toBe(0);
  });

  test("nearest upsampling before the last conv (flat 2x2 spots): a finite map that carries D(input) - D(baseline)", async () => {
    const lr = randomUniform([1, 3, 8, 8], { seed: 4 });
    const w = randomNormal([3, 3, 3, 3], { seed: 5, std: 0.3 });
    const net = (x: Tensor) => conv2d(upsample(x, 4), w, { padding: 1 });
    const r = await lam(net, lr, { window: { x: 10, y: 12, size: 8 }, fold: 8 });
    const v = await r.map.data();
    expect(v.every(Number.isFinite)).toBe(true);
    expect(v.filter((e) => Math.abs(e) > 1e-6).length).toBeGreaterThan(10);
    // D at the input is attr_grad of the SR image by hand, and the map carries D(input) -
    // D(baseline) up to the reported delta (no mass lost at the flat spots).
    const window = { x: 10, y: 12, size: 8 };
    const dIn = windowGradientMagnitude(net(lr).dataSync(), 3, 32, 32, window);
    expect(Math.abs(r.details.detectorAtInput - dIn)).toBeLessThan(1e-5 * dIn);
    let total = 0;
    for (const e of v) total += e;
    expect(r.delta).toBeCloseTo(total - (dIn - r.details.detectorAtBaseline), 4);
    expect(Math.abs(r.delta)).toBeLessThan(0.1 * Math.abs(dIn - r.details.detectorAtBaseline));
  });

  test("repeated LAM calls do not leak tensors", async () => {
    const lr = randomUniform([1, 3, 4, 4], { seed: 4 });
    const run = async () =>
      (
        await lam((x) => upsample(x, 2), lr, { window: { x: 1, y: 1, size: 4 }, fold: 4, batch: 3 })
      ).map.dispose();
    await run();
    const before = memory();
    for (let i = 0; i < 20; i++) await run();
    expect(memory()).toEqual(before);
  });
});

describe("LAM bad input", () => {
  const lr = randomUniform([1, 3, 4, 4], { seed: 1 });
  test("window outside the image", async () => {
    await expect(
      lam((x) => upsample(x, 2), lr, { window: { x: 5, y: 0, size: 4 } }),
    ).rejects.toThrow(/does not fit the 8x8 SR output/);
  });
  test("a model that is not image-to-image", async () => {
    await expect(
      lam((x) => x, randomUniform([2, 3, 4, 4]), { window: { x: 0, y: 0, size: 2 } }),
    ).rejects.toThrow(/one LR image/);
    const classifier = () => randomUniform([1, 10]);
    await expect(lam(classifier, lr, { window: { x: 0, y: 0, size: 2 } })).rejects.toThrow(
      /must map \[1, C, h, w\] images/,
    );
  });
  test("a non-integer scale", async () => {
    await expect(
      lam(() => randomUniform([1, 3, 6, 6]), lr, { window: { x: 0, y: 0, size: 2 } }),
    ).rejects.toThrow(/not an integer upscale/);
  });
});

describe("Gini and diffusion index", () => {
  test("constant map: Gini 0, DI 100", () => {
    expect(gini(new Float32Array(50).fill(0.3))).toBeCloseTo(0, 10);
    expect(diffusionIndex(new Float32Array(50).fill(0.3))).toBeCloseTo(100, 8);
  });
  test("one-hot of size n: Gini (n - 1) / n up to the 1e-7 shift", () => {
    const v = new Float64Array(100);
    v[37] = 1;
    expect(gini(v)).toBeCloseTo(0.99, 4);
  });
  test("[0, 0, 0, 1] gives 0.75", () => {
    expect(gini([0, 0, 0, 1])).toBeCloseTo(0.75, 5);
    expect(gini([1, 0, 0, 0])).toBeCloseTo(0.75, 5);
  });
  test("negative values are shifted by the minimum first", () => {
    expect(gini([-1, -1, -1, 0])).toBeCloseTo(0.75, 5);
  });
  test("count of pixels holding just under 95% of the mass", () => {
    expect(countSaliencyPixels([0.5, 0.3, 0.15, 0.05])).toBe(2); // 0.5, 0.8 < 0.95; 0.95 is not
    expect(countSaliencyPixels([1, 1, 1, 1], 0.5)).toBe(1);
  });
});

describe("LAM visualisation helpers", () => {
  test("weighted KDE matches scipy.stats.gaussian_kde (Scott bandwidth) normalised by its max", () => {
    const cases: { h: number; w: number; map: number[]; kde: number[] }[] = JSON.parse(
      readFileSync(new URL("../fixtures/lam/kde.json", import.meta.url), "utf8"),
    );
    for (const c of cases) {
      const z = weightedKde(c.map, c.h, c.w);
      c.kde.forEach((v, i) => expect(z[i]).toBeCloseTo(v, 9));
    }
  });
  test("gradAbsNorm sums channels before the absolute value", () => {
    // channel sums: [1 - 3, 2 + 0] = [-2, 2]; |.| / max = [1, 1]; abs-then-sum would give [4/2, 2/2].
    expect(Array.from(gradAbsNorm([1, 2, -3, 0], 2, 1, 2))).toEqual([1, 1]);
    expect(Array.from(gradAbsNorm([0, 0, 0, 0], 2, 1, 2))).toEqual([0, 0]);
  });
});

describe("LAM panels", () => {
  test("the four-panel grid: red window, seismic map (white at 0, dark red at 1), blends", () => {
    const h = 4;
    const w = 5;
    const lr = new Float32Array(3 * h * w).fill(0.5);
    const map = new Float32Array(3 * h * w);
    map[2 * w + 3] = 2; // one LR pixel (row 2, column 3) holds all the attribution
    map[h * w + 2 * w + 3] = 1;
    const hr = { width: w * 2, height: h * 2, data: new Uint8Array(w * 2 * h * 2 * 3).fill(128) };
    const { grid, panels, absNorm } = lamPanels({
      hr,
      lr,
      map,
      height: h,
      width: w,
      scale: 2,
      window: { x: 2, y: 2, size: 4 },
    });
    expect(grid.width).toBe(4 * w * 2 + 3 * 4);
    expect(absNorm[2 * w + 3]).toBe(1);
    expect(absNorm.filter((v) => v !== 0).length).toBe(1);
    // matplotlib seismic: 0.5 -> (255, 254/253, 253) near white; 1.0 -> (128, 0, 0) dark red.
    const abs = panels[1].image;
    const px = (img: typeof abs, x: number, y: number) =>
      Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
    expect(px(abs, 0, 0)[0]).toBeGreaterThan(250);
    expect(px(abs, 0, 0)[2]).toBeGreaterThan(250);
    expect(px(abs, 2 * 3, 2 * 2)).toEqual([128, 0, 0]);
    expect(px(abs, 2 * 3 + 1, 2 * 2 + 1)).toEqual([128, 0, 0]); // nearest enlargement
    // The window outline is red at its corner, the inside untouched.
    expect(px(panels[0].image, 2, 2)).toEqual([255, 0, 0]);
    expect(px(panels[0].image, 4, 4)).toEqual([128, 128, 128]);
    // 0.5 blend with the flat grey LR (bicubic of a constant is that constant, 128).
    expect(px(panels[2].image, 6, 4)).toEqual([128, 64, 64]);
  });
});
