/**
 * Training the explainer against a frozen classifier with the NN-Explainer loss: Adam on the
 * explainer's parameters only (the classifier is differentiated through, never updated), fresh
 * training canvases every step, and every `checkEvery` steps a validation loss on a fixed set of
 * canvases for early stopping (patience 5, min_delta 0.001 by default, as the reference). The
 * weights of the best check are restored at the end.
 */

import {
  type ExplainerLossOptions,
  type ExplainerLossTerms,
  explainerLoss,
} from "../../attribution/explainer/loss.ts";
import { variableGrads } from "../../autodiff/grad.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import { tensor } from "../../ops/creation.ts";
import type { MultiLabelCnn } from "../classifiers/multi-label-cnn.ts";
import { multiFashionBatch, type SourcePool } from "../data/multi-fashion.ts";
import type { Module } from "../nn/module.ts";
import type { ExplainerNet } from "../unet/explainer-net.ts";
import { EarlyStopping } from "./early-stopping.ts";
import {
  type CheckpointStore,
  hasCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "./explainer-checkpoint.ts";
import { Adam, type Optimizer } from "./optim.ts";

/** Gives the teacher's union masks [B, H, W] for a batch (see `TrainExplainerOptions.teacher`). */
export type UnionTeacher = (x: Tensor, targets: Float32Array) => Tensor;

export type TermValues = { [K in Exclude<keyof ExplainerLossTerms, "maskedLogits">]: number };

/**
 * How `trainExplainer` trains; without `val` there is no early stopping and the last weights are
 * kept.
 */
export interface TrainExplainerOptions {
  /** Upper bound on steps (early stopping may end sooner). */
  steps: number;
  /** Canvases per step. */
  batchSize: number;
  /** Updates the explainer's parameters (Adam in the reference). */
  optimizer: Optimizer;
  /**
   * Data-set seed of the training canvases: step s uses canvases s * batchSize onwards, so no
   * canvas repeats.
   */
  trainSeed: number;
  /** Validation canvases 0..valCount-1 of valSeed, checked every checkEvery steps. */
  val?: { pool: SourcePool; seed: number; count: number };
  /**
   * Steps between validation checks (default 100; also checked at the last step and when time is
   * up).
   */
  checkEvery?: number;
  /** Checks without improvement before stopping (default 5). */
  patience?: number;
  /** Least fall of the validation loss that counts as an improvement (default 0.001). */
  minDelta?: number;
  /** Stop (as if early) once this many minutes have passed, checked after each step. */
  maxMinutes?: number;
  /**
   * Save a checkpoint to `store` every `every` steps (and at the end); with `resume`, continue
   * from the checkpoint in `store` if there is one (a folder in Node: `fileCheckpointStore` from
   * "salient/node"). Needs an `Adam` optimizer. The time budget counts
   * this run only.
   */
  checkpoint?: { store: CheckpointStore; every: number; resume?: boolean };
  /** Term weights and area bounds of the loss (default the reference's). */
  loss?: ExplainerLossOptions;
  /**
   * The teacher's union masks m0 [B, H, W] for a batch x [B, 1, H, W] with multi-hot targets
   * [B C], needed when `loss.unionDistill` > 0 (e.g. a frozen explainer's union over the present
   * classes). Called outside the gradient, so it stays a fixed target.
   */
  teacher?: UnionTeacher;
  /**
   * Called after each step with the steps done so far (from 1) and that step's unweighted loss
   * terms.
   */
  onStep?: (step: number, terms: TermValues) => void;
  /**
   * Called after each validation check with the steps done, the validation loss and whether it is a
   * new best.
   */
  onCheck?: (step: number, valLoss: number, improved: boolean) => void;
}

/** What `trainExplainer` did. */
export interface TrainExplainerResult {
  /** Loss terms of every step. */
  history: TermValues[];
  /** [step, validation loss] of every check. */
  checks: [number, number][];
  /** Steps run. */
  steps: number;
  /**
   * Step of the best validation check, whose weights were restored (the last step without `val`).
   */
  bestStep: number;
  /** True when early stopping ended training (not the step or time limit). */
  stoppedEarly: boolean;
  /** Wall-clock minutes taken. */
  minutes: number;
}

function values(t: ExplainerLossTerms): TermValues {
  const read = (x: Tensor) => x.dataSync()[0];
  return {
    total: read(t.total),
    classification: read(t.classification),
    entropy: read(t.entropy),
    tv: read(t.tv),
    area: read(t.area),
    totalArea: read(t.totalArea),
    nonClassArea: read(t.nonClassArea),
    perClass: read(t.perClass),
    perClassDelete: read(t.perClassDelete),
    unionDistill: read(t.unionDistill),
  };
}

function batchOf(pool: SourcePool, seed: number, idx: number[]) {
  const b = multiFashionBatch(pool, seed, idx);
  const size = b.samples[0].size;
  return { x: () => tensor(b.images, [idx.length, 1, size, size]), labels: b.labels };
}

/** Mean total loss over the validation canvases (no gradients); `teacher` as in training. */
export function validationLoss(
  explainer: Module,
  classifier: (x: Tensor) => Tensor,
  val: { pool: SourcePool; seed: number; count: number },
  loss: ExplainerLossOptions = {},
  batch = 32,
  teacher?: UnionTeacher,
): number {
  let total = 0;
  for (let from = 0; from < val.count; from += batch) {
    const idx = Array.from({ length: Math.min(batch, val.count - from) }, (_, i) => from + i);
    const b = batchOf(val.pool, val.seed, idx);
    total +=
      tidy(() => {
        const x = b.x();
        const union = teacher?.(x, b.labels);
        return explainerLoss(
          classifier,
          explainer.call(x),
          x,
          b.labels,
          loss,
          union && { union },
        ).total.dataSync()[0];
      }) * idx.length;
  }
  return total / val.count;
}

/**
 * Trains `explainer` against the frozen `classifier` on fresh multi-Fashion canvases from `pool`
 * with the NN-Explainer loss (Stalder et al. 2022), leaving it in eval mode with the best checked
 * weights.
 */
export function trainExplainer(
  explainer: Module,
  classifier: (x: Tensor) => Tensor,
  pool: SourcePool,
  o: TrainExplainerOptions,
): TrainExplainerResult {
  const t0 = performance.now();
  const minutes = () => (performance.now() - t0) / 60000;
  const stopper = new EarlyStopping(o.patience ?? 5, o.minDelta ?? 0.001);
  const checkEvery = o.checkEvery ?? 100;
  const params = explainer.parameters();
  const history: TermValues[] = [];
  const checks: [number, number][] = [];
  let bestStep = 0;
  let stoppedEarly = false;
  let step = 0;
  const ck = o.checkpoint;
  if (ck && !(o.optimizer instanceof Adam)) {
    throw new Error("trainExplainer: checkpoints need an Adam optimizer");
  }
  if (ck && !(Number.isInteger(ck.every) && ck.every >= 1)) {
    throw new Error(`trainExplainer: checkpoint.every must be a positive integer, got ${ck.every}`);
  }
  if (ck?.resume && hasCheckpoint(ck.store)) {
    const loop = loadCheckpoint<TermValues>(ck.store, explainer, o.optimizer as Adam, stopper);
    if (loop.trainSeed !== o.trainSeed || loop.batchSize !== o.batchSize) {
      throw new Error(
        `trainExplainer: the checkpoint in ${ck.store.where} was trained with trainSeed ${loop.trainSeed}, batch ${loop.batchSize}; got ${o.trainSeed}, ${o.batchSize}`,
      );
    }
    step = loop.step;
    bestStep = loop.bestStep;
    history.push(...loop.history);
    checks.push(...loop.checks);
  }
  const save = () =>
    saveCheckpoint(ck!.store, explainer, o.optimizer as Adam, stopper, {
      step,
      bestStep,
      history,
      checks,
      trainSeed: o.trainSeed,
      batchSize: o.batchSize,
    });
  explainer.train();
  while (step < o.steps) {
    const idx = Array.from({ length: o.batchSize }, (_, i) => step * o.batchSize + i);
    const b = batchOf(pool, o.trainSeed, idx);
    const terms = tidy(() => {
      const x = b.x();
      const union = o.teacher?.(x, b.labels);
      // The terms are read inside f: variableGrads frees f's intermediates when it returns.
      const out: { terms?: TermValues } = {};
      const { grads } = variableGrads(() => {
        const parts = explainerLoss(
          classifier,
          explainer.call(x),
          x,
          b.labels,
          o.loss,
          union && { union },
        );
        out.terms = values(parts);
        return parts.total;
      }, params);
      o.optimizer.step(grads);
      return out.terms!;
    });
    history.push(terms);
    step++;
    o.onStep?.(step, terms);
    const timeUp = o.maxMinutes !== undefined && minutes() >= o.maxMinutes;
    if (o.val && (step % checkEvery === 0 || timeUp || step === o.steps)) {
      explainer.eval();
      const v = validationLoss(explainer, classifier, o.val, o.loss, 32, o.teacher);
      explainer.train();
      const before = stopper.best;
      const stop = stopper.update(v, explainer);
      checks.push([step, v]);
      if (stopper.best < before) bestStep = step;
      o.onCheck?.(step, v, stopper.best < before);
      if (stop) {
        stoppedEarly = true;
        break;
      }
    }
    if (ck && step % ck.every === 0) save();
    if (timeUp) break;
  }
  if (ck) save();
  if (o.val) stopper.restoreBest(explainer);
  explainer.eval();
  return {
    history,
    checks,
    steps: step,
    bestStep: o.val ? bestStep : step,
    stoppedEarly,
    minutes: minutes(),
  };
}

/**
 * Starts the explainer's encoder from the classifier's conv stages (same shapes by design), the
 * way NN-Explainer starts its DeepLab from a pretrained backbone: the explainer then begins with
 * features that already tell the classes apart.
 */
export function initEncoderFromClassifier(
  explainer: ExplainerNet,
  classifier: MultiLabelCnn,
): void {
  if (classifier.batchNorm) throw new Error("initEncoderFromClassifier: pass the fused classifier");
  const own = explainer.stateDict();
  const theirs = classifier.stateDict();
  [0, 2, 4, 6].forEach((layer, k) => {
    for (const p of ["weight", "bias"]) {
      const src = theirs.get(`features.${layer}.${p}`);
      const dst = own.get(`enc${k + 1}.${p}`);
      if (!src || !dst || src.shape.join() !== dst.shape.join()) {
        throw new Error(
          `initEncoderFromClassifier: features.${layer}.${p} [${src?.shape}] does not fit enc${k + 1}.${p} [${dst?.shape}]`,
        );
      }
      dst.assign(src);
    }
  });
}
