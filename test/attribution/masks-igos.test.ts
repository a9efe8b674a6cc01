/**
 * I-GOS / iGOS++: a synthetic model whose answer is known (one informative patch), and the bundled
 * multi-fashion classifier, where the deletion and insertion curves beat random.
 */
import { describe, expect, test } from "vitest";
import { loadExplainerPair } from "../../src/attribution/explainer/bundled.ts";
import { explainerPools, SEEDS } from "../../src/attribution/explainer/data.ts";
import { sigmoidOf } from "../../src/attribution/explainer/evaluate.ts";
import { igos } from "../../src/attribution/methods/igos.ts";
import { deletionAuc, insertionAuc } from "../../src/attribution/metrics/deletion.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { multiFashionSample } from "../../src/models/data/multi-fashion.ts";
import { tensor } from "../../src/ops/creation.ts";
import { Random } from "../../src/random.ts";
import { checkerPatchModel } from "./masks-helpers.ts";

describe("I-GOS and iGOS++ on a model that reads one patch", () => {
  // The logit is the checkerboard's evidence inside one 8x8 patch (rows 8..15, columns 16..23),
  // so the only pixels whose removal moves the score are the patch's: the map must sit there.
  const H = 32;
  const PATCH = { y: 8, x: 16, side: 8 };
  const inPatch = (p: number) => {
    const y = Math.floor(p / H);
    const x = p % H;
    return y >= 8 && y < 16 && x >= 16 && x < 24;
  };
  for (const variant of ["igos++", "igos"] as const) {
    test(`${variant}: the map's mass and its top 64 pixels lie on the patch`, async () => {
      const { model, image } = checkerPatchModel(H, PATCH, 4);
      // Noise off: the checkerboard's evidence flips under small perturbations.
      const r = await igos(model, image, 0, { variant, iterations: 10, maskSize: 8, noise: 0 });
      const m = r.map.dataSync();
      let inside = 0;
      let mass = 0;
      let cy = 0;
      let cx = 0;
      m.forEach((v, p) => {
        mass += v;
        cy += v * Math.floor(p / H);
        cx += v * (p % H);
        if (inPatch(p)) inside += v;
      });
      expect(Math.min(...m)).toBeGreaterThanOrEqual(0);
      // A map blind to the patch would put 64 / 1024 = 6% of its mass there.
      expect(inside / mass).toBeGreaterThan(0.6);
      const top = Array.from(m.keys())
        .sort((p, q) => m[q] - m[p])
        .slice(0, 64);
      expect(top.filter(inPatch).length).toBeGreaterThanOrEqual(48);
      // Centred on the patch's centre (11.5, 19.5).
      expect(Math.abs(cy / mass - 11.5)).toBeLessThan(1);
      expect(Math.abs(cx / mass - 19.5)).toBeLessThan(1);
    }, 30_000);
  }
});

describe("iGOS++", () => {
  test("beats a random map on deletion and insertion, canvas by canvas", async () => {
    const pair = loadExplainerPair();
    const model = (x: Parameters<typeof pair.classifier.call>[0]) => pair.classifier.call(x);
    const pools = explainerPools(loadFashionMnist("train"), loadFashionMnist("test"));
    const rng = new Random(1);
    for (let k = 0; k < 2; k++) {
      // One held-out item per canvas; its score is the sigmoid of its logit (multi-label).
      const s = multiFashionSample(pools.test, SEEDS.test, k, { minItems: 1, maxItems: 1 });
      const x = tensor(s.image, [1, 1, 64, 64]);
      const target = sigmoidOf(s.items[0].label);
      // 5 of the 20 default iterations keep the test short; the direction is already clear.
      const r = await igos(model, x, target, { iterations: 5, score: "target" });
      expect(r.map.shape).toEqual([1, 1, 64, 64]);
      const random = tensor(
        Float32Array.from({ length: 64 * 64 }, () => rng.uniform()),
        [1, 1, 64, 64],
      );
      const o = { pixelsPerStep: 128 };
      const del = await deletionAuc(model, x, target, r.map, o);
      const delRandom = await deletionAuc(model, x, target, random, o);
      const ins = await insertionAuc(model, x, target, r.map, o);
      const insRandom = await insertionAuc(model, x, target, random, o);
      expect(del.auc[0]).toBeLessThan(delRandom.auc[0]);
      expect(ins.auc[0]).toBeGreaterThan(insRandom.auc[0]);
    }
  }, 180_000);

  test("I-GOS (deletion only) beats a random map on deletion; unknown variants are refused", async () => {
    const pair = loadExplainerPair();
    const model = (x: Parameters<typeof pair.classifier.call>[0]) => pair.classifier.call(x);
    const pools = explainerPools(loadFashionMnist("train"), loadFashionMnist("test"));
    const s = multiFashionSample(pools.test, SEEDS.test, 2, { minItems: 1, maxItems: 1 });
    const x = tensor(s.image, [1, 1, 64, 64]);
    const target = sigmoidOf(s.items[0].label);
    const r = await igos(model, x, target, { variant: "igos", iterations: 5, score: "target" });
    expect(r.details.variant).toBe("igos");
    const rng = new Random(2);
    const random = tensor(
      Float32Array.from({ length: 64 * 64 }, () => rng.uniform()),
      [1, 1, 64, 64],
    );
    const del = await deletionAuc(model, x, target, r.map, { pixelsPerStep: 128 });
    const delRandom = await deletionAuc(model, x, target, random, { pixelsPerStep: 128 });
    expect(del.auc[0]).toBeLessThan(delRandom.auc[0]);
    await expect(igos(model, x, target, { variant: "igos#" as "igos" })).rejects.toThrow(
      /variant must be igos\+\+ or igos/,
    );
  }, 120_000);
});
