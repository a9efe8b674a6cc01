/**
 * A per-class term for the NN-Explainer loss, not in Stalder et al. 2022 (whose classification and
 * entropy terms see the present classes only through m = sigmoid(max_{c in y} S_c), so any present
 * channel may cover any present item). For each present class c of image b, the classifier sees
 * the image under that class's mask alone and is scored against the one-hot target e_c:
 *
 *   L_pc = mean over present (b, c) of BCEWithLogits(f(sigmoid(S_bc) x_b), e_c)
 *
 * so S_c must keep its own class and drop every other class, present ones included: a channel
 * that also covers another present item pays for that item's logit.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { bceWithLogits, oneHot } from "../../models/train/losses.ts";
import { mul } from "../../ops/binary.ts";
import { gather } from "../../ops/gather.ts";
import { sum } from "../../ops/reduce.ts";
import { reshape } from "../../ops/reshape.ts";
import { sigmoid } from "../../ops/unary.ts";

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
  if (seg.rank !== 4)
    throw new Error(`perClassMaskLoss: expected mask logits [B, C, H, W], got [${seg.shape}]`);
  const [b, c, h, w] = seg.shape;
  if (x.rank !== 4 || x.shape[0] !== b || x.shape[2] !== h || x.shape[3] !== w) {
    throw new Error(
      `perClassMaskLoss: image [${x.shape}] does not match mask logits [${seg.shape}] (need [B, K, H, W])`,
    );
  }
  if (targets.length !== b * c) {
    throw new Error(
      `perClassMaskLoss: ${targets.length} targets for mask logits [${seg.shape}] (need B x C = ${b * c})`,
    );
  }
  const rows: number[] = [];
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] !== 0 && targets[i] !== 1) {
      throw new Error(`perClassMaskLoss: targets must be 0 or 1, got ${targets[i]} at ${i}`);
    }
    if (targets[i] === 1) rows.push(i);
  }
  if (rows.length === 0) return mul(sum(seg), 0);
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
  const logits = classifier(mul(masks, images));
  if (logits.rank !== 2 || logits.shape[1] !== c) {
    throw new Error(
      `perClassMaskLoss: the classifier gave [${logits.shape}], expected [${rows.length}, ${c}]`,
    );
  }
  return bceWithLogits(
    logits,
    oneHot(
      rows.map((r) => r % c),
      c,
    ),
  );
}
