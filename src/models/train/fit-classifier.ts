/** Minibatch training of an image classifier on uint8 images (Fashion-MNIST style). */
import { variableGrads } from "../../autodiff/grad.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import { tensor } from "../../ops/creation.ts";
import { argMax } from "../../ops/reduce.ts";
import { Random } from "../../random.ts";
import type { LabelledImages } from "../data/fashion-mnist-node.ts";
import type { Module } from "../nn/module.ts";
import { crossEntropy } from "./losses.ts";
import type { Optimizer } from "./optim.ts";

/** Images [from, from + n) as a float tensor [n, 1, H, W] scaled to [0, 1]. */
export function imageBatch(data: LabelledImages, indices: ArrayLike<number>): Tensor {
  const px = data.height * data.width;
  const v = new Float32Array(indices.length * px);
  for (let i = 0; i < indices.length; i++) {
    const src = data.images.subarray(indices[i] * px, (indices[i] + 1) * px);
    for (let j = 0; j < px; j++) v[i * px + j] = src[j] / 255;
  }
  return tensor(v, [indices.length, 1, data.height, data.width]);
}

export interface FitOptions {
  steps: number;
  batchSize: number;
  optimizer: Optimizer;
  seed?: number;
  onStep?: (step: number, loss: number) => void;
}

/** Trains with uniformly sampled minibatches; returns the loss of every step. */
export function fitClassifier(model: Module, data: LabelledImages, o: FitOptions): number[] {
  const rng = new Random(o.seed ?? 0);
  const losses: number[] = [];
  model.train();
  for (let step = 0; step < o.steps; step++) {
    const idx = Array.from({ length: o.batchSize }, () => rng.int(data.count));
    const labels = idx.map((i) => data.labels[i]);
    const loss = tidy(() => {
      const x = imageBatch(data, idx);
      const { value, grads } = variableGrads(() => crossEntropy(model.call(x), labels));
      o.optimizer.step(grads);
      return value.dataSync()[0];
    });
    losses.push(loss);
    o.onStep?.(step, loss);
  }
  model.eval();
  return losses;
}

/** Top-1 accuracy over the first `limit` examples. */
export function accuracy(
  model: Module,
  data: LabelledImages,
  limit = data.count,
  batch = 250,
): number {
  let correct = 0;
  const n = Math.min(limit, data.count);
  for (let from = 0; from < n; from += batch) {
    const idx = Array.from({ length: Math.min(batch, n - from) }, (_, i) => from + i);
    const pred = tidy(() => argMax(model.call(imageBatch(data, idx)), 1).dataSync());
    idx.forEach((i, k) => {
      if (pred[k] === data.labels[i]) correct++;
    });
  }
  return correct / n;
}
