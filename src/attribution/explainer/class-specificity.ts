/**
 * How class-specific an explainer's per-class masks are, on multi-object canvases with known
 * per-class masks: for every (canvas, present class c), the mean discrete IoU (thresholds
 * 0.1..0.9 of the map divided by its maximum, as the evaluation table) of class c's mask against
 * c's own true mask ("own") and against each other present class's true mask ("other"); the
 * image-level mean IoU of the union (per-pixel max over the present classes against the union of
 * their true masks); and the mean mask value over the class's own item ("coverage").
 * A class-agnostic explainer has own close to other; the trained one is asked for own >= 2 other.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import { multiFashionSample, type SourcePool } from "../../models/data/multi-fashion.ts";
import { tensor } from "../../ops/creation.ts";
import { sigmoid } from "../../ops/unary.ts";
import { localisation } from "../metrics/localisation.ts";

/** A canvas with per-class masks [C, H*W] in [0, 1] and true masks [C, H*W] in {0, 1}. */
export interface ClassMaskCase {
  /** Explainer masks, class-major: C blocks of H*W values. */
  masks: ArrayLike<number>;
  /** True masks, class-major, 0 or 1. */
  truth: ArrayLike<number>;
  /** 1 where the class is present, length C. */
  labels: ArrayLike<number>;
}

export interface ClassSpecificity {
  /** (canvas, present class) pairs behind `ownIoU`. */
  pairs: number;
  /** Mean IoU of a present class's mask with its own true mask. */
  ownIoU: number;
  /** (canvas, class, other present class) triples behind `otherIoU`. */
  otherPairs: number;
  /** Mean IoU of a present class's mask with another present class's true mask (NaN if none). */
  otherIoU: number;
  /** ownIoU / otherIoU. */
  ratio: number;
  /** Mean over canvases of the union's mean IoU with the union of the true masks. */
  imageMeanIoU: number;
  /** Mean over present classes of the mask's mean value on the class's own item. */
  ownCoverage: number;
}

const mean = (a: readonly number[]) =>
  a.length ? a.reduce((s, v) => s + v, 0) / a.length : Number.NaN;

/** Scores a set of canvases (see the module comment). */
export function classSpecificity(cases: Iterable<ClassMaskCase>): ClassSpecificity {
  const own: number[] = [];
  const other: number[] = [];
  const image: number[] = [];
  const coverage: number[] = [];
  for (const { masks, truth, labels } of cases) {
    const classes = labels.length;
    const hw = masks.length / classes;
    if (!Number.isInteger(hw) || truth.length !== masks.length) {
      throw new Error(
        `classSpecificity: ${masks.length} mask and ${truth.length} truth values for ${classes} classes (need C x H*W of each)`,
      );
    }
    const block = (a: ArrayLike<number>, c: number) =>
      Array.prototype.slice.call(a, c * hw, (c + 1) * hw) as number[];
    const present = [...Array(classes).keys()].filter((c) => labels[c] === 1);
    if (present.length === 0) throw new Error("classSpecificity: a canvas without a present class");
    const combined = new Float32Array(hw);
    const union = new Uint8Array(hw);
    for (const c of present) {
      const map = block(masks, c);
      const own_ = block(truth, c);
      own.push(localisation(map, own_).meanIoU);
      let covered = 0;
      let pixels = 0;
      for (let p = 0; p < hw; p++) {
        combined[p] = Math.max(combined[p], map[p]);
        union[p] |= own_[p];
        if (own_[p]) {
          covered += map[p];
          pixels++;
        }
      }
      coverage.push(covered / pixels);
      for (const d of present) if (d !== c) other.push(localisation(map, block(truth, d)).meanIoU);
    }
    image.push(localisation(combined, union).meanIoU);
  }
  return {
    pairs: own.length,
    ownIoU: mean(own),
    otherPairs: other.length,
    otherIoU: mean(other),
    ratio: mean(own) / mean(other),
    imageMeanIoU: mean(image),
    ownCoverage: mean(coverage),
  };
}

/**
 * The cases of an explainer (mask logits [1, C, H, W] for an image [1, 1, H, W]) on canvases
 * start..start+count-1 of a seeded multi-object data set: sigmoid masks, true masks and labels.
 */
export function* explainerCanvasCases(
  explainer: (x: Tensor) => Tensor,
  pool: SourcePool,
  seed: number,
  start: number,
  count: number,
): Generator<ClassMaskCase> {
  for (let i = start; i < start + count; i++) {
    const s = multiFashionSample(pool, seed, i);
    const masks = tidy(() =>
      sigmoid(explainer(tensor(s.image, [1, 1, s.size, s.size]))).dataSync(),
    );
    yield { masks, truth: s.masks, labels: s.labels };
  }
}
