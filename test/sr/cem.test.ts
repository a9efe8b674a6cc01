/**
 * Causal effect maps on a hand-built "SR model" whose output region depends on one known input
 * block: nearest x2 upsampling of the input shifted right by one block, so the region reads the
 * block to the left of the one under it.
 */
import { describe, expect, test } from "vitest";
import { causalEffectMap, strongestBlocks } from "../../src/attribution/sr/cem.ts";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { concat } from "../../src/ops/concat.ts";
import { randomUniform, zeros } from "../../src/ops/creation.ts";
import { upsample } from "../../src/ops/resize.ts";
import { slice } from "../../src/ops/slice.ts";

const B = 8;
/** SR(x)[y, x] = x[y / 2, x / 2 - 8] (zero where that falls off the left edge). */
const shiftedNearest = (x: Tensor) => {
  const [n, c, h, w] = x.shape;
  const shifted = concat([zeros([n, c, h, B]), slice(x, [0, 0, 0, 0], [n, c, h, w - B])], 3);
  return upsample(shifted, 2, "nearest");
};
// SR pixels 32..47 x 16..31 = LR columns 16..23, rows 8..15 after the shift = LR block (1, 1)
const region = { x: 32, y: 16, size: 16 };

describe("causal effect maps", () => {
  const lr = randomUniform([1, 3, 32, 32], { seed: 1 });
  const donors = [2, 3].map((seed) => randomUniform([1, 3, 32, 32], { seed }));
  const reference = tidy(() => shiftedNearest(lr));

  test("find the one block the region depends on, through the coarse pass and refinement", async () => {
    const r = await causalEffectMap(shiftedNearest, lr, reference, region, donors, {
      block: B,
      coarse: 2,
      batch: 3,
    });
    expect(r.grid).toEqual([4, 4]);
    expect(r.psnr).toBeCloseTo(100, 6); // the reference is the unmodified output
    // coarse cells of 16 LR pixels: only cell (0, 0) holds block (1, 1), so only it is refined
    expect(Array.from(r.coarse!.effects, (e) => e > 0)).toEqual([true, false, false, false]);
    expect([...r.evaluated]).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(r.evaluations).toBe(4 * 2 + 4 * 2);
    const s = strongestBlocks(r);
    expect(s.positive.map((b) => [b.row, b.col])).toEqual([[1, 1]]);
    expect(s.negative).toEqual([]);
    // without the coarse pass every block is evaluated and the answer is the same
    const full = await causalEffectMap(shiftedNearest, lr, reference, region, donors, {
      block: B,
      coarse: 1,
    });
    expect(full.evaluated.every((e) => e === 1)).toBe(true);
    expect(strongestBlocks(full).positive.map((b) => [b.row, b.col])).toEqual([[1, 1]]);
    expect(full.effects[5]).toBeCloseTo(r.effects[5], 4);
    // By hand: the region is block (1, 1) (LR rows and columns 8..15) upsampled by nearest, so
    // its MSE with a donor's block in place is the block's MSE; the effect is the 100 dB cap
    // minus the mean over donors of 10 log10(1 / mse).
    const block = (t: Tensor) => Array.from(slice(t, [0, 0, 8, 8], [1, 3, 8, 8]).dataSync());
    const mine = block(lr);
    const psnrs = donors.map((d) => {
      const theirs = block(d);
      const mse = mine.reduce((a, v, i) => a + (v - theirs[i]) ** 2, 0) / mine.length;
      return 10 * Math.log10(1 / mse);
    });
    expect(full.effects[5]).toBeCloseTo(100 - (psnrs[0] + psnrs[1]) / 2, 3);
    full.effects.forEach((e, i) => {
      if (i !== 5) expect(e, `block ${i}`).toBe(0);
    });
  });

  test("negative effect: the donor's block is the one the reference wants", async () => {
    // reference = the output on the donor, so putting the donor's block (1, 1) in makes the
    // region exact: PSNR goes from 10 log10(1 / mse) to the 100 dB cap
    const ref = tidy(() => shiftedNearest(donors[0]));
    const mse = tidy(() => {
      const a = slice(shiftedNearest(lr), [0, 0, 16, 32], [1, 3, 16, 16]).dataSync();
      const b = slice(ref, [0, 0, 16, 32], [1, 3, 16, 16]).dataSync();
      return Array.from(a).reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length;
    });
    const r = await causalEffectMap(shiftedNearest, lr, ref, region, [donors[0]], {
      block: B,
      coarse: 1,
    });
    const s = strongestBlocks(r);
    expect(s.positive).toEqual([]);
    expect(s.negative).toHaveLength(1);
    expect(s.negative[0]).toMatchObject({ row: 1, col: 1 });
    expect(s.negative[0].effect).toBeCloseTo(10 * Math.log10(1 / mse) - 100, 3);
  });

  test("bad input is refused with what was expected", async () => {
    const run = (o: object, d = donors, reg = region) =>
      causalEffectMap(shiftedNearest, lr, reference, reg, d, o);
    await expect(run({}, [])).rejects.toThrow(/at least one donor/);
    await expect(run({}, [randomUniform([1, 3, 16, 16])])).rejects.toThrow(/donor 0 has shape/);
    await expect(run({}, donors, { x: 60, y: 0, size: 8 })).rejects.toThrow(/inside the 64x64/);
    await expect(run({ block: 0 })).rejects.toThrow(/block must be an integer >= 1/);
    await expect(run({ refine: 2 })).rejects.toThrow(/refine must be in \[0, 1\]/);
  });
});
