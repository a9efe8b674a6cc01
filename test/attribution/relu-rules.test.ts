/**
 * The ReLU rules of the gradient, deconvnet (Zeiler & Fergus, ECCV 2014) and guided backprop
 * (Springenberg et al., ICLR 2015 workshop): Captum's BasicModel_ConvNet_One_Conv oracle, nets
 * without ReLUs, and the sign of the signal each rule sends down.
 */
import { describe, expect, test } from "vitest";
import { deconvnet, gradient, guidedBackprop, layerGradient } from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { Conv2d, Flatten, Linear, ReLU, Sequential, Tanh } from "../../src/models/nn/index.ts";
import {
  CAPTUM_CONVNET_MAPS,
  CAPTUM_CONVNET_SCORE,
  captumConvNet,
  captumConvNetInput,
} from "../helpers/captum-convnet.ts";

describe("ReLU rules: gradient, deconvnet, guided backprop", () => {
  test("Captum 4x4 net, target 0: guided backprop, deconvnet and gradient maps", async () => {
    const { model } = captumConvNet();
    const x = captumConvNetInput();
    const gb = await guidedBackprop(model, x, 0);
    expect(Array.from(gb.map.dataSync())).toEqual(CAPTUM_CONVNET_MAPS.guidedBackprop);
    expect(gb.details.scores).toEqual([CAPTUM_CONVNET_SCORE]);
    const dc = await deconvnet(model, x, 0);
    expect(Array.from(dc.map.dataSync())).toEqual(CAPTUM_CONVNET_MAPS.deconvnet);
    const g = await gradient(model, x, 0);
    expect(Array.from(g.map.dataSync())).toEqual(CAPTUM_CONVNET_MAPS.gradient);
    expect(g.map.shape).toEqual([1, 1, 4, 4]);
  });

  test("without ReLUs, guided backprop = deconvnet = gradient", async () => {
    const net = new Sequential(
      new Conv2d(2, 3, 3, { padding: 1, seed: 4 }),
      new Tanh(),
      new Flatten(),
      new Linear(3 * 5 * 5, 4, { seed: 5 }),
    );
    const model = (x: s.Tensor) => net.call(x);
    const x = s.randomNormal([2, 2, 5, 5], { seed: 6 });
    const g = (await gradient(model, x, [1, 3])).map.dataSync();
    expect(Array.from((await guidedBackprop(model, x, [1, 3])).map.dataSync())).toEqual(
      Array.from(g),
    );
    expect(Array.from((await deconvnet(model, x, [1, 3])).map.dataSync())).toEqual(Array.from(g));
    expect(g.some((v) => v !== 0)).toBe(true);
  });

  test("the signal leaving every ReLU is >= 0 under GB and deconvnet; the input map can be negative", async () => {
    // conv -> ReLU -> conv -> ReLU -> linear, with mixed-sign weights; layer "0" and "2" are the
    // ReLUs' inputs, so d score / d(layer output) is what the ReLU above sends down.
    const net = new Sequential(
      new Conv2d(1, 4, 3, { padding: 1, seed: 1 }),
      new ReLU(),
      new Conv2d(4, 4, 3, { padding: 1, seed: 2 }),
      new ReLU(),
      new Flatten(),
      new Linear(4 * 6 * 6, 3, { seed: 3 }),
    );
    const model = (x: s.Tensor) => net.call(x);
    const x = s.randomNormal([1, 1, 6, 6], { seed: 9 });
    for (const rules of [s.rules.guidedBackprop, s.rules.deconvnet]) {
      let negativeBelow = false;
      for (const layer of ["0", "2"]) {
        const lg = layerGradient(model, x, layer, 2, rules);
        const g = lg.grad.dataSync();
        expect(Math.min(...g)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...g)).toBeGreaterThan(0);
        lg.activation.dispose();
        lg.grad.dispose();
        lg.scores.dispose();
      }
      const map = (
        await (rules === s.rules.deconvnet ? deconvnet : guidedBackprop)(model, x, 2)
      ).map.dataSync();
      negativeBelow = Math.min(...map) < 0;
      expect(negativeBelow).toBe(true);
    }
    // Under the plain gradient the same signal takes both signs.
    const lg = layerGradient(model, x, "2", 2);
    expect(Math.min(...lg.grad.dataSync())).toBeLessThan(0);
  });
});
