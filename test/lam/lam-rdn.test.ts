/**
 * LAM on a real pretrained network: UpscalerJS esrgan-slim x4 (RDN, nearest upsampling before a
 * 3x3 conv, where LAM_Demo's NaN fix empties the map) on a real photograph.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { gini } from "../../src/attribution/lam/gini.ts";
import { lam } from "../../src/attribution/lam/lam.ts";
import { gradAbsNorm } from "../../src/attribution/lam/normalize.ts";
import { lamImagesFromHr } from "../../src/cli/lam-images.ts";
import { resolveSrModel } from "../../src/cli/sr-models.ts";

const photo = fileURLToPath(new URL("../../assets/photos/astronaut.png", import.meta.url));

describe("LAM of RDN slim x4 on a photograph", () => {
  test("is finite, non-empty, concentrated around the window, with DI in (0, 100]", async () => {
    const model = resolveSrModel({ model: "esrgan-slim", scale: 4 });
    const images = lamImagesFromHr(photo, 4); // 128x128 HR -> 32x32 LR
    const window = { x: 56, y: 56, size: 16 }; // LR rows/cols 14..17
    const r = await lam(model.run, images.lr, { window, fold: 12, batch: 6 });
    const v = await r.map.data();
    expect(v.every(Number.isFinite)).toBe(true);
    const m = gradAbsNorm(v, 3, 32, 32);
    expect(m.filter((e) => e > 1e-3).length).toBeGreaterThan(16);
    // Mass within 6 LR pixels of the window's LR footprint (rows/cols 14..17).
    let near = 0;
    let total = 0;
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) {
        const d = Math.max(Math.max(14 - y, y - 17, 0), Math.max(14 - x, x - 17, 0));
        total += m[y * 32 + x];
        if (d <= 6) near += m[y * 32 + x];
      }
    expect(near / total).toBeGreaterThan(0.9);
    const di = (1 - gini(m)) * 100;
    expect(di).toBeGreaterThan(0);
    expect(di).toBeLessThanOrEqual(100);
    r.map.dispose();
    images.lr.dispose();
  }, 120_000);
});
