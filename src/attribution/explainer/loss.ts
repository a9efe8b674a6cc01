/**
 * The NN-Explainer training loss (Stalder et al. 2022; stevenstalder/NN-Explainer utils/loss.py,
 * helper.extract_masks, explainer_classifier.training_step), for mask logits S [B, C, H, W], the
 * image x [B, 1, H, W], multi-hot targets y [B, C] and a frozen classifier f:
 *
 *   L = BCEWithLogits(f(m x), y) + l_ent L_ent(f((1 - m) x)) + l_tv (TV(m) + TV(n))
 *     + l_area A(S, y) + l_tot mean(m) + l_nc mean(n)
 *
 * with m = sigmoid(max_{c in y} S_c) and n = sigmoid(max_{c not in y} S_c) per pixel, plus
 * l_pc L_pc + l_pd L_pd, salient's per-class preservation and deletion terms (see per-class-loss.ts),
 * and l_u L_u, the union distillation toward a teacher's masks (see union-distill.ts);
 * l_pc = l_pd = l_u = 0 gives the reference loss.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { bceWithLogits } from "../../models/train/losses.ts";
import { add, mul, sub } from "../../ops/binary.ts";
import { tensor } from "../../ops/creation.ts";
import { pad } from "../../ops/pad.ts";
import { max, mean, sum } from "../../ops/reduce.ts";
import { reshape } from "../../ops/reshape.ts";
import { slice } from "../../ops/slice.ts";
import { softmax } from "../../ops/softmax.ts";
import { abs, clamp, log, relu, sigmoid } from "../../ops/unary.ts";
import { perClassDeletionLoss, perClassMaskLoss } from "./per-class-loss.ts";
import { sortRowsDescending } from "./sort.ts";
import { unionDistillLoss } from "./union-distill.ts";

/** What absent classes are shifted by so the per-pixel max never picks them. */
const EXCLUDED = 1e9;

function checkTargets(seg: Tensor, targets: ArrayLike<number>, api: string): [number, number] {
  if (seg.rank !== 4)
    throw new Error(`${api}: expected mask logits [B, C, H, W], got [${seg.shape}]`);
  const [b, c] = seg.shape;
  if (targets.length !== b * c) {
    throw new Error(
      `${api}: ${targets.length} targets for mask logits [${seg.shape}] (need B x C = ${b * c})`,
    );
  }
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] !== 0 && targets[i] !== 1) {
      throw new Error(`${api}: targets must be 0 or 1, got ${targets[i]} at ${i}`);
    }
  }
  return [b, c];
}

/** sigmoid of the per-pixel max over the selected classes (select[b, c] = 1): [B, H, W]. */
function selectedMax(seg: Tensor, select: Float32Array, api: string): Tensor {
  const [b, c] = seg.shape;
  for (let i = 0; i < b; i++) {
    if (!select.subarray(i * c, (i + 1) * c).some((v) => v === 1)) {
      throw new Error(
        `${api}: example ${i} selects no class (every example needs a target and a non-target class)`,
      );
    }
  }
  const shift = tensor(
    select.map((v) => (v ? 0 : -EXCLUDED)),
    [b, c, 1, 1],
  );
  return sigmoid(max(add(seg, shift), 1));
}

/** The target mask m and the non-target mask n, each [B, H, W] in (0, 1). */
export function explainerMasks(
  seg: Tensor,
  targets: ArrayLike<number>,
): { target: Tensor; nonTarget: Tensor } {
  checkTargets(seg, targets, "explainerMasks");
  const y = Float32Array.from(targets);
  return {
    target: selectedMax(seg, y, "explainerMasks"),
    nonTarget: selectedMax(
      seg,
      y.map((v) => 1 - v),
      "explainerMasks",
    ),
  };
}

/**
 * Negative entropy of softmax(logits) over the last axis, averaged over every entry:
 * -mean(-p log p) with p clamped to >= 1e-16. Minimising it maximises the entropy.
 */
export function entropyLoss(logits: Tensor): Tensor {
  const p = clamp(softmax(logits, -1), 1e-16);
  return mean(mul(p, log(p)));
}

/**
 * Total variation of masks [B, H, W] (or [B, 1, H, W]) as the reference's 3x3 difference
 * convolutions with reflect padding: mean(|m[i,j] - m[i,j+1]| + |m[i,j] - m[i+1,j]|), where the
 * last column (row) is compared with its reflected neighbour, i.e. column W-2 (row H-2).
 */
export function totalVariation(masks: Tensor): Tensor {
  const m =
    masks.rank === 4 ? reshape(masks, [masks.shape[0], masks.shape[2], masks.shape[3]]) : masks;
  if (m.rank !== 3 || (masks.rank === 4 && masks.shape[1] !== 1)) {
    throw new Error(
      `totalVariation: expected masks [B, H, W] or [B, 1, H, W], got [${masks.shape}]`,
    );
  }
  const [b, h, w] = m.shape;
  if (h < 2 || w < 2)
    throw new Error(`totalVariation: masks must be at least 2 x 2, got [${masks.shape}]`);
  const right = slice(
    pad(
      m,
      [
        [0, 0],
        [0, 0],
        [0, 1],
      ],
      "reflect",
    ),
    [0, 0, 1],
    [b, h, w],
  );
  const down = slice(
    pad(
      m,
      [
        [0, 0],
        [0, 1],
        [0, 0],
      ],
      "reflect",
    ),
    [0, 1, 0],
    [b, h, w],
  );
  return mean(add(abs(sub(m, right)), abs(sub(m, down))));
}

export interface AreaOptions {
  /** Fraction of pixels each present class's mask should at least cover (default 0.05). */
  minArea?: number;
  /** Fraction it should at most cover (default 0.3). */
  maxArea?: number;
}

/**
 * The class mask area constraint (ClassMaskAreaLoss): for each present class, s = sigmoid(S_c)
 * sorted descending over its N = H W pixels; mean_k(relu(1[k < floor(a_min N)] - s_k) +
 * relu(s_k - 1[k < floor(a_max N)])). Summed over present classes, averaged over the batch.
 * The reference hard-codes N = 224^2 (its input size); here N is the masks' own H W.
 */
export function classMaskAreaLoss(
  seg: Tensor,
  targets: ArrayLike<number>,
  o: AreaOptions = {},
): Tensor {
  const [b, c] = checkTargets(seg, targets, "classMaskAreaLoss");
  const minArea = o.minArea ?? 0.05;
  const maxArea = o.maxArea ?? 0.3;
  if (!(minArea >= 0 && minArea <= maxArea && maxArea <= 1)) {
    throw new Error(
      `classMaskAreaLoss: need 0 <= minArea <= maxArea <= 1, got ${minArea}, ${maxArea}`,
    );
  }
  const n = seg.shape[2] * seg.shape[3];
  const rows: number[] = [];
  for (let i = 0; i < b * c; i++) if (targets[i] === 1) rows.push(i);
  if (rows.length === 0) return mul(sum(seg), 0);
  const sorted = sortRowsDescending(reshape(sigmoid(seg), [b * c, n]), rows);
  const ones = (count: number) =>
    tensor(Float32Array.from({ length: n }, (_, k) => (k < count ? 1 : 0)));
  // (int)(N * a) as in the reference, for a >= 0.
  const lo = ones(Math.floor(n * minArea));
  const hi = ones(Math.floor(n * maxArea));
  const perClass = mean(add(relu(sub(lo, sorted)), relu(sub(sorted, hi))), 1);
  return mul(sum(perClass), 1 / b);
}

/**
 * Weights of the NN-Explainer loss's terms (l_ent, l_tv, l_area, l_tot, l_nc, l_pc, l_pd, l_u) and the class area
 * bounds; `EXPLAINER_LOSS_DEFAULTS` holds the reference's defaults.
 */
export interface ExplainerLossOptions extends AreaOptions {
  /** Weight of the entropy term (default 1). */
  entropy?: number;
  /** Weight of the smoothness term (default 1). */
  tv?: number;
  /** Weight of the class area constraint (default 1). */
  area?: number;
  /** Weight of mean(m) (default 0.1). */
  totalArea?: number;
  /** Weight of mean(n) (default 0.3). */
  nonClassArea?: number;
  /**
   * Weight of the per-class term L_pc (default 0, the reference loss; see `perClassMaskLoss`).
   */
  perClass?: number;
  /**
   * Weight of the per-class deletion term L_pd (default 0, the reference loss; see
   * `perClassDeletionLoss`).
   */
  perClassDelete?: number;
  /**
   * Weight of the union distillation L_u (default 0, the reference loss; needs the teacher's
   * masks, see `unionDistillLoss`).
   */
  unionDistill?: number;
}

/** The reference defaults (utils/argparser.py). */
export const EXPLAINER_LOSS_DEFAULTS: Required<ExplainerLossOptions> = {
  entropy: 1,
  tv: 1,
  area: 1,
  totalArea: 0.1,
  nonClassArea: 0.3,
  perClass: 0,
  perClassDelete: 0,
  unionDistill: 0,
  minArea: 0.05,
  maxArea: 0.3,
};

/** The loss's terms, each a scalar tensor before weighting; `total` is their weighted sum. */
export interface ExplainerLossTerms {
  /** Weighted sum of the terms below: what training minimises. */
  total: Tensor;
  /** BCE with logits of f(m x) against the targets. */
  classification: Tensor;
  /** Negative entropy of softmax(f((1 - m) x)): lowest when the complement leaves f unsure. */
  entropy: Tensor;
  /** TV(m) + TV(n): smoothness of the target and non-target masks. */
  tv: Tensor;
  /** Per-class area constraint A(S, y) (see `classMaskAreaLoss`). */
  area: Tensor;
  /** mean(m): the target mask's area. */
  totalArea: Tensor;
  /** mean(n): the non-target mask's area. */
  nonClassArea: Tensor;
  /** L_pc: BCE of f(sigmoid(S_c) x) against one-hot c, over present classes (0 if unweighted). */
  perClass: Tensor;
  /**
   * L_pd: BCE of f((1 - sigmoid(S_c)) x) against y - e_c, over present classes (0 if unweighted).
   */
  perClassDelete: Tensor;
  /** L_u: BCE of m against the teacher's union masks (0 if unweighted). */
  unionDistill: Tensor;
  /** Classifier logits on the masked image (for training metrics). */
  maskedLogits: Tensor;
}

/** Targets that come from outside the batch: the teacher's union masks m0 [B, H, W] for L_u. */
export interface ExplainerLossTeacher {
  union: Tensor;
}

/** The full loss; each term is returned unweighted, `total` is the weighted sum. */
export function explainerLoss(
  classifier: (x: Tensor) => Tensor,
  seg: Tensor,
  x: Tensor,
  targets: ArrayLike<number>,
  options: ExplainerLossOptions = {},
  teacher?: ExplainerLossTeacher,
): ExplainerLossTerms {
  const o = { ...EXPLAINER_LOSS_DEFAULTS, ...options };
  const [b, c, h, w] = seg.shape;
  if (x.rank !== 4 || x.shape[0] !== b || x.shape[2] !== h || x.shape[3] !== w) {
    throw new Error(`explainerLoss: image [${x.shape}] does not match mask logits [${seg.shape}]`);
  }
  const { target: m, nonTarget: n } = explainerMasks(seg, targets);
  const m4 = reshape(m, [b, 1, h, w]);
  const maskedLogits = classifier(mul(m4, x));
  const classification = bceWithLogits(maskedLogits, tensor(Float32Array.from(targets), [b, c]));
  const entropy = entropyLoss(classifier(mul(sub(1, m4), x)));
  const tv = add(totalVariation(m), totalVariation(n));
  const area = classMaskAreaLoss(seg, targets, o);
  const totalArea = mean(m);
  const nonClassArea = mean(n);
  let total = add(classification, mul(entropy, o.entropy));
  total = add(total, mul(tv, o.tv));
  total = add(total, mul(area, o.area));
  total = add(total, add(mul(totalArea, o.totalArea), mul(nonClassArea, o.nonClassArea)));
  // Skipped at weight 0: it costs one classifier pass per present class.
  const perClass = o.perClass
    ? perClassMaskLoss(classifier, seg, x, targets)
    : tensor(new Float32Array(1), []);
  if (o.perClass) total = add(total, mul(perClass, o.perClass));
  const perClassDelete = o.perClassDelete
    ? perClassDeletionLoss(classifier, seg, x, targets)
    : tensor(new Float32Array(1), []);
  if (o.perClassDelete) total = add(total, mul(perClassDelete, o.perClassDelete));
  if (o.unionDistill && !teacher) {
    throw new Error(
      `explainerLoss: unionDistill ${o.unionDistill} needs the teacher's union masks [B, H, W]`,
    );
  }
  const unionDistill = o.unionDistill
    ? unionDistillLoss(seg, targets, teacher!.union)
    : tensor(new Float32Array(1), []);
  if (o.unionDistill) total = add(total, mul(unionDistill, o.unionDistill));
  return {
    total,
    classification,
    entropy,
    tv,
    area,
    totalArea,
    nonClassArea,
    perClass,
    perClassDelete,
    unionDistill,
    maskedLogits,
  };
}
