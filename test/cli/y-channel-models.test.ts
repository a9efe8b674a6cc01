/**
 * A 1-channel SR checkpoint (FSRCNN on Y, `--arch fsrcnn`) on RGB images in the CLI: upscale and
 * lam run it on BT.601 Y with bicubic Cb/Cr, checked against compositions written from the
 * formulas in test/reference/ycbcr.ts; compare-models accepts --arch.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, test } from "vitest";
import { lam } from "../../src/attribution/lam/lam.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { runCompareModels } from "../../src/cli/compare-models.ts";
import { runLam } from "../../src/cli/lam.ts";
import { resolveSrModel } from "../../src/cli/sr-models.ts";
import { runUpscale } from "../../src/cli/upscale.ts";
import { writeSafetensors } from "../../src/models/io/safetensors.ts";
import { Fsrcnn } from "../../src/models/zoo/fsrcnn.ts";
import { tensor } from "../../src/ops/creation.ts";
import { Random } from "../../src/random.ts";
import { writePng } from "../../src/viz/image-io-node.ts";
import { decodeNpy } from "../../src/viz/npy.ts";
import { yPathByHand, yPathOps } from "../reference/ycbcr.ts";

const dir = mkdtempSync(join(tmpdir(), "salient-ychannel-"));

// The zoo's FSRCNN as --arch fsrcnn builds it (1 channel, d56 s12 m4), with seeded random weights.
const model = new Fsrcnn(2, { seed: 11 }).eval();
const weights = join(dir, "fsrcnn-y.safetensors");
writeFileSync(
  weights,
  writeSafetensors(
    new Map(
      [...model.stateDict()].map(([k, v]) => [
        k,
        { values: Float32Array.from(v.dataSync()), shape: [...v.shape] },
      ]),
    ),
  ),
);

/** An 8-bit RGB PNG and its [3, h, w] values in [0, 1]. */
function rgbPng(h: number, w: number, seed: number): { path: string; planes: Float32Array } {
  const rng = new Random(seed);
  const bytes = Uint8Array.from({ length: h * w * 3 }, () => Math.floor(rng.uniform() * 256));
  const path = join(dir, `in-${seed}.png`);
  writePng(path, { width: w, height: h, data: bytes });
  const planes = new Float32Array(3 * h * w);
  for (let i = 0; i < h * w; i++)
    for (let c = 0; c < 3; c++) planes[c * h * w + i] = bytes[i * 3 + c] / 255;
  return { path, planes };
}

describe("1-channel SR checkpoints on RGB images", () => {
  test("resolveSrModel(--arch fsrcnn, 1-channel weights) runs Y through the model, bicubic Cb/Cr", () => {
    const [h, w] = [9, 11];
    const { planes } = rgbPng(h, w, 1);
    const m = resolveSrModel({ model: weights, arch: "fsrcnn", scale: 2 });
    const got = tidy(() => m.run(tensor(planes, [1, 3, h, w])).dataSync());
    const want = yPathByHand((y) => model.call(y), planes, h, w, 2);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeLessThan(1e-4);
  });

  test("upscale writes the Y-path result, clamped and rounded to 8 bits", async () => {
    const [h, w] = [12, 10];
    const { path, planes } = rgbPng(h, w, 2);
    const out = join(dir, "up.png");
    await runUpscale(
      [
        "--model",
        weights,
        "--arch",
        "fsrcnn",
        "--scale",
        "2",
        "--image",
        path,
        "--out",
        out,
        "--tile",
        "64",
      ],
      () => {},
    );
    const png = PNG.sync.read(readFileSync(out));
    expect([png.height, png.width]).toEqual([2 * h, 2 * w]);
    const want = yPathByHand((y) => model.call(y), planes, h, w, 2);
    const n = 4 * h * w;
    let worst = 0;
    for (let i = 0; i < n; i++)
      for (let c = 0; c < 3; c++) {
        const expected = Math.round(255 * Math.min(1, Math.max(0, want[c * n + i])));
        worst = Math.max(worst, Math.abs(png.data[i * 4 + c] - expected));
      }
    // Rounding of values within float32 error of a half step may go either way.
    expect(worst).toBeLessThanOrEqual(1);
  });

  test("lam's map equals LAM of the Y path composed from the formulas", async () => {
    const [h, w] = [8, 8];
    const { path, planes } = rgbPng(h, w, 3);
    const prefix = join(dir, "lam");
    const lines: string[] = [];
    await runLam(
      [
        "--model",
        weights,
        "--arch",
        "fsrcnn",
        "--scale",
        "2",
        "--lr",
        path,
        "--window",
        "4,4,4",
        "--fold",
        "4",
        "--out",
        prefix,
      ],
      (l) => lines.push(l),
    );
    const got = decodeNpy(new Uint8Array(readFileSync(`${prefix}.npy`)));
    expect(got.shape).toEqual([3, h, w]);
    const lr = tensor(planes, [1, 3, h, w]);
    const r = await lam(
      yPathOps((y) => model.call(y), 2),
      lr,
      {
        window: { x: 4, y: 4, size: 4 },
        fold: 4,
      },
    );
    const want = Float32Array.from(await r.map.data());
    r.map.dispose();
    lr.dispose();
    const scale = Math.max(...want.map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    let worst = 0;
    for (let i = 0; i < want.length; i++)
      worst = Math.max(worst, Math.abs(got.values[i] - want[i]));
    expect(worst / scale).toBeLessThan(1e-3);
  });

  test("compare-models takes --arch for weights files without an ARCH: prefix", async () => {
    const { path } = rgbPng(16, 16, 4);
    const prefix = join(dir, "zoo");
    const args = ["--models", weights, "--scale", "2", "--images", path, "--windows", "4,4,4"];
    const rest = ["--fold", "2", "--out", prefix];
    await expect(runCompareModels([...args, ...rest], () => {})).rejects.toThrow(
      "is a weights file: name its architecture with --arch",
    );
    await runCompareModels([...args, "--arch", "fsrcnn", ...rest], () => {});
    const { rows } = JSON.parse(readFileSync(`${prefix}.json`, "utf8"));
    expect(rows.map((r: { model: string }) => r.model)).toEqual([`fsrcnn x2 (${weights})`]);
    expect(rows[0].parameters).toBe(model.parameterCount());
  });
});
