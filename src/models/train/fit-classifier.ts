/** Minibatch training of an image classifier on uint8 images (Fashion-MNIST style). */
import { variableGrads } from "../../autodiff/grad.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import { tensor } from "../../ops/creation.ts";
import { argMax } from "../../ops/reduce.ts";
import { Random } from "../../random.ts";
import type { LabelledImages } from "../data/fashion-mnist-node.ts";
import type { Module } from "../nn/module.ts";
import { shuffledBatches } from "./data-loader.ts";
import { crossEntropy } from "./losses.ts";
import type { Optimizer } from "./optim.ts";
import type { Schedule } from "./schedule.ts";

/**
 * Images at `indices` as a float tensor [n, 1, H, W] scaled to [0, 1]. With `flip`, image i is
 * mirrored left-right where flip[i] is true (augmentation).
 */
export function imageBatch(
  data: LabelledImages,
  indices: ArrayLike<number>,
  flip?: ArrayLike<boolean>,
): Tensor {
  const { height: h, width: w } = data;
  const px = h * w;
  const v = new Float32Array(indices.length * px);
  for (let i = 0; i < indices.length; i++) {
    const src = data.images.subarray(indices[i] * px, (indices[i] + 1) * px);
    const mirror = flip?.[i] ?? false;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        v[i * px + r * w + c] = src[r * w + (mirror ? w - 1 - c : c)] / 255;
      }
    }
  }
  return tensor(v, [indices.length, 1, h, w]);
}

/** How `fitClassifier` trains: give `epochs` or `steps`. */
export interface FitOptions {
  /** Uniformly sampled minibatches (with replacement); ignored when `epochs` is given. */
  steps?: number;
  /** Full passes over the data in a seeded shuffled order (the usual way to train). */
  epochs?: number;
  /** Images per step. */
  batchSize: number;
  /** Updates the model's parameters from each step's gradients. */
  optimizer: Optimizer;
  /** Seed of the batch order and flips (default 0). */
  seed?: number;
  /** Learning rate per step (sets optimizer.lr before each step). */
  schedule?: Schedule;
  /** Mirror each training image left-right with probability 1/2. */
  hflip?: boolean;
  /**
   * Called after each step with its 0-based index, the batch's cross-entropy and the epoch (0
   * without `epochs`).
   */
  onStep?: (step: number, loss: number, epoch: number) => void;
}

function* uniformBatches(count: number, steps: number, batch: number, rng: Random) {
  for (let s = 0; s < steps; s++) {
    yield { epoch: 0, indices: Uint32Array.from({ length: batch }, () => rng.int(count)) };
  }
}

/** Trains the model (leaving it in eval mode); returns the loss of every step. */
export function fitClassifier(model: Module, data: LabelledImages, o: FitOptions): number[] {
  const rng = new Random(o.seed ?? 0);
  if (o.epochs === undefined && o.steps === undefined) {
    throw new Error("fitClassifier: give either steps or epochs");
  }
  const batches =
    o.epochs !== undefined
      ? shuffledBatches(data.count, o.epochs, { batchSize: o.batchSize, seed: rng })
      : uniformBatches(data.count, o.steps!, o.batchSize, rng);
  const losses: number[] = [];
  model.train();
  let step = 0;
  for (const { epoch, indices } of batches) {
    if (o.schedule) o.optimizer.lr = o.schedule(step);
    const labels = Array.from(indices, (i) => data.labels[i]);
    const flip = o.hflip ? Array.from(indices, () => rng.uniform() < 0.5) : undefined;
    const loss = tidy(() => {
      const x = imageBatch(data, indices, flip);
      const { value, grads } = variableGrads(() => crossEntropy(model.call(x), labels));
      o.optimizer.step(grads);
      return value.dataSync()[0];
    });
    losses.push(loss);
    o.onStep?.(step, loss, epoch);
    step++;
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
