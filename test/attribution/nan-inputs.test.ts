/**
 * Non-finite values are refused with an error naming what held them, instead of flowing into a
 * NaN map: inputs and baselines (with the first bad index), and model outputs for the target
 * (the common target-evaluation step, so every method that evaluates the model gets it).
 */
import { describe, expect, it } from "vitest";
import { gradCam } from "../../src/attribution/methods/grad-cam.ts";
import { gradient, saliency } from "../../src/attribution/methods/gradient.ts";
import { guidedBackprop } from "../../src/attribution/methods/guided-backprop.ts";
import { integratedGradients } from "../../src/attribution/methods/integrated-gradients.ts";
import { occlusion } from "../../src/attribution/methods/occlusion.ts";
import { customGrad } from "../../src/autodiff/custom-grad.ts";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { memory } from "../../src/autodiff/tidy.ts";
import { Conv2d, Lambda, Sequential } from "../../src/models/nn/index.ts";
import { div, mul, sub } from "../../src/ops/binary.ts";
import { tensor } from "../../src/ops/creation.ts";
import { reshape } from "../../src/ops/reshape.ts";
import { log, square } from "../../src/ops/unary.ts";

/** Output (x - x) / (x - x) = 0/0: NaN for every input. */
const nanModel = (x: Tensor) => reshape(div(sub(x, x), sub(x, x)), [x.shape[0], -1]);
/** A well-behaved model: 2 * x, flattened. */
const linear = (x: Tensor) => reshape(mul(x, 2), [x.shape[0], -1]);

describe("non-finite inputs and baselines", () => {
  it("IG refuses a tensor baseline containing NaN, naming the baseline and its first NaN index", async () => {
    const x = tensor([1, 2, 3, 4], [1, 4]);
    const baseline = tensor([0, 0, Number.NaN, Number.NaN], [1, 4]);
    const before = memory().tensors;
    await expect(integratedGradients(linear, x, 0, { baseline })).rejects.toThrow(
      "integratedGradients: the baseline contains NaN at flat index 2 of [1,4]",
    );
    expect(memory().tensors).toBe(before);
  });

  it("IG refuses an infinite baseline from a baseline function", async () => {
    const x = tensor([1, 2, 3, 4], [1, 4]);
    await expect(
      integratedGradients(linear, x, 0, {
        baseline: (v) => div(sub(v, 1), 0), // (v - 1) / 0: NaN at v = 1, +Infinity elsewhere
      }),
    ).rejects.toThrow("integratedGradients: the baseline contains NaN at flat index 0 of [1,4]");
    await expect(integratedGradients(linear, x, 0, { baseline: (v) => div(v, 0) })).rejects.toThrow(
      "integratedGradients: the baseline contains Infinity at flat index 0 of [1,4]",
    );
  });

  it("refuses an input containing NaN or Infinity, naming the first index", async () => {
    const x = tensor([1, Number.POSITIVE_INFINITY, Number.NaN], [1, 3]);
    await expect(gradient(linear, x, 0)).rejects.toThrow(
      "gradient: the input contains Infinity at flat index 1 of [1,3]",
    );
    await expect(integratedGradients(linear, x, 0)).rejects.toThrow(
      "integratedGradients: the input contains Infinity at flat index 1 of [1,3]",
    );
  });
});

describe("a model whose output for the target is NaN", () => {
  const x = tensor([1, 2, 3, 4], [1, 4]);
  const expected = (api: string) =>
    `${api}: the model output for the target is NaN for batch row 0`;

  it("gradient throws instead of returning a NaN map, and frees what it made", async () => {
    const before = memory().tensors;
    await expect(gradient(nanModel, x, 1)).rejects.toThrow(expected("gradient"));
    expect(memory().tensors).toBe(before);
  });

  it("every gradient-based method gets the same check", async () => {
    await expect(saliency(nanModel, x, 1)).rejects.toThrow(expected("saliency"));
    await expect(guidedBackprop(nanModel, x, 1)).rejects.toThrow(expected("guidedBackprop"));
    await expect(integratedGradients(nanModel, x, 1, { steps: 3 })).rejects.toThrow(
      expected("integratedGradients"),
    );
    const img = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    await expect(occlusion(nanModel, img, 0, { window: 1 })).rejects.toThrow(expected("occlusion"));
  });

  it("IG names a NaN output met only inside the path (finite at both ends)", async () => {
    // f(a) = log((a - 0.5)^2 - 0.04): finite at a = 0 and a = 1, NaN for |a - 0.5| < 0.2, where
    // the middle Gauss-Legendre nodes of 4 steps (0.33, 0.67) fall.
    const f = (v: Tensor) => log(sub(square(sub(v, 0.5)), 0.04));
    const one = tensor([1], [1, 1]);
    await expect(integratedGradients(f, one, 0, { steps: 4 })).rejects.toThrow(
      "integratedGradients: the model output for the target is NaN at a point inside the path (finite at both ends)",
    );
  });

  it("IG names a NaN gradient under finite outputs", async () => {
    // The identity with a backward pass that returns NaN: every score is finite, the map is not.
    const nanGrad = customGrad(
      (v: Tensor) => ({ value: mul(v, 1) }),
      (dy) => [mul(dy, Number.NaN)],
    );
    const one = tensor([1], [1, 1]);
    await expect(integratedGradients(nanGrad, one, 0, { steps: 2 })).rejects.toThrow(
      "integratedGradients: the attribution for example 0 is NaN although the scores at both ends are finite",
    );
  });

  it("Grad-CAM reports the NaN score too", async () => {
    // A conv layer "0" (weights 1, bias 0) then 0/0: the layer is reached, the score is NaN.
    const net = new Sequential(new Conv2d(1, 1, 1, { seed: 1 }), new Lambda(nanModel));
    const img = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    await expect(gradCam((v) => net.call(v), img, 0, { layer: "0" })).rejects.toThrow(
      expected("gradcam"),
    );
  });
});
