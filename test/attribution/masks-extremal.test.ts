/** Extremal perturbations on a network whose evidence is known: one checkerboard patch. */
import { describe, expect, test } from "vitest";
import { extremalPerturbation } from "../../src/attribution/methods/extremal-perturbation.ts";
import { keep } from "../../src/autodiff/tidy.ts";
import { tensor } from "../../src/index.ts";
import { checkerPatchModel } from "./masks-helpers.ts";

// A 32 x 32 checkerboard; the score is (20 / 64) * sum over the 8 x 8 patch at (12, 16) of
// x on white squares minus x on black ones. Any blur of the checkerboard flattens the patch to
// ~0.5 everywhere, which scores ~0, so only the patch itself holds the evidence.
const H = 32;
const PATCH = { y: 12, x: 16, side: 8 };

describe("extremal perturbation", () => {
  test("preserve: the mask meets its area and covers exactly the patch, which keeps the score", async () => {
    const { model, image } = checkerPatchModel(H, PATCH, 20);
    // TorchRay's grid at 32 px: step round(7 * 32/224) = 1, sigma 3, margin 3, padding
    // 1 + ceil(6) = 7, radius 1 + 3 = 4, so 32 + 14 - 9 + 1 = 38 cells a side. An area of
    // 64 / 38^2 asks for exactly the patch's 64 pixels.
    const area = 64 / (38 * 38);
    const r = await extremalPerturbation(model, image, 0, {
      areas: [area],
      iterations: 250,
      // Fewer steps than TorchRay's 800, so a faster step and a firmer constraint from the start.
      learningRate: 0.05,
      areaWeight: 1000,
      jitter: false,
    });
    expect(r.map.shape).toEqual([1, 1, H, H]);
    expect(Math.abs(r.details.maskArea[0][0] - area)).toBeLessThan(0.02);
    const m = r.map.dataSync();
    let inside = 0;
    let outside = 0;
    let on = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < H; x++) {
        const v = m[y * H + x];
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
        if (v > 0.5) on++;
        const inPatch = y >= PATCH.y && y < PATCH.y + 8 && x >= PATCH.x && x < PATCH.x + 8;
        if (inPatch) inside += v;
        else outside += v;
      }
    }
    expect(inside / 64).toBeGreaterThan(0.9);
    expect(outside / (H * H - 64)).toBeLessThan(0.1);
    expect(Math.abs(on - 64)).toBeLessThanOrEqual(24);
    // Keep the pixels where the mask is on and flatten the rest to 0.5: the score survives.
    const img = image.dataSync();
    const kept = new Float32Array(H * H);
    for (let p = 0; p < H * H; p++) kept[p] = m[p] > 0.5 ? img[p] : 0.5;
    const full = model(image).dataSync()[0];
    const preserved = model(keep(tensor(kept, [1, 1, H, H]))).dataSync()[0];
    expect(full).toBeCloseTo(20, 4);
    expect(preserved).toBeGreaterThan(0.9 * full);
  }, 120_000);

  test("refuses bad options with the option named", async () => {
    const { model, image } = checkerPatchModel(H, PATCH, 20);
    await expect(extremalPerturbation(model, image, 0, { areas: [1.5] })).rejects.toThrow(
      /areas must be fractions in \(0, 1\)/,
    );
    await expect(
      extremalPerturbation(model, image, 0, { variant: "both" as "dual" }),
    ).rejects.toThrow(/variant must be preserve, delete or dual/);
    await expect(extremalPerturbation(model, image, 0, { step: 1.5 })).rejects.toThrow(
      /step must be a positive integer/,
    );
  });
});
