/**
 * The rule-equivalence claims of docs/rule-equivalences.md, each on a small network built to meet
 * its conditions, with a tolerance; where a claim needs an independent oracle (excitation
 * backprop) it is written out here in float64.
 */
import { describe, expect, test } from "vitest";
import {
  deconvnet,
  deepLift,
  gradCam,
  gradient,
  guidedBackprop,
  hiResCam,
  inputXGradient,
  integratedGradients,
  lrp,
} from "../../src/attribution/index.ts";
import { pearson } from "../../src/attribution/metrics/rank-correlation.ts";
import type { Model } from "../../src/attribution/types.ts";
import * as s from "../../src/index.ts";
import {
  AdaptiveAvgPool2d,
  Conv2d,
  Flatten,
  Linear,
  ReLU,
  Sequential,
} from "../../src/models/nn/index.ts";
import { seeded } from "./lrp-reference.ts";

const maps = async (p: Promise<{ map: s.Tensor }>) => Float64Array.from(await (await p).map.data());
function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 1e-30;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(a[i]), Math.abs(b[i]));
  }
  return d / m;
}

function convNet(o: { bias: boolean; act: (t: s.Tensor) => s.Tensor; seed: number }) {
  const r = seeded(o.seed);
  const t = (shape: number[], lo = -1, hi = 1) =>
    s.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r(lo, hi)),
      shape,
    );
  const w1 = t([3, 1, 3, 3]);
  const w2 = t([3, 3, 3, 3], -0.5, 0.5);
  const w3 = t([4, 3 * 6 * 6], -0.3, 0.3);
  const b = (n: number) => (o.bias ? t([n], -0.3, 0.3) : undefined);
  const [b1, b2, b3] = [b(3), b(3), b(4)];
  const model: Model = (x) => {
    const h = o.act(
      s.conv2d(o.act(s.conv2d(x, w1, { bias: b1, padding: 1 })), w2, { bias: b2, padding: 1 }),
    );
    return s.linear(s.reshape(h, [x.shape[0], 3 * 6 * 6]), w3, b3);
  };
  return { model, x: t([1, 1, 6, 6]), xPos: t([1, 1, 6, 6], 0, 1) };
}

describe("gradient, deconvnet and guided backprop differ only at ReLUs", () => {
  test("identical on a network without rectifiers; different with them", async () => {
    const tanhNet = convNet({ bias: true, act: s.tanh, seed: 1 });
    const g = await maps(gradient(tanhNet.model, tanhNet.x, 0));
    expect(rel(await maps(guidedBackprop(tanhNet.model, tanhNet.x, 0)), g)).toBeLessThan(1e-6);
    expect(rel(await maps(deconvnet(tanhNet.model, tanhNet.x, 0)), g)).toBeLessThan(1e-6);
    const reluNet = convNet({ bias: true, act: s.relu, seed: 1 });
    const gr = await maps(gradient(reluNet.model, reluNet.x, 0));
    expect(rel(await maps(guidedBackprop(reluNet.model, reluNet.x, 0)), gr)).toBeGreaterThan(0.05);
  });
});

describe("gradient x input = LRP-0 = lim LRP-epsilon on ReLU networks", () => {
  for (const bias of [false, true]) {
    test(`${bias ? "with" : "without"} biases`, async () => {
      const net = convNet({ bias, act: s.relu, seed: 2 });
      const gxi = await maps(inputXGradient(net.model, net.x, 1));
      expect(rel(await maps(lrp(net.model, net.x, 1, { epsilon: 0 })), gxi)).toBeLessThan(1e-5);
      const gaps: number[] = [];
      for (const eps of [1e-1, 1e-2, 1e-3])
        gaps.push(rel(await maps(lrp(net.model, net.x, 1, { epsilon: eps })), gxi));
      expect(gaps[0]).toBeGreaterThan(gaps[1] as number);
      expect(gaps[1]).toBeGreaterThan(gaps[2] as number);
      const r = await lrp(net.model, net.x, 1, { epsilon: 0 });
      const relGap = Math.abs(r.details.delta[0] ?? 0) / Math.abs(r.details.scores[0] ?? 1);
      if (bias)
        expect(relGap).toBeGreaterThan(1e-3); // biases absorb relevance
      else expect(relGap).toBeLessThan(1e-5);
    });
  }
});

describe("DeepLIFT and IG with a zero baseline = gradient x input on bias-free ReLU networks", () => {
  test("equal without biases, different with them", async () => {
    for (const bias of [false, true]) {
      const net = convNet({ bias, act: s.relu, seed: 3 });
      const gxi = await maps(inputXGradient(net.model, net.x, 2));
      const dl = rel(await maps(deepLift(net.model, net.x, 2)), gxi);
      const ig = rel(await maps(integratedGradients(net.model, net.x, 2, { steps: 16 })), gxi);
      if (bias) {
        expect(dl).toBeGreaterThan(1e-2);
        expect(ig).toBeGreaterThan(1e-2);
      } else {
        expect(dl).toBeLessThan(1e-5);
        expect(ig).toBeLessThan(1e-5);
      }
    }
  });
});

describe("LRP z+ = excitation backprop; alpha1-beta0 = z+ on non-negative inputs", () => {
  const r = seeded(4);
  const mat = (o: number, i: number) =>
    Array.from({ length: o }, () => Array.from({ length: i }, () => r()));
  const Ws = [mat(7, 5), mat(6, 7), mat(3, 6)];
  const model: Model = (v) => {
    let h = v;
    Ws.forEach((W, l) => {
      h = s.linear(h, s.tensor(W));
      if (l < Ws.length - 1) h = s.relu(h);
    });
    return h;
  };
  const x = Array.from({ length: 5 }, () => r(0, 1));

  /** Marginal winning probabilities (Zhang et al. 2016), scaled by the score, in float64. */
  function excitation(target: number): number[] {
    const acts: number[][] = [x];
    let a = x;
    Ws.forEach((W, l) => {
      a = W.map((row) => {
        const z = row.reduce((t, w, j) => t + w * (a[j] as number), 0);
        return l < Ws.length - 1 ? Math.max(0, z) : z;
      });
      acts.push(a);
    });
    let P = a.map((v, k) => (k === target ? v : 0));
    for (let l = Ws.length - 1; l >= 0; l--) {
      const inp = acts[l] as number[];
      const next = inp.map(() => 0);
      (Ws[l] as number[][]).forEach((row, k) => {
        const z = row.reduce((t, w, j) => t + (inp[j] as number) * Math.max(w, 0), 0);
        if (z > 0)
          row.forEach((w, j) => {
            next[j] =
              (next[j] as number) + ((inp[j] as number) * Math.max(w, 0) * (P[k] as number)) / z;
          });
      });
      P = next;
    }
    return P;
  }

  test("z+ matches excitation backprop; alpha1-beta0 matches z+", async () => {
    for (const target of [0, 2]) {
      const zp = await lrp(model, s.tensor([x]), target, { rule: "zplus", epsilon: 0 });
      expect(rel(await zp.map.data(), excitation(target))).toBeLessThan(1e-5);
      const score = model(s.tensor([x])).dataSync()[target] ?? 0;
      const seed = s.tensor([[0, 1, 2].map((k) => (k === target ? score : 0))]);
      const ab = s.withRules(s.lrpAlphaBetaRules(1, 0, 0), () =>
        s.vjp(model, [s.tensor([x])], seed),
      );
      expect(rel(ab.grads[0]?.dataSync() ?? [], await zp.map.data())).toBeLessThan(1e-6);
    }
  });
});

describe("Grad-CAM = HiResCAM when global average pooling follows the layer", () => {
  test("equal at the layer before the pooling, different one conv earlier", async () => {
    const net = new Sequential(
      new Conv2d(1, 3, 3, { padding: 1, seed: 1 }),
      new ReLU(),
      new Conv2d(3, 4, 3, { padding: 1, seed: 2 }),
      new ReLU(),
      new AdaptiveAvgPool2d(1),
      new Flatten(),
      new Linear(4, 3, { seed: 3 }),
    );
    const model: Model = (v) => net.call(v);
    const x = convNet({ bias: false, act: s.relu, seed: 5 }).x;
    const pair = async (layer: string) => {
      const o = { layer, relu: false, upsample: "nearest" as const };
      const a = await gradCam(model, x, 1, o);
      const b = await hiResCam(model, x, 1, o);
      return rel(a.details.layerMap, b.details.layerMap);
    };
    expect(await pair("3")).toBeLessThan(1e-5);
    expect(await pair("1")).toBeGreaterThan(1e-2);
  });
});

describe("guided backprop is less class-sensitive than the gradient", () => {
  test("maps for different targets correlate more under guided backprop (random deep ReLU net)", async () => {
    const r = seeded(6);
    const layers = [1, 8, 8, 8, 8].slice(0, -1).map((c, i) => {
      const o = [8, 8, 8, 8][i] as number;
      return s.tensor(
        Float32Array.from({ length: o * c * 9 }, () => r() * Math.sqrt(6 / (c * 9))),
        [o, c, 3, 3],
      );
    });
    const head = s.tensor(
      Float32Array.from({ length: 6 * 8 * 36 }, () => r() * 0.1),
      [6, 8 * 36],
    );
    const model: Model = (v) => {
      let h = v;
      for (const w of layers) h = s.relu(s.conv2d(h, w, { padding: 1 }));
      return s.linear(s.reshape(h, [v.shape[0], 8 * 36]), head);
    };
    const x = s.tensor(
      Float32Array.from({ length: 36 }, () => r(0, 1)),
      [1, 1, 6, 6],
    );
    const corr = async (m: typeof gradient) => {
      const ms: Float64Array[] = [];
      for (let c = 0; c < 6; c++) ms.push(await maps(m(model, x, c)));
      let t = 0;
      let n = 0;
      for (let i = 0; i < 6; i++)
        for (let j = i + 1; j < 6; j++) {
          t += pearson(ms[i] as Float64Array, ms[j] as Float64Array);
          n++;
        }
      return t / n;
    };
    const gb = await corr(guidedBackprop);
    const g = await corr(gradient);
    expect(gb).toBeGreaterThan(g + 0.2);
  });
});
