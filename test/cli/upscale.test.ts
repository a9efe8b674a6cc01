/**
 * `salient upscale`: tiling must not change the result. With a margin at least as wide as the
 * model's receptive field (bicubic: 2 LR pixels; the bundled FSRCNN in RGB: about 9), the stitched
 * image equals one forward pass over the whole image; with too small a margin the seams show,
 * and widening the margin shrinks the difference.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, test } from "vitest";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { runUpscale } from "../../src/cli/upscale.ts";
import { upscaleTiled } from "../../src/models/sr/tiled.ts";
import { loadFsrcnnX2 } from "../../src/models/zoo/fsrcnn-pretrained.ts";
import { fsrcnnRgb } from "../../src/models/zoo/fsrcnn-rgb.ts";
import { tensor } from "../../src/ops/creation.ts";
import { resize } from "../../src/ops/resize.ts";
import { Random } from "../../src/random.ts";
import { writePng } from "../../src/viz/image-io-node.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-upscale-"));

function image(h: number, w: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: 3 * h * w }, () => rng.uniform());
}

const bicubic = (s: number) => (x: Tensor) =>
  resize(x, [x.shape[2] * s, x.shape[3] * s], { mode: "bicubic" });

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function compare(
  run: (x: Tensor) => Tensor,
  s: number,
  h: number,
  w: number,
  tile: number,
  margin: number,
) {
  const lr = tensor(image(h, w, h * 31 + w), [1, 3, h, w]);
  const whole = tidy(() => run(lr).dataSync());
  const tiled = await upscaleTiled(run, lr, s, { tile, margin });
  lr.dispose();
  expect(tiled.shape).toEqual([3, h * s, w * s]);
  expect(tiled.tiles).toBe(Math.ceil(h / tile) * Math.ceil(w / tile));
  return maxDiff(tiled.values, whole);
}

describe("tiled equals untiled", () => {
  test("bicubic x3, ragged tiles (37x29 in tiles of 8, margin 8)", async () => {
    expect(await compare(bicubic(3), 3, 37, 29, 8, 8)).toBeLessThan(1e-5);
  });

  test("bicubic with margin 1 (< its reach of 2) differs at the seams", async () => {
    expect(await compare(bicubic(2), 2, 20, 20, 8, 1)).toBeGreaterThan(1e-3);
  });

  test("bundled FSRCNN x2 on RGB (40x36 in tiles of 16, margin 12)", async () => {
    const run = fsrcnnRgb(loadFsrcnnX2());
    expect(await compare(run, 2, 40, 36, 16, 12)).toBeLessThan(1e-4);
  });

  test("FSRCNN with a margin below its receptive field: the error shrinks as the margin grows", async () => {
    const run = fsrcnnRgb(loadFsrcnnX2());
    const errors = [];
    for (const m of [0, 3, 6]) errors.push(await compare(run, 2, 24, 24, 8, m));
    expect(errors[0]).toBeGreaterThan(1e-3);
    expect(errors[1]).toBeLessThan(errors[0]);
    expect(errors[2]).toBeLessThan(errors[1]);
  });

  test("a tile larger than the image is one pass", async () => {
    expect(await compare(bicubic(2), 2, 10, 12, 64, 8)).toBe(0);
  });
});

describe("salient upscale", () => {
  test("writes the clamped, 8-bit rounded untiled result and a JSON summary", async () => {
    const h = 21;
    const w = 17;
    const rng = new Random(9);
    const rgb = Uint8Array.from({ length: h * w * 3 }, () => Math.floor(rng.uniform() * 256));
    const input = join(dir, "in.png");
    writePng(input, { width: w, height: h, data: rgb });
    const out = join(dir, "out.png");
    const lines: string[] = [];
    const summary = await runUpscale(
      ["--model", "bicubic", "--scale", "2", "--image", input, "--out", out, "--tile", "8"],
      (l) => lines.push(l),
    );
    expect(JSON.parse(lines.at(-1)!)).toEqual(summary);
    expect(summary).toMatchObject({
      model: "bicubic",
      scale: 2,
      input: [h, w],
      output: [2 * h, 2 * w],
      tiles: 9,
      margin: 8,
    });
    // Reference: planes from the PNG bytes, one bicubic pass, clamp, round.
    const planes = new Float32Array(3 * h * w);
    for (let p = 0; p < h * w; p++)
      for (let c = 0; c < 3; c++) planes[c * h * w + p] = rgb[p * 3 + c] / 255;
    const want = tidy(() => bicubic(2)(tensor(planes, [1, 3, h, w])).dataSync());
    const png = PNG.sync.read(readFileSync(out));
    expect([png.height, png.width]).toEqual([2 * h, 2 * w]);
    const hw = 4 * h * w;
    let off = 0;
    for (let p = 0; p < hw; p++)
      for (let c = 0; c < 3; c++) {
        const v = Math.round(255 * Math.min(1, Math.max(0, want[c * hw + p])));
        off = Math.max(off, Math.abs(png.data[p * 4 + c] - v));
      }
    expect(off).toBeLessThanOrEqual(1); // float rounding at .5 boundaries only
  });

  test("bad options", async () => {
    const input = join(dir, "in.png");
    await expect(runUpscale(["--model", "bicubic", "--image", input], () => {})).rejects.toThrow(
      "upscale needs --out; see salient upscale --help",
    );
    await expect(
      runUpscale(
        ["--model", "bicubic", "--image", input, "--out", join(dir, "x.png"), "--tile", "0"],
        () => {},
      ),
    ).rejects.toThrow('--tile must be an integer from 1 to 4096, got "0"');
    await expect(
      runUpscale(
        ["--model", "fsrcnn-x2", "--scale", "3", "--image", input, "--out", join(dir, "x.png")],
        () => {},
      ),
    ).rejects.toThrow(/fsrcnn-x2 is trained for x2 only/);
  });
});
