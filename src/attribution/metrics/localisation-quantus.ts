/**
 * Localisation of a map against a ground-truth mask, as Quantus defines each score (one map's
 * pixel values and a same-length mask, nonzero = inside):
 * - attribution localisation (Kohlbrenner et al. 2020): sum of a inside / sum of a, on |a| by
 *   default; `weighted` multiplies by the mask's share of the image, as Quantus does;
 * - top-k intersection (Theiner et al. 2021): the share of the k (default 1000) largest values
 *   that lie inside; `conceptInfluence` divides by the mask's share of the image;
 * - relevance mass accuracy (Arras et al. 2022): sum of a inside / sum of a (raw values by default);
 * - relevance rank accuracy (Arras et al. 2022): with K = mask size, the share of the K largest
 *   values that lie inside;
 * - AUC (Fawcett 2006): the area under the ROC curve of the values as scores of "inside", with
 *   ties counted half (sklearn's roc_auc_score).
 * An empty mask has no answer: every score is NaN, as in Quantus.
 */
import { rankPixels } from "./pixel-saliency.ts";

function inputs(
  a: ArrayLike<number>,
  mask: ArrayLike<number | boolean>,
  abs: boolean,
  api: string,
): { v: Float64Array; s: Uint8Array; inside: number } {
  if (a.length !== mask.length)
    throw new Error(`${api}: the map has ${a.length} values but the mask has ${mask.length}`);
  const v = Float64Array.from(a, (x) => (abs ? Math.abs(x) : x));
  const s = new Uint8Array(a.length);
  let inside = 0;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new Error(`${api}: the map has ${v[i]} at index ${i}`);
    s[i] = mask[i] ? 1 : 0;
    inside += s[i];
  }
  return { v, s, inside };
}

function massInside(v: Float64Array, s: Uint8Array): number {
  let inside = 0;
  let total = 0;
  for (let i = 0; i < v.length; i++) {
    total += v[i];
    if (s[i]) inside += v[i];
  }
  return inside / total;
}

/** Attribution localisation: the share of the (absolute, by default) attribution inside the mask. */
export function attributionLocalisation(
  a: ArrayLike<number>,
  mask: ArrayLike<number | boolean>,
  o: { abs?: boolean; weighted?: boolean } = {},
): number {
  const { v, s, inside } = inputs(a, mask, o.abs ?? true, "attributionLocalisation");
  if (inside === 0) return Number.NaN;
  const r = massInside(v, s);
  return o.weighted ? r * (inside / v.length) : r;
}

/** Top-k intersection: the share of the k largest (absolute, by default) values inside the mask. */
export function topKIntersection(
  a: ArrayLike<number>,
  mask: ArrayLike<number | boolean>,
  o: { k?: number; abs?: boolean; conceptInfluence?: boolean } = {},
): number {
  const { v, s, inside } = inputs(a, mask, o.abs ?? true, "topKIntersection");
  const k = o.k ?? 1000;
  if (!Number.isInteger(k) || k < 1 || k > v.length) {
    throw new Error(
      `topKIntersection: k must be an integer in [1, ${v.length}] (the map size), got ${k}`,
    );
  }
  if (inside === 0) return Number.NaN;
  const order = rankPixels(v);
  let hits = 0;
  for (let r = 0; r < k; r++) hits += s[order[r]];
  const score = hits / k;
  return o.conceptInfluence ? score / (inside / v.length) : score;
}

/** Relevance mass accuracy: sum of the relevance inside the mask / the total relevance. */
export function relevanceMassAccuracy(
  a: ArrayLike<number>,
  mask: ArrayLike<number | boolean>,
  o: { abs?: boolean } = {},
): number {
  const { v, s, inside } = inputs(a, mask, o.abs ?? false, "relevanceMassAccuracy");
  return inside === 0 ? Number.NaN : massInside(v, s);
}

/** Relevance rank accuracy: the share of the K = |mask| highest-ranked values inside the mask. */
export function relevanceRankAccuracy(
  a: ArrayLike<number>,
  mask: ArrayLike<number | boolean>,
  o: { abs?: boolean } = {},
): number {
  const { v, s, inside } = inputs(a, mask, o.abs ?? false, "relevanceRankAccuracy");
  if (inside === 0) return Number.NaN;
  const order = rankPixels(v);
  let hits = 0;
  for (let r = 0; r < inside; r++) hits += s[order[r]];
  return hits / inside;
}

/**
 * ROC AUC of the values as a detector of the mask: the probability that a random inside pixel
 * scores above a random outside one, ties counting half. NaN when either class is empty.
 */
export function localisationAuc(
  a: ArrayLike<number>,
  mask: ArrayLike<number | boolean>,
  o: { abs?: boolean } = {},
): number {
  const { v, s, inside } = inputs(a, mask, o.abs ?? false, "localisationAuc");
  const outside = v.length - inside;
  if (inside === 0 || outside === 0) return Number.NaN;
  // Mann-Whitney U from average ranks (ties share their mean rank).
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((x, y) => v[x] - v[y]);
  let rankSum = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (s[idx[k]]) rankSum += avg;
    i = j + 1;
  }
  return (rankSum - (inside * (inside + 1)) / 2) / (inside * outside);
}
