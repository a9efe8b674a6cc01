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

/**
 * A Sequential's input map under a ReLU rule, by hand: plain vjps through the linear layers, and
 * at each ReLU with pre-activation z the rule's signal (guided backprop relu(dy) * [z > 0],
 * deconvnet relu(dy)).
 */
function ruleByHand(
  net: Sequential,
  x: s.Tensor,
  target: number,
  rule: "guided" | "deconv",
): number[] {
  const inputs: s.Tensor[] = [];
  let h = x;
  for (const layer of net.layers) {
    inputs.push(h);
    h = layer.call(h);
  }
  let dy: number[] = Array.from(h.dataSync(), (_, i) => (i === target ? 1 : 0));
  for (let l = net.layers.length - 1; l >= 0; l--) {
    const layer = net.layers[l];
    if (layer instanceof ReLU) {
      const z = inputs[l].dataSync();
      dy = dy.map((d, i) =>
        rule === "guided" ? Math.max(d, 0) * (z[i] > 0 ? 1 : 0) : Math.max(d, 0),
      );
    } else {
      const back = s.vjp(
        (v: s.Tensor) => layer.call(v),
        [inputs[l]],
        s.tensor(dy, layer.call(inputs[l]).shape),
      );
      dy = Array.from(back.grads[0].dataSync());
    }
  }
  return dy;
}

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

  test("the signal leaving every ReLU is >= 0 under GB and deconvnet; the input map can be negative and is the rule by hand", async () => {
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
      const deconv = rules === s.rules.deconvnet;
      const map = (await (deconv ? deconvnet : guidedBackprop)(model, x, 2)).map.dataSync();
      negativeBelow = Math.min(...map) < 0;
      expect(negativeBelow).toBe(true);
      // The whole map is the rule composed by hand over the plain vjps of the linear layers.
      const want = ruleByHand(net, x, 2, deconv ? "deconv" : "guided");
      const scale = Math.max(...want.map(Math.abs));
      want.forEach((v, i) => expect(Math.abs(map[i] - v)).toBeLessThan(1e-5 * scale));
    }
    // Under the plain gradient the same signal takes both signs.
    const lg = layerGradient(model, x, "2", 2);
    expect(Math.min(...lg.grad.dataSync())).toBeLessThan(0);
  });
});
