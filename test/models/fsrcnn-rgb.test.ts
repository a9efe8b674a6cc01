/**
 * The colour wrapper around the bundled luminance FSRCNN x2 (`fsrcnn-x2` in the CLI): BT.601
 * conversions, the pipeline against FSRCNN run on Y by hand, and gradients through it.
 */
import { describe, expect, test } from "vitest";
import { grad } from "../../src/autodiff/grad.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { resolveSrModel } from "../../src/cli/sr-models.ts";
import { rgbToY } from "../../src/models/train/sr-data.ts";
import { loadFsrcnnX2 } from "../../src/models/zoo/fsrcnn-pretrained.ts";
import { fsrcnnRgb, rgbToYcbcr, ycbcrToRgb } from "../../src/models/zoo/fsrcnn-rgb.ts";
import { mul } from "../../src/ops/binary.ts";
import { tensor } from "../../src/ops/creation.ts";
import { sum } from "../../src/ops/reduce.ts";
import { Random } from "../../src/random.ts";

function randomValues(n: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => rng.uniform());
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("fsrcnn-rgb", () => {
  test("Y of rgbToYcbcr is the training luma (sr-data rgbToY); grey has Cb = Cr = 128/255", () => {
    const h = 5;
    const w = 7;
    const rgb = randomValues(3 * h * w, 1);
    const ycc = tidy(() => rgbToYcbcr(tensor(rgb, [1, 3, h, w])).dataSync());
    const y = rgbToY({ height: h, width: w, data: rgb }).data;
    expect(maxAbsDiff(ycc.subarray(0, h * w), y)).toBeLessThan(1e-6);
    // MATLAB rgb2ycbcr by hand for a few pixels (values in [0, 255]).
    for (const p of [0, 11, 34]) {
      const [r, g, b] = [rgb[p], rgb[h * w + p], rgb[2 * h * w + p]];
      expect(255 * ycc[h * w + p]).toBeCloseTo(128 - 37.797 * r - 74.203 * g + 112 * b, 3);
      expect(255 * ycc[2 * h * w + p]).toBeCloseTo(128 + 112 * r - 93.786 * g - 18.214 * b, 3);
    }
    const grey = tidy(() => rgbToYcbcr(tensor([0, 0.3, 0, 0.3, 0, 0.3], [1, 3, 1, 2])).dataSync());
    expect(Array.from(grey.subarray(2), (v) => v * 255)).toEqual([
      expect.closeTo(128, 4),
      expect.closeTo(128, 4),
      expect.closeTo(128, 4),
      expect.closeTo(128, 4),
    ]);
    // Y of black is the studio range's foot 16; a grey g gives 16 + 219 g.
    expect(255 * grey[0]).toBeCloseTo(16, 4);
    expect(255 * grey[1]).toBeCloseTo(16 + 219 * 0.3, 4);
  });

  test("RGB -> YCbCr -> RGB is the identity within 1e-6", () => {
    const n = 3 * 9 * 11;
    const rgb = randomValues(n, 2);
    const back = tidy(() => ycbcrToRgb(rgbToYcbcr(tensor(rgb, [1, 3, 9, 11]))).dataSync());
    expect(maxAbsDiff(back, rgb)).toBeLessThan(1e-6);
  });

  test("on a grey image every output channel is FSRCNN applied to Y, back in RGB", () => {
    const h = 12;
    const w = 10;
    const g = randomValues(h * w, 3);
    const rgb = new Float32Array(3 * h * w);
    for (let c = 0; c < 3; c++) rgb.set(g, c * h * w);
    // Y by hand: 16 + (65.481 + 128.553 + 24.966) g = 16 + 219 g on the [0, 255] scale.
    const y = Float32Array.from(g, (v) => (16 + 219 * v) / 255);
    const fsrcnn = loadFsrcnnX2();
    const ySr = tidy(() => fsrcnn.call(tensor(y, [1, 1, h, w])).dataSync());
    // Cb = Cr = 128 stay 128 under bicubic upscaling, so R = G = B = (255 Y - 16) / 219.
    const expected = Float32Array.from(ySr, (v) => (255 * v - 16) / 219);
    const out = tidy(() => fsrcnnRgb(fsrcnn)(tensor(rgb, [1, 3, h, w])).dataSync());
    expect(out.length).toBe(3 * 4 * h * w);
    const hw = 4 * h * w;
    for (let c = 0; c < 3; c++)
      expect(maxAbsDiff(out.subarray(c * hw, (c + 1) * hw), expected)).toBeLessThan(1e-5);
    // The output is not simply the input repeated: FSRCNN did work.
    expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.1);
  });

  test("gradients flow to all three input channels and match finite differences", () => {
    const [h, w] = [4, 5];
    const x0 = randomValues(3 * h * w, 4);
    const ct = randomValues(3 * 4 * h * w, 5).map((v) => v - 0.5);
    const run = fsrcnnRgb(loadFsrcnnX2());
    // f(x) = <ct, run(x)>, evaluated in float64 from the float32 outputs.
    const f = (x: Float32Array) => {
      const out = tidy(() => run(tensor(x, [1, 3, h, w])).dataSync());
      let s = 0;
      for (let i = 0; i < out.length; i++) s += ct[i] * out[i];
      return s;
    };
    const g = tidy(() =>
      grad((x) => sum(mul(run(x), tensor(ct, [1, 3, 2 * h, 2 * w]))))(
        tensor(x0, [1, 3, h, w]),
      ).dataSync(),
    );
    for (let c = 0; c < 3; c++) {
      const norm = Math.hypot(...g.subarray(c * h * w, (c + 1) * h * w));
      expect(norm).toBeGreaterThan(1e-3);
    }
    const eps = 1e-3;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < x0.length; i++) {
      const plus = Float32Array.from(x0);
      const minus = Float32Array.from(x0);
      plus[i] += eps;
      minus[i] -= eps;
      const numeric = (f(plus) - f(minus)) / (plus[i] - minus[i]);
      worst = Math.max(worst, Math.abs(numeric - g[i]));
      scale = Math.max(scale, Math.abs(g[i]));
    }
    expect(worst).toBeLessThan(2e-3 * Math.max(1, scale));
  });

  test("resolveSrModel: fsrcnn-x2 at x2 only", () => {
    const m = resolveSrModel({ model: "fsrcnn-x2", scale: 2 });
    // d 56, s 12, m 4: 5x5 conv + PReLU, 1x1 shrink + PReLU, 4 x (3x3 + PReLU), 1x1 expand +
    // PReLU, 9x9 transposed conv to one channel.
    const first = 25 * 56 + 56 + 56;
    const shrink = 56 * 12 + 12 + 12;
    const map = 4 * (9 * 12 * 12 + 12 + 12);
    const expand = 12 * 56 + 56 + 56;
    const deconv = 81 * 56 + 1;
    const params = first + shrink + map + expand + deconv;
    expect(m.parameters).toBe(params);
    expect(m.scale).toBe(2);
    const shape = tidy(() => m.run(tensor(randomValues(3 * 6 * 8, 6), [1, 3, 6, 8])).shape);
    expect(shape).toEqual([1, 3, 12, 16]);
    expect(() => resolveSrModel({ model: "fsrcnn-x2", scale: 4 })).toThrow(/x2 only.*--scale 2/);
  });
});
