/**
 * LAM on a real pretrained network: UpscalerJS esrgan-slim x4 (RDN, nearest upsampling before a
 * 3x3 conv, where LAM_Demo's NaN fix empties the map) on a real photograph, as `salient lam`
 * reports it: the detector at the input recomputed by hand from the SR output, the path integral's
 * completeness, the map's concentration around the window, and the diffusion index recomputed from
 * the map with a pairwise Gini.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { runLamOn } from "../../src/cli/lam.ts";
import { lamImagesFromHr } from "../../src/cli/lam-images.ts";
import { resolveSrModel } from "../../src/cli/sr-models.ts";
import { tidy } from "../../src/index.ts";
import { diffusionIndexByPairs, windowGradientMagnitude } from "../reference/lam.ts";

const photo = fileURLToPath(new URL("../../assets/photos/astronaut.png", import.meta.url));

describe("LAM of RDN slim x4 on a photograph", () => {
  test("D, completeness, concentration around the window and DI hold against hand computations", async () => {
    const model = resolveSrModel({ model: "esrgan-slim", scale: 4 });
    const images = lamImagesFromHr(photo, 4); // 128x128 HR -> 32x32 LR
    const window = { x: 56, y: 56, size: 16 }; // LR rows/cols 14..17
    const { map, summary } = await runLamOn(model, images, { window, fold: 12, batch: 6 });
    const sr = tidy(() => model.run(images.lr).dataSync());
    // attr_grad over the window of the SR image, by hand in float64.
    const dIn = windowGradientMagnitude(sr, 3, 128, 128, window);
    expect(Math.abs((summary.detector_input as number) - dIn)).toBeLessThan(1e-5 * dIn);
    // Completeness of the path integral: sum(map) = D(input) - D(baseline) up to the quadrature
    // error of 12 steps (6% measured), and delta is exactly that difference.
    const dBase = summary.detector_baseline as number;
    let total = 0;
    for (const v of map) total += v;
    expect(dIn - dBase).toBeGreaterThan(0.3 * dIn);
    expect(summary.delta as number).toBeCloseTo(total - (dIn - dBase), 4);
    expect(Math.abs(total - (dIn - dBase))).toBeLessThan(0.1 * (dIn - dBase));
    // Mass of |sum over channels| within 6 LR pixels of the window's LR footprint (rows/cols 14..17).
    let near = 0;
    let mass = 0;
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) {
        const p = y * 32 + x;
        const m = Math.abs(map[p] + map[1024 + p] + map[2048 + p]);
        const d = Math.max(Math.max(14 - y, y - 17, 0), Math.max(14 - x, x - 17, 0));
        mass += m;
        if (d <= 6) near += m;
      }
    expect(near / mass).toBeGreaterThan(0.9);
    expect(summary.diffusion_index as number).toBeCloseTo(diffusionIndexByPairs(map, 3, 32, 32), 8);
    images.lr.dispose();
  }, 120_000);
});
