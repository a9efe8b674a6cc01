/** Classification losses. */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul, sub } from "../../ops/binary.ts";
import { tensor } from "../../ops/creation.ts";
import { mean, sum } from "../../ops/reduce.ts";
import { logSoftmax } from "../../ops/softmax.ts";
import { abs, exp, log1p, neg, relu, square } from "../../ops/unary.ts";

/** One-hot rows [N, classes] for integer labels. */
export function oneHot(labels: ArrayLike<number>, classes: number): Tensor {
  const v = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new Error(`oneHot: label ${c} at position ${i} is not in [0, ${classes})`);
    }
    v[i * classes + c] = 1;
  }
  return tensor(v, [labels.length, classes]);
}

/** Mean softmax cross-entropy of logits [N, C] against integer labels. */
export function crossEntropy(logits: Tensor, labels: ArrayLike<number>): Tensor {
  if (logits.rank !== 2 || logits.shape[0] !== labels.length) {
    throw new Error(`crossEntropy: logits [${logits.shape}] do not match ${labels.length} labels`);
  }
  const picked = sum(mul(logSoftmax(logits, 1), oneHot(labels, logits.shape[1])), 1);
  return neg(mean(picked));
}

/** Mean binary cross-entropy with logits (PyTorch BCEWithLogitsLoss), stable for large |z|. */
export function bceWithLogits(logits: Tensor, targets: Tensor): Tensor {
  // max(z, 0) - z * t + log(1 + exp(-|z|))
  return mean(add(sub(relu(logits), mul(logits, targets)), log1p(exp(neg(abs(logits))))));
}

/** Mean squared error (regression, e.g. super-resolution). */
export function mse(prediction: Tensor, target: Tensor): Tensor {
  return mean(square(sub(prediction, target)));
}

/** Mean absolute error (the L1 loss EDSR-family SR networks train with). */
export function l1(prediction: Tensor, target: Tensor): Tensor {
  return mean(abs(sub(prediction, target)));
}
