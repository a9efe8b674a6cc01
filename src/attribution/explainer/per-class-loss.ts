/**
 * Per-class terms for the NN-Explainer loss, not in Stalder et al. 2022 (whose classification and
 * entropy terms see the present classes only through m = sigmoid(max_{c in y} S_c), so any present
 * channel may cover any present item). For each present class c of image b:
 *
 *   L_pc = mean over present (b, c) of BCEWithLogits(f(sigmoid(S_bc) x_b), e_c)
 *   L_pd = mean over present (b, c) of BCEWithLogits(f((1 - sigmoid(S_bc)) x_b), y_b - e_c)
 *
 * L_pc (preservation): S_c alone must keep its own class and drop every other class, present ones
 * included, so a channel that also covers another present item pays for that item's logit. On its
 * own it shrinks each mask to the few pixels the classifier needs.
 * L_pd (deletion): removing S_c must remove class c and keep every other present class, so leaving
 * part of c's item visible is penalised, and so is covering another item.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { bceWithLogits, oneHot } from "../../models/train/losses.ts";
import { mul, sub } from "../../ops/binary.ts";
import { tensor } from "../../ops/creation.ts";
import { gather } from "../../ops/gather.ts";
import { sum } from "../../ops/reduce.ts";
import { reshape } from "../../ops/reshape.ts";
import { sigmoid } from "../../ops/unary.ts";

/** The present (b, c) pairs: their masks sigmoid(S_bc) [P, 1, H, W] and images x_b [P, K, H, W]. */
interface PresentPairs {
  /** Flat indices b * C + c of the present pairs, in order. */
  rows: number[];
  masks: Tensor;
  images: Tensor;
}

function presentPairs(
  seg: Tensor,
  x: Tensor,
  targets: ArrayLike<number>,
  api: string,
): PresentPairs | undefined {
  if (seg.rank !== 4)
    throw new Error(`${api}: expected mask logits [B, C, H, W], got [${seg.shape}]`);
  const [b, c, h, w] = seg.shape;
  if (x.rank !== 4 || x.shape[0] !== b || x.shape[2] !== h || x.shape[3] !== w) {
    throw new Error(
      `${api}: image [${x.shape}] does not match mask logits [${seg.shape}] (need [B, K, H, W])`,
    );
  }
  if (targets.length !== b * c) {
    throw new Error(
      `${api}: ${targets.length} targets for mask logits [${seg.shape}] (need B x C = ${b * c})`,
    );
  }
  const rows: number[] = [];
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] !== 0 && targets[i] !== 1) {
      throw new Error(`${api}: targets must be 0 or 1, got ${targets[i]} at ${i}`);
    }
    if (targets[i] === 1) rows.push(i);
  }
  if (rows.length === 0) return undefined;
  const k = x.shape[1];
  const masks = reshape(gather(reshape(sigmoid(seg), [b * c, h * w]), rows, 0), [
    rows.length,
    1,
    h,
    w,
  ]);
  const images = reshape(
    gather(
      reshape(x, [b, k * h * w]),
      rows.map((r) => Math.floor(r / c)),
      0,
    ),
    [rows.length, k, h, w],
  );
  return { rows, masks, images };
}

/**
 * Mean BCE-with-logits of the classifier on one input per present pair (`shown`) against one
 * target row per pair (`wanted`); 0 (still tied to S for the gradient) when no class is present.
 */
function pairLoss(
  api: string,
  classifier: (x: Tensor) => Tensor,
  seg: Tensor,
  x: Tensor,
  targets: ArrayLike<number>,
  shown: (pairs: PresentPairs) => Tensor,
  wanted: (rows: readonly number[], c: number) => Tensor,
): Tensor {
  const pairs = presentPairs(seg, x, targets, api);
  if (!pairs) return mul(sum(seg), 0);
  const c = seg.shape[1];
  const input = shown(pairs);
  const logits = classifier(input);
  if (logits.rank !== 2 || logits.shape[1] !== c) {
    throw new Error(
      `${api}: the classifier gave [${logits.shape}], expected [${input.shape[0]}, ${c}]`,
    );
  }
  return bceWithLogits(logits, wanted(pairs.rows, c));
}

/**
 * L_pc for mask logits S [B, C, H, W], images x [B, K, H, W], multi-hot targets [B C] and a
 * classifier f with C outputs. 0 (still tied to S for the gradient) when no class is present.
 */
export function perClassMaskLoss(
  classifier: (x: Tensor) => Tensor,
  seg: Tensor,
  x: Tensor,
  targets: ArrayLike<number>,
): Tensor {
  return pairLoss(
    "perClassMaskLoss",
    classifier,
    seg,
    x,
    targets,
    (p) => mul(p.masks, p.images),
    (rows, c) =>
      oneHot(
        rows.map((r) => r % c),
        c,
      ),
  );
}

/**
 * L_pd for mask logits S [B, C, H, W], images x [B, K, H, W], multi-hot targets [B C] and a
 * classifier f with C outputs: the classifier on the image with class c's mask removed, against
 * the image's other present classes. 0 (still tied to S for the gradient) when no class is present.
 */
export function perClassDeletionLoss(
  classifier: (x: Tensor) => Tensor,
  seg: Tensor,
  x: Tensor,
  targets: ArrayLike<number>,
): Tensor {
  return pairLoss(
    "perClassDeletionLoss",
    classifier,
    seg,
    x,
    targets,
    (p) => mul(sub(1, p.masks), p.images),
    (rows, c) => {
      // Row r = b C + c' keeps image b's targets with c' cleared.
      const kept = new Float32Array(rows.length * c);
      rows.forEach((r, p) => {
        const b = Math.floor(r / c);
        for (let j = 0; j < c; j++) kept[p * c + j] = j === r % c ? 0 : targets[b * c + j];
      });
      return tensor(kept, [rows.length, c]);
    },
  );
}
