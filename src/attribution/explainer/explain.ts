/**
 * Using a trained explainer: one forward pass gives a mask per class, sigmoid(S_c) in [0, 1] at
 * input resolution. The classifier's own logits say which classes are present (logit >= threshold,
 * default 0, i.e. probability 0.5), and the combined target mask is the per-pixel max over those
 * classes, as NN-Explainer forms m from the classes it explains.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { tensor } from "../../ops/creation.ts";
import { sigmoid } from "../../ops/unary.ts";

export type ImageModel = (x: Tensor) => Tensor;

/** What `explainImage` returns for one image: every class's mask and the classifier's verdict. */
export interface Explanation {
  /** Classes of the classifier (= explainer mask channels). */
  classes: number;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
  /** [classes, H, W], sigmoid of the explainer's logits. */
  masks: Float32Array;
  /** The classifier's logits [classes]. */
  logits: Float32Array;
  /** sigmoid(logits): each class's own probability (multi-label). */
  probabilities: Float32Array;
  /** Classes with logit >= threshold, in index order. */
  predicted: number[];
  /** Shape [H, W]: the maximum over the predicted classes' masks (zeros if none is predicted). */
  combined: Float32Array;
}

/** sigmoid(explainer(x)): per-class masks [N, C, H, W]. */
export function classMasks(explainer: ImageModel, x: Tensor): Tensor {
  return sigmoid(explainer(x));
}

/** Per-pixel max over the given classes of masks [C, H, W] (flat), as [H, W]. */
export function combineMasks(
  masks: Float32Array,
  hw: number,
  classes: readonly number[],
): Float32Array {
  const out = new Float32Array(hw);
  for (const c of classes) {
    const plane = masks.subarray(c * hw, (c + 1) * hw);
    for (let p = 0; p < hw; p++) if (plane[p] > out[p]) out[p] = plane[p];
  }
  return out;
}

/** Explains one grey image [H, W] in [0, 1] (H and W divisible by 8). */
export async function explainImage(
  pair: { classifier: ImageModel; explainer: ImageModel },
  image: Float32Array,
  height: number,
  width: number,
  o: { threshold?: number } = {},
): Promise<Explanation> {
  if (image.length !== height * width) {
    throw new Error(
      `explainImage: ${image.length} values are not a ${height} x ${width} grey image`,
    );
  }
  if (height % 8 || width % 8) {
    throw new Error(
      `explainImage: the explainer needs H and W divisible by 8, got ${height} x ${width}`,
    );
  }
  const threshold = o.threshold ?? 0;
  const { m, l } = tidy(() => {
    const x = tensor(image, [1, 1, height, width]);
    return { m: keep(classMasks(pair.explainer, x)), l: keep(pair.classifier(x)) };
  });
  try {
    const masks = Float32Array.from(await m.data());
    const logits = Float32Array.from(await l.data());
    const classes = m.shape[1];
    if (logits.length !== classes) {
      throw new Error(
        `explainImage: the classifier gives ${logits.length} logits but the explainer ${classes} masks`,
      );
    }
    const predicted = [...logits.keys()].filter((c) => logits[c] >= threshold);
    return {
      classes,
      height,
      width,
      masks,
      logits,
      probabilities: logits.map((z) => 1 / (1 + Math.exp(-z))),
      predicted,
      combined: combineMasks(masks, height * width, predicted),
    };
  } finally {
    m.dispose();
    l.dispose();
  }
}
