/**
 * Localisation of a saliency map against a ground-truth mask, as NN-Explainer scores its masks
 * (assessment_metrics.py): discrete IoU at thresholds 0.1..0.9 and F1 at 0.25/0.5/0.75 (pixel
 * predicted when its value is above the threshold), continuous IoU sum min / sum max, continuous F1,
 * soft accuracy and the overlap 1 - MAE. The map is scaled into [0, 1] first: "max" (default)
 * clips negatives and divides by the maximum if it is positive; "minmax"; or "none" (values used
 * as they are, e.g. masks already in [0, 1]).
 */

export interface LocalisationOptions {
  thresholds?: readonly number[];
  f1Thresholds?: readonly number[];
  normalise?: "max" | "minmax" | "none";
}

/**
 * IoU per threshold and their mean, F1 at the F1 thresholds, continuous IoU and F1, soft accuracy
 * and 1 - MAE.
 */
export interface LocalisationResult {
  thresholds: number[];
  iou: number[];
  meanIoU: number;
  f1Thresholds: number[];
  f1: number[];
  meanF1: number;
  continuousIoU: number;
  continuousF1: number;
  softAccuracy: number;
  /** 1 - mean |s - m|. */
  overlap: number;
}

function scaled(map: ArrayLike<number>, how: LocalisationOptions["normalise"]): Float64Array {
  const v = Float64Array.from(map);
  if (how === "none") return v;
  if (how === "minmax") {
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of v) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    return hi > lo ? v.map((x) => (x - lo) / (hi - lo)) : v.map(() => 0);
  }
  let hi = 0;
  for (const x of v) hi = Math.max(hi, x);
  return v.map((x) => (x <= 0 ? 0 : hi > 0 ? x / hi : x));
}

/** Agreement of two binary sets: 1 when both are empty. */
const ratio = (num: number, den: number) => (den === 0 ? 1 : num / den);

/**
 * Localisation scores of a map against a ground-truth mask of the same size (see the module comment
 * for each score).
 */
export function localisation(
  map: ArrayLike<number>,
  mask: ArrayLike<number | boolean>,
  o: LocalisationOptions = {},
): LocalisationResult {
  if (map.length !== mask.length) {
    throw new Error(
      `localisation: the map has ${map.length} values but the mask has ${mask.length}`,
    );
  }
  const s = scaled(map, o.normalise ?? "max");
  const m = Float64Array.from(mask as ArrayLike<number>, (v) => Number(v));
  for (let i = 0; i < m.length; i++) {
    if (!(m[i] >= 0 && m[i] <= 1))
      throw new Error(`localisation: mask values must be in [0, 1], got ${m[i]} at ${i}`);
    if (!Number.isFinite(s[i]))
      throw new Error(`localisation: the map has a non-finite value at ${i}`);
  }
  const thresholds = [...(o.thresholds ?? [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])];
  const f1Thresholds = [...(o.f1Thresholds ?? [0.25, 0.5, 0.75])];
  const binary = (t: number) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < s.length; i++) {
      const pred = s[i] > t;
      const gt = m[i] >= 0.5;
      if (pred && gt) tp++;
      else if (pred) fp++;
      else if (gt) fn++;
    }
    return { iou: ratio(tp, tp + fp + fn), f1: ratio(2 * tp, 2 * tp + fp + fn) };
  };
  const iou = thresholds.map((t) => binary(t).iou);
  const f1 = f1Thresholds.map((t) => binary(t).f1);
  let mn = 0;
  let mx = 0;
  let tp = 0;
  let sumS = 0;
  let sumM = 0;
  let tn = 0;
  let mae = 0;
  for (let i = 0; i < s.length; i++) {
    mn += Math.min(s[i], m[i]);
    mx += Math.max(s[i], m[i]);
    tp += s[i] * m[i];
    tn += (1 - s[i]) * (1 - m[i]);
    sumS += s[i];
    sumM += m[i];
    mae += Math.abs(s[i] - m[i]);
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  return {
    thresholds,
    iou,
    meanIoU: mean(iou),
    f1Thresholds,
    f1,
    meanF1: mean(f1),
    continuousIoU: ratio(mn, mx),
    continuousF1: ratio(2 * tp, sumS + sumM),
    softAccuracy: (tp + tn) / s.length,
    overlap: 1 - mae / s.length,
  };
}
