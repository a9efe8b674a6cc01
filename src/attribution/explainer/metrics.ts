/**
 * Scores for multi-label predictions and masks as NN-Explainer reports them:
 * - multi-label accuracy / precision / recall / F1 over all (example, class) decisions, a class
 *   predicted when its logit is >= threshold (utils/metrics.py MultiLabelMetrics; the reference's
 *   training default is -1, we default to 0, i.e. probability 0.5);
 * - the saliency metric of Dabkowski & Gal as assessment_metrics.saliency computes it:
 *   log(max(mean(mask), 0.05)) - log(sum_{c in GT} p_c), p = softmax of the masked image's logits.
 */

export interface MultiLabelScores {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Fraction of examples whose whole label vector is right. */
  exactMatch: number;
  count: number;
}

/** Counts of (example, class) decisions; merge batches with `addCounts`. */
export interface MultiLabelCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  exact: number;
  examples: number;
}

export function emptyCounts(): MultiLabelCounts {
  return { tp: 0, fp: 0, tn: 0, fn: 0, exact: 0, examples: 0 };
}

/** Adds the decisions for logits and 0/1 labels, both [B, C] row-major, into `into`. */
export function countMultiLabel(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
  threshold = 0,
  into: MultiLabelCounts = emptyCounts(),
): MultiLabelCounts {
  if (logits.length !== labels.length || logits.length % classes) {
    throw new Error(
      `countMultiLabel: ${logits.length} logits and ${labels.length} labels are not [B, ${classes}]`,
    );
  }
  for (let b = 0; b < logits.length / classes; b++) {
    let right = true;
    for (let c = 0; c < classes; c++) {
      const i = b * classes + c;
      const pred = logits[i] >= threshold;
      const gt = labels[i] === 1;
      if (pred && gt) into.tp++;
      else if (pred) into.fp++;
      else if (gt) into.fn++;
      else into.tn++;
      if (pred !== gt) right = false;
    }
    if (right) into.exact++;
    into.examples++;
  }
  return into;
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/**
 * Micro-averaged scores from pooled counts: accuracy over all (example, class) decisions,
 * precision, recall, F1 and exact match (0 where a denominator is 0).
 */
export function multiLabelScores(k: MultiLabelCounts): MultiLabelScores {
  return {
    accuracy: ratio(k.tp + k.tn, k.tp + k.tn + k.fp + k.fn),
    precision: ratio(k.tp, k.tp + k.fp),
    recall: ratio(k.tp, k.tp + k.fn),
    f1: ratio(2 * k.tp, 2 * k.tp + k.fp + k.fn),
    exactMatch: ratio(k.exact, k.examples),
    count: k.examples,
  };
}

/** softmax of one logit row. */
function softmaxRow(logits: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]);
  const p = Float64Array.from(logits, (v) => Math.exp(v - m));
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((v) => v / s);
}

/**
 * Dabkowski & Gal's saliency metric (lower is better) for one image: mask values in [0, 1], the
 * classifier's logits on mask * image, and the ground-truth classes.
 */
export function saliencyMetric(
  mask: ArrayLike<number>,
  maskedLogits: ArrayLike<number>,
  classes: readonly number[],
): number {
  if (classes.length === 0) throw new Error("saliencyMetric: need at least one ground-truth class");
  let area = 0;
  for (let i = 0; i < mask.length; i++) area += mask[i];
  area = Math.max(area / mask.length, 0.05);
  const p = softmaxRow(maskedLogits);
  let pc = 0;
  for (const c of classes) pc += p[c];
  return Math.log(area) - Math.log(pc);
}
