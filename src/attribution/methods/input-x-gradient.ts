/** Gradient x input (Shrikumar et al. 2016; Captum `InputXGradient`): x * d score / d x. */
import type { EngineOptions } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { mul } from "../../ops/binary.ts";
import type { Attribution, Model, Target } from "../types.ts";
import { type GradientDetails, ruledGradient } from "./gradient.ts";

/** Gradient x input: x * d score / d x, the input's shape. */
export function inputXGradient(
  model: Model,
  x: Tensor,
  target: Target,
  o: EngineOptions = {},
): Promise<Attribution<GradientDetails>> {
  return ruledGradient(model, x, target, "inputXGradient", undefined, (g) => mul(g, x), o);
}
