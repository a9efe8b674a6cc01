/**
 * Adebayo et al., "Sanity Checks for Saliency Maps" (NeurIPS 2018): on a classifier trained on
 * Fashion-MNIST, the cascading model-randomisation check separates the gradient (its map
 * decorrelates) from an edge detector that ignores the model (it does not, so the check flags it).
 */
import { beforeAll, describe, expect, test } from "vitest";
import { gradient, modelRandomisation } from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { SmallCnn } from "../../src/models/classifiers/small-cnn.ts";
import { loadFashionMnist } from "../../src/models/data/fashion-mnist-node.ts";
import { accuracy, fitClassifier, imageBatch } from "../../src/models/train/fit-classifier.ts";
import { Adam } from "../../src/models/train/optim.ts";

let net: SmallCnn;
let x: s.Tensor;
let label: number;

beforeAll(() => {
  const train = loadFashionMnist("train");
  net = new SmallCnn({ seed: 1, channels: [4, 8] });
  fitClassifier(net, train, { steps: 150, batchSize: 32, optimizer: new Adam(3e-3), seed: 1 });
  const test = loadFashionMnist("test");
  // The model must have learnt something for the check to mean anything.
  expect(accuracy(net, test, 300)).toBeGreaterThan(0.6);
  x = s.keep(imageBatch(test, [0]));
  label = test.labels[0];
}, 60_000);

/** |Sobel| of the input: an "explanation" that never looks at the model. */
async function edgeDetector(img: s.Tensor): Promise<s.Tensor> {
  const kx = s.tensor([
    [
      [
        [-1, 0, 1],
        [-2, 0, 2],
        [-1, 0, 1],
      ],
    ],
  ]);
  const ky = s.tensor([
    [
      [
        [-1, -2, -1],
        [0, 0, 0],
        [1, 2, 1],
      ],
    ],
  ]);
  return s.tidy(() =>
    s.keep(
      s.sqrt(
        s.add(
          s.square(s.conv2d(img, kx, { padding: 1 })),
          s.square(s.conv2d(img, ky, { padding: 1 })),
        ),
      ),
    ),
  );
}

describe("model-randomisation sanity check on a trained Fashion-MNIST CNN", () => {
  test("cascading: the gradient decorrelates and passes; the edge detector stays at 1 and fails", async () => {
    const model = (v: s.Tensor) => net.call(v);
    const before = net.namedParameters().map(([, p]) => Array.from(p.dataSync()));
    const grad = await modelRandomisation(net, async () => (await gradient(model, x, label)).map, {
      seed: 3,
    });
    expect(grad.steps.map((st) => st.layer)).toEqual(["classifier.2", "features.3", "features.0"]);
    expect(Math.abs(grad.steps[2].spearman)).toBeLessThan(0.5);
    expect(grad.passed).toBe(true);
    const edge = await modelRandomisation(net, () => edgeDetector(x), { seed: 3 });
    for (const st of edge.steps) expect(st.spearman).toBeCloseTo(1, 12);
    expect(edge.passed).toBe(false);
    // Parameters are restored afterwards.
    net
      .namedParameters()
      .forEach(([, p], i) => expect(Array.from(p.dataSync())).toEqual(before[i]));
  });

  test("independent: randomising any single layer changes the gradient map", async () => {
    const model = (v: s.Tensor) => net.call(v);
    const r = await modelRandomisation(net, async () => (await gradient(model, x, label)).map, {
      mode: "independent",
      seed: 5,
      threshold: 0.9,
    });
    expect(r.steps.length).toBe(3);
    for (const st of r.steps) expect(st.spearman).toBeLessThan(0.9);
  });
});
