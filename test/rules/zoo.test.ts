/** The rule sets on zoo models with PReLU / LeakyReLU: no layer is silently skipped. */
import { afterEach, describe, expect, test, vi } from "vitest";
import { deconvnet, gradient, guidedBackprop } from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import type { PReLU } from "../../src/models/nn/activation.ts";
import { Conv2d } from "../../src/models/nn/conv.ts";
import { Fsrcnn } from "../../src/models/zoo/fsrcnn.ts";

type Rule = "guided" | "deconv";

/**
 * The input map of `rule` composed by hand: plain vjps through the convolutions and the final
 * transposed conv (linear), and at each PReLU with slopes a and pre-activation z the rule's signal:
 * guided backprop relu(dy) * (z > 0 ? 1 : a); deconvnet dy > 0 ? dy : a dy.
 */
function ruleByHand(
  net: Fsrcnn,
  x: s.Tensor,
  score: (out: s.Tensor) => s.Tensor,
  rule: Rule,
): Float32Array {
  const layers = [...net.firstPart.layers, ...net.midPart.layers];
  const pairs: { conv: Conv2d; slopes: Float32Array; input: s.Tensor; z: s.Tensor }[] = [];
  let h = x;
  for (let i = 0; i < layers.length; i += 2) {
    const conv = layers[i] as Conv2d;
    const act = layers[i + 1] as PReLU;
    expect(conv).toBeInstanceOf(Conv2d);
    const z = conv.call(h);
    pairs.push({ conv, slopes: Float32Array.from(act.weight.dataSync()), input: h, z });
    h = act.call(z);
  }
  const seed = s.vjp((f: s.Tensor) => score(net.lastPart.call(f)), [h], s.ones([1]));
  let dy = Float32Array.from(seed.grads[0].dataSync());
  for (let p = pairs.length - 1; p >= 0; p--) {
    const { conv, slopes, input, z } = pairs[p];
    const [, c, hh, ww] = z.shape;
    const zv = z.dataSync();
    const dz = new Float32Array(dy.length);
    for (let i = 0; i < dy.length; i++) {
      const a = slopes[Math.floor(i / (hh * ww)) % c];
      dz[i] =
        rule === "guided"
          ? Math.max(dy[i], 0) * (zv[i] > 0 ? 1 : a)
          : dy[i] > 0
            ? dy[i]
            : a * dy[i];
    }
    const back = s.vjp((v: s.Tensor) => conv.call(v), [input], s.tensor(dz, z.shape));
    dy = Float32Array.from(back.grads[0].dataSync());
  }
  return dy;
}

describe("FSRCNN (PReLU after every conv)", () => {
  afterEach(() => vi.restoreAllMocks());

  test("guided backprop and deconvnet at every PReLU equal the rules composed by hand, without warnings", async () => {
    const warn = vi.spyOn(console, "warn");
    const net = new Fsrcnn(2, { d: 6, s: 3, m: 1, seed: 3 });
    // Distinct slopes per channel and layer, so a rule that reads the wrong slope shows.
    let k = 0;
    for (const [name, p] of net.namedParameters())
      if (name.endsWith(".weight") && p.shape.length === 1)
        p.assign(s.tensor(Array.from({ length: p.shape[0] }, () => 0.05 + 0.04 * k++)));
    const model = (v: s.Tensor) => net.call(v);
    const x = s.tensor(
      Float32Array.from({ length: 36 }, (_, i) => ((i * 7) % 11) / 11 - 0.3),
      [1, 1, 6, 6],
    );
    // The score: the sum of one output pixel's neighbourhood.
    const target = (out: s.Tensor) => s.sum(s.slice(out, [0, 0, 4, 4], [1, 1, 3, 3]), [1, 2, 3]);
    const g = await (await gradient(model, x, target)).map.data();
    const gb = await (await guidedBackprop(model, x, target)).map.data();
    const dc = await (await deconvnet(model, x, target)).map.data();
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
    const maxAbs = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));
    for (const [rule, got] of [
      ["guided", gb],
      ["deconv", dc],
    ] as const) {
      const want = ruleByHand(net, x, target, rule);
      expect(maxAbs(want), rule).toBeGreaterThan(1e-4);
      expect(maxDiff(got, want) / maxAbs(want), rule).toBeLessThan(1e-5);
      // ...and the rule really changes the map: it is not the gradient.
      expect(maxDiff(got, g) / maxAbs(want), rule).toBeGreaterThan(1e-3);
    }
    expect(warn).not.toHaveBeenCalled();
  });
});
