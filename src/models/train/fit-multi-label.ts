/**
 * Training the multi-label classifier on generated canvases: every step draws fresh canvases
 * (indices step * B ... of the training seed), so there are no epochs and no repeats; BCE with
 * logits, any optimiser and schedule.
 */

import {
  countMultiLabel,
  emptyCounts,
  type MultiLabelScores,
  multiLabelScores,
} from "../../attribution/explainer/metrics.ts";
import { variableGrads } from "../../autodiff/grad.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import { tensor } from "../../ops/creation.ts";
import {
  type MultiFashionOptions,
  multiFashionBatch,
  type SourcePool,
} from "../data/multi-fashion.ts";
import type { Module } from "../nn/module.ts";
import { bceWithLogits } from "./losses.ts";
import type { Optimizer } from "./optim.ts";
import type { Schedule } from "./schedule.ts";

export interface FitMultiLabelOptions {
  steps: number;
  batchSize: number;
  optimizer: Optimizer;
  seed: number;
  schedule?: Schedule;
  data?: MultiFashionOptions;
  onStep?: (step: number, loss: number) => void;
}

/** Trains `model` (left in eval mode); returns the loss of every step. */
export function fitMultiLabel(model: Module, pool: SourcePool, o: FitMultiLabelOptions): number[] {
  const losses: number[] = [];
  model.train();
  for (let step = 0; step < o.steps; step++) {
    if (o.schedule) o.optimizer.lr = o.schedule(step);
    const idx = Array.from({ length: o.batchSize }, (_, i) => step * o.batchSize + i);
    const b = multiFashionBatch(pool, o.seed, idx, o.data);
    const size = b.samples[0].size;
    const classes = b.samples[0].labels.length;
    const loss = tidy(() => {
      const x = tensor(b.images, [idx.length, 1, size, size]);
      const y = tensor(b.labels, [idx.length, classes]);
      const { value, grads } = variableGrads(() => bceWithLogits(model.call(x), y));
      o.optimizer.step(grads);
      return value.dataSync()[0];
    });
    losses.push(loss);
    o.onStep?.(step, loss);
  }
  model.eval();
  return losses;
}

/** Multi-label scores of `model` on canvases 0..count-1 of `seed`. */
export function evaluateMultiLabel(
  model: (x: Tensor) => Tensor,
  pool: SourcePool,
  seed: number,
  count: number,
  o: { threshold?: number; batch?: number; data?: MultiFashionOptions } = {},
): MultiLabelScores {
  const counts = emptyCounts();
  const batch = o.batch ?? 50;
  for (let from = 0; from < count; from += batch) {
    const idx = Array.from({ length: Math.min(batch, count - from) }, (_, i) => from + i);
    const b = multiFashionBatch(pool, seed, idx, o.data);
    const size = b.samples[0].size;
    const classes = b.samples[0].labels.length;
    const logits = tidy(() => model(tensor(b.images, [idx.length, 1, size, size])).dataSync());
    countMultiLabel(logits, b.labels, classes, o.threshold ?? 0, counts);
  }
  return multiLabelScores(counts);
}
