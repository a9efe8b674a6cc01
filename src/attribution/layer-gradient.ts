/**
 * A named layer's activation A and d score / d A, without hooks: a scoped tap (models/nn/taps)
 * first records A, then a second pass replaces the layer's output with A itself, watched as the
 * differentiation source, so the tape records exactly the part of the model above the layer.
 */
import { valueAndGrads } from "../autodiff/grad.ts";
import { type RuleSet, withRules } from "../autodiff/rule-set.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { keep, tidy } from "../autodiff/tidy.ts";
import { withTaps } from "../models/nn/taps.ts";
import { ones } from "../ops/creation.ts";
import { targetScores } from "./target.ts";
import type { Model, Target } from "./types.ts";

/** A layer's activation, the target scores' gradient with respect to it, and the scores. */
export interface LayerGradient {
  /** The layer output A (the caller owns it). */
  activation: Tensor;
  /** d (per-row target score) / d A, A's shape (the caller owns it). */
  grad: Tensor;
  /** Target scores [N] (the caller owns it). */
  scores: Tensor;
}

/**
 * Runs the model on x and records what the layer named `layer` output (null when the forward pass
 * never reached it; the last output when it ran more than once) and how many times it ran. Call it
 * inside tidy and keep what you return.
 */
export function recordLayer(
  model: Model,
  x: Tensor,
  layer: string,
): { output: Tensor | null; calls: number } {
  let calls = 0;
  let output: Tensor | null = null;
  withTaps(
    {
      [layer]: (out) => {
        calls++;
        output = out;
        return out;
      },
    },
    () => model(x),
  );
  return { output, calls };
}

/**
 * The output A of the layer named `layer` (a module's dotted path, an ONNX tensor or node name, a
 * tfjs layer name) and d(target score) / dA, without hooks (the CAM
 * methods build on it).
 */
export function layerGradient(
  model: Model,
  x: Tensor,
  layer: string,
  target: Target,
  rules?: RuleSet,
): LayerGradient {
  let calls = 0;
  const activation = tidy(() => {
    const tapped = recordLayer(model, x, layer);
    calls = tapped.calls;
    const captured = tapped.output;
    if (!captured) {
      throw new Error(
        `layer "${layer}" was never reached in the forward pass; give the dotted path of a module the model calls (e.g. "features.4"), the name of a tensor or node of an ONNX graph (e.g. "/relu2/Relu_output_0"), or a tfjs layer name (listLayers lists them)`,
      );
    }
    return keep(captured);
  });
  if (calls > 1) {
    activation.dispose();
    throw new Error(
      `layer "${layer}" ran ${calls} times in one forward pass; a layer method needs a layer used once`,
    );
  }
  try {
    const run = () =>
      tidy(() => {
        const rows = x.shape[0];
        const { value, grads } = valueAndGrads((a: Tensor) =>
          withTaps({ [layer]: () => a }, () => targetScores(model(x), target)),
        )([activation], ones([rows]));
        return { activation, grad: keep(grads[0]), scores: keep(value) };
      });
    return rules ? withRules(rules, run) : run();
  } catch (e) {
    activation.dispose();
    throw e;
  }
}
