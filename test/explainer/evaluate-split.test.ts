/**
 * `evaluateMethod` as per-image scoring plus aggregation: the pooled row equals the one-pass row,
 * and the pooling is checked against hand computations from the per-image results (accuracy and
 * F1 from the masked logits, the pointing game per class) and closed forms (the "1" and "perfect"
 * rows).
 */
import { describe, expect, it } from "vitest";
import { loadExplainerPair } from "../../src/attribution/explainer/bundled.ts";
import { SEEDS } from "../../src/attribution/explainer/data.ts";
import {
  aggregateEvaluations,
  type ClassMapMethod,
  constantMethod,
  type EvaluationRow,
  evaluateImage,
  evaluateMethod,
  type ImageEvaluation,
} from "../../src/attribution/explainer/evaluate.ts";
import { comparisonMethods, explainerMethod } from "../../src/attribution/explainer/methods.ts";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { multiFashionSample, sourcePool } from "../../src/models/data/multi-fashion.ts";
import { evaluateMultiLabel } from "../../src/models/train/fit-multi-label.ts";

const pool = sourcePool(loadFashionMnist("test"));
const pair = loadExplainerPair("multi-fashion");
const f = (x: Tensor) => pair.classifier.call(x);
const IMAGES = 4;
const CURVES = 2;
const options = { images: IMAGES, seed: SEEDS.test, curveImages: CURVES, batchSize: 64 };

async function perImage(name: string, m: ClassMapMethod): Promise<ImageEvaluation[]> {
  const out: ImageEvaluation[] = [];
  for (let i = 0; i < IMAGES; i++) {
    const s = multiFashionSample(pool, SEEDS.test, i);
    out.push(
      (await evaluateImage(name, m, f, s, i, { ...options, curves: i < CURVES })).evaluation,
    );
  }
  return out;
}

/** Timings differ between any two runs. */
const withoutTime = (r: EvaluationRow) => ({ ...r, secondsPerImage: 0 });

describe("evaluateImage + aggregateEvaluations", () => {
  const methods: Record<string, ClassMapMethod> = {
    explainer: explainerMethod((x) => pair.explainer.call(x)),
    "Grad-CAM": comparisonMethods(f, pair.classifier.gradCamLayer)["Grad-CAM"],
  };
  for (const [name, m] of Object.entries(methods))
    it(`${name}: the pooled per-image results are evaluateMethod's row, pooled as defined`, async () => {
      const row = await evaluateMethod(name, m, f, pool, options);
      const per = await perImage(name, m);
      expect(withoutTime(aggregateEvaluations(name, per))).toEqual(withoutTime(row));

      // Accuracy and F1 over all (image, class) decisions, from the logits and the true labels.
      let right = 0;
      let tp = 0;
      let fp = 0;
      let fn = 0;
      per.forEach((r, i) => {
        const labels = multiFashionSample(pool, SEEDS.test, i).labels;
        r.maskedLogits.forEach((z, c) => {
          const pred = z >= 0;
          const gt = labels[c] === 1;
          if (pred === gt) right++;
          if (pred && gt) tp++;
          if (pred && !gt) fp++;
          if (!pred && gt) fn++;
        });
        expect(r.classes).toEqual([...labels.keys()].filter((c) => labels[c] === 1));
      });
      expect(row.maskedAccuracy).toBeCloseTo(right / (IMAGES * 10), 12);
      expect(row.maskedF1).toBeCloseTo((2 * tp) / (2 * tp + fp + fn), 12);
      // The pointing game per class (hits / pairs), then the mean over the classes present.
      const byClass = new Map<number, boolean[]>();
      for (const r of per)
        r.classes.forEach((c, k) => byClass.set(c, [...(byClass.get(c) ?? []), r.pointing[k]]));
      const perClass = [...byClass.values()].map((h) => h.filter(Boolean).length / h.length);
      expect(row.pointing).toBeCloseTo(perClass.reduce((a, b) => a + b, 0) / perClass.length, 12);
      // Deletion over the (image, class) pairs of the first CURVES images only.
      const pairs = per.slice(0, CURVES).flatMap((r) => r.deletionAuc!);
      expect(per.slice(CURVES).every((r) => r.deletionAuc === null)).toBe(true);
      expect(row.curvePairs).toBe(pairs.length);
      expect(row.deletionAuc).toBeCloseTo(pairs.reduce((a, b) => a + b, 0) / pairs.length, 12);
      // Mean IoU: the mean over thresholds of the mean over images.
      const iou = per.map((r) => r.iou.reduce((a, b) => a + b, 0) / r.iou.length);
      expect(row.meanIoU).toBeCloseTo(iou.reduce((a, b) => a + b, 0) / IMAGES, 12);
    }, 60_000);

  it('closed forms: "1" keeps the classifier\'s unmasked decisions, "perfect" scores 1', async () => {
    const ones = aggregateEvaluations("1", await perImage("1", constantMethod("1")));
    const unmasked = evaluateMultiLabel(f, pool, SEEDS.test, IMAGES);
    expect(ones.maskedAccuracy).toBeCloseTo(unmasked.accuracy, 12);
    expect(ones.maskedF1).toBeCloseTo(unmasked.f1, 12);
    // An all-ones mask: IoU = 1 - MAE = the true area's share of the canvas, at every threshold.
    const area = Array.from({ length: IMAGES }, (_, i) => {
      const s = multiFashionSample(pool, SEEDS.test, i);
      const hw = s.size * s.size;
      let n = 0;
      for (let p = 0; p < hw; p++)
        if (s.labels.some((l, c) => l === 1 && s.masks[c * hw + p] === 1)) n++;
      return n / hw;
    });
    const meanArea = area.reduce((a, b) => a + b, 0) / IMAGES;
    expect(ones.meanIoU).toBeCloseTo(meanArea, 12);
    expect(ones.overlap).toBeCloseTo(meanArea, 12);
    const perfect = aggregateEvaluations("perfect", await perImage("p", constantMethod("perfect")));
    expect([perfect.meanIoU, perfect.continuousIoU, perfect.overlap, perfect.pointing]).toEqual([
      1, 1, 1, 1,
    ]);
  }, 60_000);

  it("refuses to pool nothing", () => {
    expect(() => aggregateEvaluations("x", [])).toThrow(/no image results/);
  });
});
