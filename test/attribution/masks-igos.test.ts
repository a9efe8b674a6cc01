/** iGOS++ on the bundled multi-fashion classifier: its deletion and insertion curves beat random. */
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
