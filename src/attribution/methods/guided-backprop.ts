/**
 * Guided backpropagation (Springenberg et al.) and deconvnet (Zeiler & Fergus): the input gradient
 * with the engine's ReLU rule sets active for the whole forward and backward pass, so every ReLU
 * (module, functional or fused into a conv) follows the rule without patching the model.
 */
import type { EngineOptions } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { deconvnetRules, guidedBackpropRules } from "../../rules/relu-rules.ts";
import type { Attribution, Model, Target } from "../types.ts";
import { type GradientDetails, ruledGradient } from "./gradient.ts";

/**
 * Guided backpropagation: the input gradient of the target score with every ReLU passing only
 * positive gradients where its input was positive; the input's shape.
 */
export function guidedBackprop(
  model: Model,
  x: Tensor,
  target: Target,
  o: EngineOptions = {},
): Promise<Attribution<GradientDetails>> {
  return ruledGradient(model, x, target, "guidedBackprop", guidedBackpropRules, undefined, o);
}

/**
 * Deconvnet: the input gradient of the target score with every ReLU applied to the backward signal
 * instead of gated by the forward input; the input's shape.
 */
export function deconvnet(
  model: Model,
  x: Tensor,
  target: Target,
  o: EngineOptions = {},
): Promise<Attribution<GradientDetails>> {
  return ruledGradient(model, x, target, "deconvnet", deconvnetRules, undefined, o);
}
