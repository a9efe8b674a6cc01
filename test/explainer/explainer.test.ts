/**
 * The explainer's training loop, the shipped weights and the pieces around them: a short training
 * run lowers the loss, a union teacher's masks reach the loss (L_u by hand), the shipped explainer
 * beats constant masks on held-out canvases, early stopping and batch-norm folding behave as
 * specified, and the shared-pass RISE equals `rise`.
 */
import { describe, expect, it } from "vitest";
import { loadExplainerPair } from "../../src/attribution/explainer/bundled.ts";
import { explainerPools, SEEDS } from "../../src/attribution/explainer/data.ts";
import {
  constantMethod,
  evaluateMethod,
  sigmoidOf,
  toUnit,
} from "../../src/attribution/explainer/evaluate.ts";
import { combineMasks, explainImage } from "../../src/attribution/explainer/explain.ts";
import { explainerMethod, riseAllClasses } from "../../src/attribution/explainer/methods.ts";
import {
  countMultiLabel,
  multiLabelScores,
  saliencyMetric,
} from "../../src/attribution/explainer/metrics.ts";
import { rise } from "../../src/attribution/index.ts";
import { type Tensor, tensor } from "../../src/index.ts";
import { MultiLabelCnn } from "../../src/models/classifiers/multi-label-cnn.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { multiFashionBatch } from "../../src/models/data/multi-fashion.ts";
import { EarlyStopping } from "../../src/models/train/early-stopping.ts";
import { Adam } from "../../src/models/train/optim.ts";
import {
  initEncoderFromClassifier,
  trainExplainer,
  validationLoss,
} from "../../src/models/train/train-explainer.ts";
import { ExplainerNet } from "../../src/models/unet/explainer-net.ts";

const pools = explainerPools(loadFashionMnist("train"), loadFashionMnist("test"));
const pair = loadExplainerPair("multi-fashion");
const f = (x: Tensor) => pair.classifier.call(x);

describe("training", () => {
  it("a short run lowers the validation loss", () => {
    const net = new ExplainerNet({ channels: [8, 16, 32, 64], seed: 3 });
    initEncoderFromClassifier(net, pair.classifier);
    const val = { pool: pools.val, seed: SEEDS.val, count: 8 };
    const before = validationLoss(net, f, val);
    const r = trainExplainer(net, f, pools.train, {
      steps: 6,
      batchSize: 4,
      optimizer: new Adam(3e-3),
      trainSeed: SEEDS.train,
    });
    const after = validationLoss(net, f, val);
    expect(r.history).toHaveLength(6);
    expect(after).toBeLessThan(before - 0.02);
    // Each logged total is the weighted sum of its logged terms (the reference weights).
    const t = r.history[5];
    const sum =
      t.classification + t.entropy + t.tv + t.area + 0.1 * t.totalArea + 0.3 * t.nonClassArea;
    expect(t.total).toBeCloseTo(sum, 4);
  });

  it("passes each batch to the union teacher and adds l_u L_u to the training and validation losses", () => {
    const net = new ExplainerNet({ channels: [8, 16, 32, 64], seed: 5 });
    initEncoderFromClassifier(net, pair.classifier);
    const seen: number[][] = [];
    // m0 = 1/2 everywhere, so L_u = mean over pixels of BCE(sigmoid(z), 1/2) = softplus(z) - z/2.
    const half = (x: Tensor, y: Float32Array) => {
      seen.push(Array.from(y));
      return tensor(new Float32Array(x.shape[0] * 64 * 64).fill(0.5), [x.shape[0], 64, 64]);
    };
    const r = trainExplainer(net, f, pools.train, {
      steps: 2,
      batchSize: 2,
      optimizer: new Adam(3e-4),
      trainSeed: SEEDS.train,
      loss: { unionDistill: 2 },
      teacher: half,
    });
    const step2 = multiFashionBatch(pools.train, SEEDS.train, [2, 3]).labels;
    expect(seen).toHaveLength(2);
    expect(seen[0]).toEqual(Array.from(multiFashionBatch(pools.train, SEEDS.train, [0, 1]).labels));
    expect(seen[1]).toEqual(Array.from(step2));
    const t = r.history[1];
    const sum =
      t.classification +
      t.entropy +
      t.tv +
      t.area +
      0.1 * t.totalArea +
      0.3 * t.nonClassArea +
      2 * t.unionDistill;
    expect(t.total).toBeCloseTo(sum, 4);

    const val = { pool: pools.val, seed: SEEDS.val, count: 3 };
    const b = multiFashionBatch(val.pool, val.seed, [0, 1, 2]);
    const seg = net.call(tensor(b.images, [3, 1, 64, 64])).dataSync();
    let byHand = 0;
    for (let i = 0; i < 3; i++) {
      for (let p = 0; p < 64 * 64; p++) {
        let z = -Infinity;
        for (let c = 0; c < 10; c++) {
          if (b.labels[i * 10 + c]) z = Math.max(z, seg[(i * 10 + c) * 4096 + p]);
        }
        byHand += Math.log1p(Math.exp(z)) - z / 2;
      }
    }
    byHand /= 3 * 4096;
    const withU = validationLoss(net, f, val, { unionDistill: 2 }, 32, half);
    expect(withU - validationLoss(net, f, val)).toBeCloseTo(2 * byHand, 4);
    expect(() => validationLoss(net, f, val, { unionDistill: 2 })).toThrow(
      /needs the teacher's union masks/,
    );
  });

  it("copies the classifier's convs into the encoder", () => {
    const net = new ExplainerNet({ seed: 1 });
    initEncoderFromClassifier(net, pair.classifier);
    const mine = net.stateDict();
    const theirs = pair.classifier.stateDict();
    expect(Array.from(mine.get("enc3.weight")!.dataSync())).toEqual(
      Array.from(theirs.get("features.4.weight")!.dataSync()),
    );
  });
});

describe("the shipped explainer", () => {
  it("beats every constant mask on mean IoU over 16 held-out canvases", async () => {
    const o = { images: 16, seed: SEEDS.test, curveImages: 0 };
    const ours = await evaluateMethod(
      "explainer",
      explainerMethod((x) => pair.explainer.call(x)),
      f,
      pools.test,
      o,
    );
    for (const k of ["0", "0.5", "1"] as const) {
      const base = await evaluateMethod(k, constantMethod(k), f, pools.test, o);
      expect(ours.meanIoU).toBeGreaterThan(base.meanIoU + 0.05);
    }
    const perfect = await evaluateMethod("perfect", constantMethod("perfect"), f, pools.test, o);
    expect(perfect.meanIoU).toBe(1);
    expect(perfect.overlap).toBe(1);
    expect(perfect.pointing).toBe(1);
  });

  it("explains an image: masks are sigmoid of the explainer's logits, combined over predicted classes", async () => {
    const b = multiFashionBatch(pools.test, SEEDS.test, [0]);
    const e = await explainImage(
      { classifier: f, explainer: (x) => pair.explainer.call(x) },
      b.images,
      64,
      64,
    );
    const x = tensor(b.images, [1, 1, 64, 64]);
    const maskLogits = pair.explainer.call(x).dataSync();
    const classLogits = Array.from(f(x).dataSync());
    const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
    // Masks: sigmoid of every explainer logit, in float64.
    expect(e.masks).toHaveLength(maskLogits.length);
    for (let i = 0; i < maskLogits.length; i += 97)
      expect(e.masks[i]).toBeCloseTo(sigmoid(maskLogits[i]), 6);
    // Predicted: exactly the classes whose classifier logit is at least the threshold 0.
    const predicted = classLogits.flatMap((z, c) => (z >= 0 ? [c] : []));
    expect(predicted.length).toBeGreaterThan(0);
    expect(e.predicted).toEqual(predicted);
    // Combined: per-pixel max of the predicted classes' masks (0 where none is predicted).
    for (let p = 0; p < 4096; p += 13) {
      const want = Math.max(0, ...predicted.map((c) => sigmoid(maskLogits[c * 4096 + p])));
      expect(e.combined[p]).toBeCloseTo(want, 6);
    }
    await expect(
      explainImage({ classifier: f, explainer: f }, new Float32Array(60), 6, 10),
    ).rejects.toThrow(/divisible by 8/);
  });
});

describe("pieces", () => {
  it("early stopping counts checks without a min_delta improvement and restores the best weights", () => {
    const net = new MultiLabelCnn({ channels: [2, 2, 2, 2], seed: 1 });
    const first = Array.from(net.classifier.weight.dataSync());
    const es = new EarlyStopping(2, 0.01);
    expect(es.update(1.0, net)).toBe(false); // best
    const w = net.stateDict().get("classifier.weight")!;
    w.assign(tensor(new Float32Array(first.length).fill(7), w.shape));
    expect(es.update(0.995, net)).toBe(false); // within min_delta: waited 1
    expect(es.update(0.992, net)).toBe(true); // still not below 1 - 0.01: waited 2 = patience
    expect(es.bestCheck).toBe(0);
    es.restoreBest(net);
    expect(Array.from(net.classifier.weight.dataSync())).toEqual(first);
    expect(new EarlyStopping(3).update(Number.NaN)).toBe(true);
  });

  it("folds batch norm into the convs without changing the function", () => {
    const net = new MultiLabelCnn({ channels: [3, 4, 4, 5], batchNorm: true, seed: 2 });
    // A few training-mode passes move the running statistics away from (0, 1).
    const b = multiFashionBatch(pools.val, 1, [0, 1, 2, 3]);
    const x = tensor(b.images, [4, 1, 64, 64]);
    net.train();
    for (let i = 0; i < 3; i++) net.call(x);
    net.eval();
    const fused = net.fused();
    expect(fused.gradCamLayer).toBe("features.6");
    const a = net.call(x).dataSync();
    const c = fused.call(x).dataSync();
    for (let i = 0; i < a.length; i++) expect(c[i]).toBeCloseTo(a[i], 4);
  });

  it("combines masks by the per-pixel max over the listed classes", () => {
    // Three classes of two pixels each, [C, H * W] flat.
    const masks = Float32Array.from([0.1, 0.9, 0.5, 0.2, 0.7, 0.3]);
    expect(Array.from(combineMasks(masks, 2, [0, 2]))).toEqual([
      Math.fround(0.7),
      Math.fround(0.9),
    ]);
    expect(Array.from(combineMasks(masks, 2, [1]))).toEqual([Math.fround(0.5), Math.fround(0.2)]);
    expect(Array.from(combineMasks(masks, 2, []))).toEqual([0, 0]);
  });

  it("scores multi-label decisions and the saliency metric by hand", () => {
    // Logits (threshold 0) vs labels: row 0 -> tp, fp, tn; row 1 -> fn, tn, tp.
    const k = countMultiLabel([2, 1, -1, -3, -2, 0], [1, 0, 0, 1, 0, 1], 3);
    expect(k).toMatchObject({ tp: 2, fp: 1, tn: 2, fn: 1, exact: 0, examples: 2 });
    const s = multiLabelScores(k);
    expect(s.accuracy).toBeCloseTo(4 / 6, 12);
    expect(s.f1).toBeCloseTo(4 / 6, 12);
    // Mask mean 0.02 is raised to 0.05; softmax of (0, ln 3) gives p = (1/4, 3/4); GT {1}.
    const mask = new Float32Array(100).fill(0);
    mask[0] = 1;
    mask[1] = 1;
    expect(saliencyMetric(mask, [0, Math.log(3)], [1])).toBeCloseTo(
      Math.log(0.05) - Math.log(0.75),
      6,
    );
    expect(Array.from(toUnit([-1, 0, 2]))).toEqual([0, 0, 1]);
    expect(Array.from(toUnit([1, 2, 3], "minmax"))).toEqual([0, 0.5, 1]);
  });

  it("RISE for all classes at once equals rise() class by class", async () => {
    const net = new MultiLabelCnn({ channels: [2, 3, 3, 4], seed: 5 });
    const model = (x: Tensor) => net.call(x);
    const b = multiFashionBatch(pools.val, 2, [3]);
    const x = tensor(b.images, [1, 1, 64, 64]);
    const all = riseAllClasses(model, x, { masks: 12, cells: 4, seed: 9, batchSize: 5 });
    for (const c of [0, 7]) {
      const r = await rise(model, x, sigmoidOf(c), {
        masks: 12,
        cells: 4,
        seed: 9,
        scores: "target",
      });
      const v = r.map.dataSync();
      for (let p = 0; p < 4096; p += 37) expect(all[c * 4096 + p]).toBeCloseTo(v[p], 5);
    }
  });
});
