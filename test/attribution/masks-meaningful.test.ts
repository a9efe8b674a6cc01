/** Meaningful perturbation finds the one informative patch of a synthetic model. */
import { describe, expect, test } from "vitest";
import { meaningfulPerturbation } from "../../src/attribution/methods/meaningful-perturbation.ts";
import { checkerPatchModel } from "./masks-helpers.ts";

const H = 32;
const PATCH = { y: 8, x: 16, side: 8 };

describe("meaningful perturbation", () => {
  test("deletes the informative patch and little else", async () => {
    // Logits [4, 0] on the checkerboard (p = 0.982); with the patch blurred flat they are [0, 0],
    // p = 0.5, the lowest any deletion can reach. Jitter is off: shifting a checkerboard by one
    // pixel would flip its evidence.
    const { model, image } = checkerPatchModel(H, PATCH, 4);
    const r = await meaningfulPerturbation(model, image, 0, {
      iterations: 150,
      maskSize: 8,
      jitter: 0,
    });
    expect(r.map.shape).toEqual([1, 1, H, H]);
    expect(r.details.maskedScore[0]).toBeLessThan(0.52);
    const m = r.map.dataSync();
    let inside = 0;
    let far = 0;
    let farCount = 0;
    let cy = 0;
    let cx = 0;
    let mass = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < H; x++) {
        const v = m[y * H + x];
        const dy = Math.max(PATCH.y - y, y - (PATCH.y + 7), 0);
        const dx = Math.max(PATCH.x - x, x - (PATCH.x + 7), 0);
        if (dy === 0 && dx === 0) inside += v;
        else if (Math.max(dy, dx) > 6) {
          far += v;
          farCount++;
        }
        cy += v * y;
        cx += v * x;
        mass += v;
      }
    }
    expect(inside / 64).toBeGreaterThan(0.95);
    expect(far / farCount).toBeLessThan(0.15);
    // The deleted mass is centred on the patch (centre 11.5, 19.5).
    expect(Math.abs(cy / mass - 11.5)).toBeLessThan(1.5);
    expect(Math.abs(cx / mass - 19.5)).toBeLessThan(1.5);
  }, 60_000);

  test("refuses a bad perturbation kind", async () => {
    const { model, image } = checkerPatchModel(H, PATCH, 4);
    await expect(
      meaningfulPerturbation(model, image, 0, { perturbation: "smear" as "blur" }),
    ).rejects.toThrow(/perturbation must be blur, constant or noise/);
  });
});
