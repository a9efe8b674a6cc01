/**
 * The data sets of the explainer experiment, fixed by seed: training canvases from Fashion-MNIST
 * train images 0..49999, validation canvases (early stopping) from train images 50000..59999,
 * held-out canvases from the 10000 test images, so the three never share a source image.
 */
import type { LabelledImages } from "../../models/data/fashion-mnist-node.ts";
import { type SourcePool, sourcePool } from "../../models/data/multi-fashion.ts";

export const SEEDS = { train: 1, val: 2, test: 3 } as const;

export interface ExplainerPools {
  train: SourcePool;
  val: SourcePool;
  test: SourcePool;
}

export function explainerPools(train: LabelledImages, test: LabelledImages): ExplainerPools {
  return {
    train: sourcePool(train, 0, 50000),
    val: sourcePool(train, 50000, 60000),
    test: sourcePool(test),
  };
}
