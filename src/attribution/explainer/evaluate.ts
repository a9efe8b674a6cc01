/**
 * The NN-Explainer comparison on held-out canvases (compute_scores.py, adapted to multi-label
 * canvases): each method gives one map per ground-truth class, scaled into [0, 1]; the image's
 * mask is their per-pixel max (as the explainer's m is the max over the target classes), scored
 * against the union of the true masks. Per image: multi-label accuracy of the classifier on
 * mask * image, discrete IoU at 0.1..0.9 (mean IoU), continuous IoU, 1 - MAE, the saliency metric
 * and the time taken. Per (image, class): the pointing game and, on the first `curveImages`
 * images, deletion and insertion AUC of the class's sigmoid probability.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import {
  type MultiFashionSample,
  multiFashionSample,
  type SourcePool,
} from "../../models/data/multi-fashion.ts";
import { tensor } from "../../ops/creation.ts";
import { reshape } from "../../ops/reshape.ts";
import { slice } from "../../ops/slice.ts";
import { sigmoid } from "../../ops/unary.ts";
import { deletionAuc, insertionAuc } from "../metrics/deletion.ts";
import { localisation } from "../metrics/localisation.ts";
import { pointingGame } from "../metrics/pointing-game.ts";
import type { TargetFn } from "../types.ts";
import type { ImageModel } from "./explain.ts";
import {
  countMultiLabel,
  emptyCounts,
  type MultiLabelCounts,
  multiLabelScores,
  saliencyMetric,
} from "./metrics.ts";

/**
 * A method under evaluation: for one image x [1, 1, H, W] and its ground-truth classes, one map
 * [H, W] in [0, 1] per class (same order).
 */
export type ClassMapMethod = (
  x: Tensor,
  classes: readonly number[],
  sample: MultiFashionSample,
) => Promise<Float32Array[]>;

/** Scales a map into [0, 1]: "max" clips negatives and divides by the maximum; "minmax". */
export function toUnit(map: ArrayLike<number>, how: "max" | "minmax" = "max"): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < map.length; i++) {
    lo = Math.min(lo, map[i]);
    hi = Math.max(hi, map[i]);
  }
  if (how === "minmax") {
    return Float32Array.from(map, (v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
  }
  return Float32Array.from(map, (v) => (hi > 0 ? Math.max(v, 0) / hi : 0));
}

/** The constant and oracle rows of NN-Explainer's tables: "0", "0.5", "1", "perfect". */
export function constantMethod(kind: "0" | "0.5" | "1" | "perfect"): ClassMapMethod {
  return async (_x, classes, s) => {
    const hw = s.size * s.size;
    return classes.map((c) =>
      kind === "perfect"
        ? Float32Array.from(s.masks.subarray(c * hw, (c + 1) * hw))
        : new Float32Array(hw).fill(Number(kind)),
    );
  };
}

/** The class's own probability, sigmoid(logit_c), as a target for the perturbation metrics. */
export function sigmoidOf(c: number): TargetFn {
  return (out) => sigmoid(reshape(slice(out, [0, c], [out.shape[0], 1]), [out.shape[0]]));
}

/** Options of `evaluateMethod`: which held-out canvases to score and how. */
export interface EvaluationOptions {
  /** Held-out canvases 0..images-1 of `seed`. */
  images: number;
  /** Data-set seed of the canvases (use one the classifier and explainer were not trained on). */
  seed: number;
  /** Deletion/insertion on the first this-many images (default all). */
  curveImages?: number;
  /** Pixels per deletion/insertion step (default 128: 33 points on a 64 x 64 canvas). */
  pixelsPerStep?: number;
  /** Pointing-game tolerance in pixels (default 4: TorchRay's 15 px at 224 scaled to 64). */
  tolerance?: number;
  /** Classifier logit threshold for the multi-label accuracy (default 0). */
  threshold?: number;
  /** Perturbed images per classifier call in deletion/insertion (default: fit a memory budget). */
  batchSize?: number;
}

/** One method's scores, averaged over the evaluated images (NN-Explainer's comparison table). */
export interface EvaluationRow {
  /** The method's name, as given to `evaluateMethod`. */
  method: string;
  /** Canvases scored. */
  images: number;
  /** Multi-label accuracy / F1 of the classifier on mask * image against the true labels. */
  maskedAccuracy: number;
  /** Multi-label F1 of the classifier on mask * image. */
  maskedF1: number;
  /** Mean of `iou` over the thresholds. */
  meanIoU: number;
  /** IoU at thresholds 0.1..0.9. */
  iou: number[];
  /** Soft IoU of the [0, 1] mask with the true mask: sum min / sum max. */
  continuousIoU: number;
  /** Pixel F1 of the mask against the true mask, mean over thresholds 0.25, 0.5, 0.75. */
  meanF1: number;
  /** Dabkowski & Gal (lower is better). */
  saliency: number;
  /** 1 - MAE. */
  overlap: number;
  /** Mean over classes of hits / (hits + misses), TorchRay's aggregation. */
  pointing: number;
  /** Mean deletion AUC of the class's sigmoid probability (lower is better); null if none. */
  deletionAuc: number | null;
  /** Mean insertion AUC of the class's sigmoid probability (higher is better); null if none. */
  insertionAuc: number | null;
  /** (image, class) pairs behind the deletion/insertion means. */
  curvePairs: number;
  /** Mean seconds to produce all class maps of one image. */
  secondsPerImage: number;
}

const avg = (a: readonly number[]) =>
  a.length ? a.reduce((x, y) => x + y, 0) / a.length : Number.NaN;

/**
 * One method's scores on one canvas: everything `aggregateEvaluations` pools, so per-image results
 * computed apart (shards of a batch run) give the row `evaluateMethod` gives.
 */
export interface ImageEvaluation {
  /** The canvas's index in its data set. */
  index: number;
  /** The ground-truth classes, in the order of the maps and of the per-class fields. */
  classes: number[];
  /** The classifier's decisions on mask * image against the labels (this image's counts). */
  counts: MultiLabelCounts;
  /** The classifier's logits on mask * image. */
  maskedLogits: number[];
  /** IoU at thresholds 0.1..0.9. */
  iou: number[];
  continuousIoU: number;
  meanF1: number;
  /** 1 - MAE. */
  overlap: number;
  /** Dabkowski & Gal's saliency metric. */
  saliency: number;
  /** Pointing-game hit per class. */
  pointing: boolean[];
  /** Deletion / insertion AUC per class; null when the image is past the curve images. */
  deletionAuc: number[] | null;
  insertionAuc: number[] | null;
  /** Seconds to produce the maps. */
  seconds: number;
}

/** Options of `evaluateImage`: those of `evaluateMethod` that apply to one canvas. */
export interface ImageEvaluationOptions
  extends Pick<EvaluationOptions, "pixelsPerStep" | "tolerance" | "threshold" | "batchSize"> {
  /** Whether to compute deletion and insertion AUCs (default true). */
  curves?: boolean;
}

/** Scores one method on one canvas; also returns its class maps (one [H * W] per class). */
export async function evaluateImage(
  name: string,
  method: ClassMapMethod,
  classifier: ImageModel,
  s: MultiFashionSample,
  index: number,
  o: ImageEvaluationOptions = {},
): Promise<{ evaluation: ImageEvaluation; maps: Float32Array[] }> {
  const hw = s.size * s.size;
  const classes = [...s.labels.keys()].filter((c) => s.labels[c] === 1);
  const x = tidy(() => keep(tensor(s.image, [1, 1, s.size, s.size])));
  try {
    const t0 = performance.now();
    const maps = await method(x, classes, s);
    const seconds = (performance.now() - t0) / 1000;
    if (maps.length !== classes.length || maps.some((m) => m.length !== hw)) {
      throw new Error(`evaluateMethod(${name}): expected ${classes.length} maps of ${hw} values`);
    }
    const mask = new Float32Array(hw);
    const truth = new Float32Array(hw);
    classes.forEach((c, k) => {
      for (let p = 0; p < hw; p++) {
        mask[p] = Math.max(mask[p], maps[k][p]);
        if (s.masks[c * hw + p]) truth[p] = 1;
      }
    });
    const r = localisation(mask, truth, { normalise: "none" });
    const logits = tidy(() => {
      const masked = tensor(
        Float32Array.from(s.image, (v, p) => v * mask[p]),
        [1, 1, s.size, s.size],
      );
      return Float32Array.from(classifier(masked).dataSync());
    });
    const counts = countMultiLabel(logits, s.labels, s.labels.length, o.threshold ?? 0);
    const pointing: boolean[] = [];
    const curves = o.curves ?? true;
    const del: number[] = [];
    const ins: number[] = [];
    for (const [k, c] of classes.entries()) {
      const g = pointingGame(maps[k], s.masks.subarray(c * hw, (c + 1) * hw), s.size, s.size, {
        tolerance: o.tolerance ?? 4,
      });
      pointing.push(g.hit);
      if (curves) {
        const map = tidy(() => keep(tensor(maps[k], [1, 1, s.size, s.size])));
        try {
          const co = { pixelsPerStep: o.pixelsPerStep ?? 128, batchSize: o.batchSize };
          del.push((await deletionAuc(classifier, x, sigmoidOf(c), map, co)).auc[0]);
          ins.push((await insertionAuc(classifier, x, sigmoidOf(c), map, co)).auc[0]);
        } finally {
          map.dispose();
        }
      }
    }
    return {
      evaluation: {
        index,
        classes,
        counts,
        maskedLogits: [...logits],
        iou: r.iou,
        continuousIoU: r.continuousIoU,
        meanF1: r.meanF1,
        overlap: r.overlap,
        saliency: saliencyMetric(mask, logits, classes),
        pointing,
        deletionAuc: curves ? del : null,
        insertionAuc: curves ? ins : null,
        seconds,
      },
      maps,
    };
  } finally {
    x.dispose();
  }
}

/**
 * The row of per-image results, pooled as NN-Explainer pools them: accuracy and F1 from the
 * summed decisions, the pointing game per class (hits / (hits + misses), then the mean over
 * classes), every other score the mean over images (deletion/insertion over (image, class) pairs).
 */
export function aggregateEvaluations(
  name: string,
  results: readonly ImageEvaluation[],
): EvaluationRow {
  if (!results.length) throw new Error(`aggregateEvaluations(${name}): no image results to pool`);
  const counts = emptyCounts();
  const hits = new Map<number, [number, number]>();
  const del: number[] = [];
  const ins: number[] = [];
  for (const r of results) {
    for (const k of ["tp", "fp", "tn", "fn", "exact", "examples"] as const)
      counts[k] += r.counts[k];
    r.classes.forEach((c, k) => {
      const [h, m] = hits.get(c) ?? [0, 0];
      hits.set(c, r.pointing[k] ? [h + 1, m] : [h, m + 1]);
    });
    if (r.deletionAuc) del.push(...r.deletionAuc);
    if (r.insertionAuc) ins.push(...r.insertionAuc);
  }
  const ml = multiLabelScores(counts);
  const iou = results[0].iou.map((_, t) => avg(results.map((r) => r.iou[t])));
  return {
    method: name,
    images: results.length,
    maskedAccuracy: ml.accuracy,
    maskedF1: ml.f1,
    meanIoU: avg(iou),
    iou,
    continuousIoU: avg(results.map((r) => r.continuousIoU)),
    meanF1: avg(results.map((r) => r.meanF1)),
    saliency: avg(results.map((r) => r.saliency)),
    overlap: avg(results.map((r) => r.overlap)),
    pointing: avg([...hits.values()].map(([h, m]) => h / (h + m))),
    deletionAuc: del.length ? avg(del) : null,
    insertionAuc: ins.length ? avg(ins) : null,
    curvePairs: del.length,
    secondsPerImage: avg(results.map((r) => r.seconds)),
  };
}

/** Scores one method on the held-out canvases: `evaluateImage` on each, then aggregated. */
export async function evaluateMethod(
  name: string,
  method: ClassMapMethod,
  classifier: ImageModel,
  pool: SourcePool,
  o: EvaluationOptions,
): Promise<EvaluationRow> {
  const curveImages = Math.min(o.curveImages ?? o.images, o.images);
  const results: ImageEvaluation[] = [];
  for (let index = 0; index < o.images; index++) {
    const s = multiFashionSample(pool, o.seed, index);
    const { evaluation } = await evaluateImage(name, method, classifier, s, index, {
      ...o,
      curves: index < curveImages,
    });
    results.push(evaluation);
  }
  return aggregateEvaluations(name, results);
}

/** The rows as a fixed-width text table, the paper's columns. */
export function formatTable(rows: readonly EvaluationRow[]): string {
  const cols: [string, (r: EvaluationRow) => string][] = [
    ["method", (r) => r.method],
    ["acc(masked)", (r) => r.maskedAccuracy.toFixed(3)],
    ["F1(masked)", (r) => r.maskedF1.toFixed(3)],
    ["meanIoU", (r) => r.meanIoU.toFixed(3)],
    ["contIoU", (r) => r.continuousIoU.toFixed(3)],
    ["saliency", (r) => r.saliency.toFixed(3)],
    ["1-MAE", (r) => r.overlap.toFixed(3)],
    ["pointing", (r) => r.pointing.toFixed(3)],
    ["deletion", (r) => (r.deletionAuc === null ? "-" : r.deletionAuc.toFixed(3))],
    ["insertion", (r) => (r.insertionAuc === null ? "-" : r.insertionAuc.toFixed(3))],
    [
      "s/image",
      (r) =>
        r.secondsPerImage < 0.001
          ? r.secondsPerImage.toExponential(1)
          : r.secondsPerImage.toFixed(3),
    ],
  ];
  const cells = [cols.map(([h]) => h), ...rows.map((r) => cols.map(([, f]) => f(r)))];
  const widths = cols.map((_, j) => Math.max(...cells.map((row) => row[j].length)));
  return cells
    .map((row) =>
      row.map((v, j) => (j === 0 ? v.padEnd(widths[j]) : v.padStart(widths[j]))).join("  "),
    )
    .join("\n");
}
