/**
 * The Quantus-style metrics run the model or the explainer after awaits, so they must carry the
 * caller's backend and rule scope: each case runs on a second CPU backend (whose tensors cannot
 * mix with the default one's) or checks that the explainer sees the caller's rules every time.
 * The model has two classes, x . (1, 3) and x . (2, -1), on a 1 x 2 image, so scores are closed forms.
 */
import { describe, expect, it } from "vitest";
import { gradient } from "../../src/attribution/methods/gradient.ts";
import {
  avgSensitivity,
  completeness,
  continuity,
  efficientMprt,
  inputInvariance,
  localLipschitzEstimate,
  pixelFlipping,
  randomLogit,
  smoothMprt,
} from "../../src/attribution/metrics/index.ts";
import { withBackend } from "../../src/autodiff/backends.ts";
import { engineContext } from "../../src/autodiff/context.ts";
import { withRules } from "../../src/autodiff/rule-set.ts";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { CpuBackend } from "../../src/kernels/cpu/cpu-backend.ts";
import { Flatten, Linear, Sequential } from "../../src/models/nn/index.ts";
import { tensor } from "../../src/ops/creation.ts";
import { matmul } from "../../src/ops/matmul.ts";
import { reshape } from "../../src/ops/reshape.ts";
import { guidedBackpropRules } from "../../src/rules/relu-rules.ts";

function linearModel() {
  const w = tensor([1, 2, 3, -1], [2, 2]);
  return (x: Tensor) => matmul(reshape(x, [x.shape[0], 2]), w);
}

describe("Quantus metrics keep the caller's backend across await", () => {
  it("pixel flipping: f = 6 loses pixel 0 (3) then pixel 1 (3): 3, then 0; w * x is complete", async () => {
    const b = new CpuBackend();
    const { model, x, map } = withBackend(b, () => ({
      model: linearModel(),
      x: tensor([3, 1], [1, 1, 1, 2]),
      map: tensor([3, 3], [1, 1, 1, 2]),
    }));
    const [r] = await withBackend(b, () => pixelFlipping(model, x, 0, map, { baseline: 0 }));
    expect(r.curve.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([3, 0]);
    const c = await withBackend(b, () => completeness(model, x, 0, map, { baseline: 0 }));
    expect(c.passed).toEqual([true]);
  });
});

describe("Quantus metrics call the explainer inside the caller's rule scope", () => {
  const model = linearModel();
  const x = tensor([3, 1], [1, 1, 1, 2]);
  const watched = () => {
    const seen: boolean[] = [];
    const explain = async (v: Tensor, m = model, target = 0) => {
      seen.push(engineContext().rules.includes(guidedBackpropRules));
      return (await gradient(m, v, target)).map;
    };
    return { seen, explain };
  };
  const scoped = <T>(fn: () => Promise<T>) => withRules(guidedBackpropRules, fn);

  it("robustness: average sensitivity, local Lipschitz, continuity (gradient of a linear model: 0)", async () => {
    const w = watched();
    expect(await scoped(() => avgSensitivity(w.explain, x, { samples: 2 }))).toEqual([0]);
    expect(await scoped(() => localLipschitzEstimate(w.explain, x, { samples: 2 }))).toEqual([0]);
    await scoped(() => continuity(model, w.explain, x, 0, { steps: 2, patchSize: 1 }));
    expect(w.seen).toEqual(new Array(3 + 3 + 2).fill(true));
  });

  it("randomisation and axiomatic: smooth and efficient MPRT, random logit, input invariance", async () => {
    const net = new Sequential(new Flatten(), new Linear(2, 2));
    const w = watched();
    const viaNet = (v: Tensor) => w.explain(v, (t) => net.call(t));
    await scoped(() => smoothMprt(net, viaNet, x, { samples: 2 }));
    await scoped(() => efficientMprt(net, viaNet, x));
    await scoped(() =>
      randomLogit((v, cs) => w.explain(v, model, cs[0]), x, 0, { classes: 2, win: 1 }),
    );
    const inv = await scoped(() => inputInvariance(model, (m, v) => w.explain(v, m), x));
    expect(inv.passed).toEqual([true]);
    // smooth MPRT: 2 samples for the original and after each of 1 layer; efficient: 2; logit: 2; invariance: 2.
    expect(w.seen).toEqual(new Array(4 + 2 + 2 + 2).fill(true));
  });
});
