/**
 * Guided Grad-CAM (Selvaraju et al.; Captum `GuidedGradCam`): guided backprop times the ReLU'd
 * Grad-CAM map upsampled to the input (bilinear by default as in the paper; Captum: nearest).
 */
import { engineContext } from "../../autodiff/context.ts";
import type { Tensor } from "../../autodiff/tensor.ts";
import { keep, tidy } from "../../autodiff/tidy.ts";
import { mul } from "../../ops/binary.ts";
import type { Attribution, Model, Target } from "../types.ts";
import { type CamDetails, type CamOptions, gradCam } from "./grad-cam.ts";
import { guidedBackprop } from "./guided-backprop.ts";

/**
 * Guided Grad-CAM: guided backprop [N, C, H, W] times the ReLU'd Grad-CAM map at `o.layer`,
 * upsampled to the input and broadcast over channels.
 */
export async function guidedGradCam(
  model: Model,
  x: Tensor,
  target: Target,
  o: Omit<CamOptions, "relu">,
): Promise<Attribution<CamDetails>> {
  // Both passes run in the context of the call (the second one starts after an await).
  const ctx = engineContext(o);
  const cam = await ctx.run(() => gradCam(model, x, target, { ...o, relu: true }));
  try {
    const gb = await ctx.run(() => guidedBackprop(model, x, target));
    const map = tidy(() => keep(mul(gb.map, cam.map)));
    gb.map.dispose();
    return { map, details: cam.details };
  } finally {
    cam.map.dispose();
  }
}
