/**
 * Metrics run the model (or the explainer) after awaits, so they must carry the caller's backend
 * and rule scope the way the methods do. Each case runs on a second CPU backend instance whose
 * tensors cannot mix with the default backend's: losing the scope would make tensors on the
 * wrong backend and fail, or run the explainer without the caller's rules.
 *
 * The model is linear, f(x) = w . x with w = (1, 2) over a 1 x 2 image, so scores are closed forms.
 */
import { describe, expect, it } from "vitest";
import { gradient } from "../../src/attribution/methods/gradient.ts";
import { deletionAuc } from "../../src/attribution/metrics/deletion.ts";
import { infidelity } from "../../src/attribution/metrics/infidelity.ts";
import { maxSensitivity } from "../../src/attribution/metrics/sensitivity.ts";
import { withBackend } from "../../src/autodiff/backends.ts";
import { engineContext } from "../../src/autodiff/context.ts";
import { withRules } from "../../src/autodiff/rule-set.ts";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { CpuBackend } from "../../src/kernels/cpu/cpu-backend.ts";
import { tensor } from "../../src/ops/creation.ts";
import { matmul } from "../../src/ops/matmul.ts";
import { reshape } from "../../src/ops/reshape.ts";
import { guidedBackpropRules } from "../../src/rules/relu-rules.ts";

function linearModel() {
  const w = tensor([1, 2], [2, 1]);
  return (x: Tensor) => matmul(reshape(x, [x.shape[0], 2]), w);
}

describe("metrics keep the caller's scope across await", () => {
  it("deletion AUC under withBackend runs on that backend (closed form 2.25)", async () => {
    const b = new CpuBackend();
    const { model, x, map } = withBackend(b, () => ({
      model: linearModel(),
      x: tensor([3, 1], [1, 1, 1, 2]),
      map: tensor([2, 1], [1, 1, 1, 2]),
    }));
    // Deleting pixel 0 (3 * 1) then pixel 1 (1 * 2): scores 5, 2, 0; AUC = (7 - 2.5) / 2.
    const r = await withBackend(b, () => deletionAuc(model, x, 0, map, { pixelsPerStep: 1 }));
    expect(r.curves[0].map((v) => Math.round(v * 1e6) / 1e6)).toEqual([5, 2, 0]);
    expect(r.auc[0]).toBeCloseTo(2.25, 6);
  });

  it("infidelity under withBackend: a fixed perturbation gives (I . phi - I . w)^2", async () => {
    const b = new CpuBackend();
    const { model, x, map } = withBackend(b, () => ({
      model: linearModel(),
      x: tensor([3, 1], [1, 1, 1, 2]),
      map: tensor([2, 4], [1, 1, 1, 2]), // 2w: I . phi = 2, f(x) - f(x - I) = 1
    }));
    const perturb = () => tensor([1, 0], [1, 1, 1, 2]);
    const r = await withBackend(b, () => infidelity(model, x, 0, map, { perturb, samples: 3 }));
    expect(r[0]).toBeCloseTo(1, 6);
  });

  it("max-sensitivity calls the explainer inside the caller's rule scope every time", async () => {
    const model = linearModel();
    const x = tensor([3, 1], [1, 1, 1, 2]);
    const seen: boolean[] = [];
    const explain = async (v: Tensor) => {
      seen.push(engineContext().rules.includes(guidedBackpropRules));
      return (await gradient(model, v, 0)).map;
    };
    const r = await withRules(guidedBackpropRules, () =>
      maxSensitivity(explain, x, { samples: 3, seed: 1 }),
    );
    expect(seen).toEqual([true, true, true, true]);
    // A linear model's gradient does not move: the sensitivity is exactly 0.
    expect(r[0]).toBeCloseTo(0, 6);
  });
});
