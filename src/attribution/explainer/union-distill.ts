/**
 * Union distillation, a term for the NN-Explainer loss that is not in Stalder et al. 2022. The
 * per-class terms (per-class-loss.ts) decide which class owns each pixel, and on their own they
 * shrink each class's mask to the part of its item the classifier needs, so the union of the
 * present classes' masks loses coverage. This term keeps that union close to a teacher's union
 * (the target masks m0, e.g. a frozen copy of the explainer before fine-tuning):
 *
 *   L_u = mean over (b, i, j) of BCE(m_bij, m0_bij),  m = sigmoid(max_{c in y_b} S_bc)
 *
 * computed from the logits (BCEWithLogits of the max logit; sigmoid is monotone, so
 * sigmoid(max S) = max sigmoid(S)). With soft targets its least value is the mean entropy of m0,
 * reached at m = m0; its gradient with respect to the max logit is (m - m0) / (B H W).
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { bceWithLogits } from "../../models/train/losses.ts";
import { add } from "../../ops/binary.ts";
import { tensor } from "../../ops/creation.ts";
import { max } from "../../ops/reduce.ts";

/** What absent classes are shifted by so the per-pixel max never picks them. */
const EXCLUDED = 1e9;

/**
 * L_u for mask logits S [B, C, H, W], multi-hot targets [B C] (every image needs a present class)
 * and the teacher's union masks m0 [B, H, W] with values in [0, 1].
 */
export function unionDistillLoss(seg: Tensor, targets: ArrayLike<number>, teacher: Tensor): Tensor {
  const api = "unionDistillLoss";
  if (seg.rank !== 4)
    throw new Error(`${api}: expected mask logits [B, C, H, W], got [${seg.shape}]`);
  const [b, c, h, w] = seg.shape;
  if (
    teacher.rank !== 3 ||
    teacher.shape[0] !== b ||
    teacher.shape[1] !== h ||
    teacher.shape[2] !== w
  ) {
    throw new Error(
      `${api}: teacher masks [${teacher.shape}] do not match mask logits [${seg.shape}] (need [B, H, W] = [${b}, ${h}, ${w}])`,
    );
  }
  if (targets.length !== b * c) {
    throw new Error(
      `${api}: ${targets.length} targets for mask logits [${seg.shape}] (need B x C = ${b * c})`,
    );
  }
  const shift = new Float32Array(b * c);
  for (let i = 0; i < b; i++) {
    let present = 0;
    for (let j = 0; j < c; j++) {
      const t = targets[i * c + j];
      if (t !== 0 && t !== 1) {
        throw new Error(`${api}: targets must be 0 or 1, got ${t} at ${i * c + j}`);
      }
      present += t;
      shift[i * c + j] = t ? 0 : -EXCLUDED;
    }
    if (!present) throw new Error(`${api}: example ${i} has no present class (the union is empty)`);
  }
  const m0 = teacher.dataSync();
  for (let i = 0; i < m0.length; i++) {
    if (!(m0[i] >= 0 && m0[i] <= 1)) {
      throw new Error(`${api}: teacher masks must lie in [0, 1], got ${m0[i]} at ${i}`);
    }
  }
  const unionLogits = max(add(seg, tensor(shift, [b, c, 1, 1])), 1);
  return bceWithLogits(unionLogits, teacher);
}
