/**
 * Rule and backend scopes across `await`: every attribution method is async, so a scope must hold
 * for the whole method, concurrent calls must keep their own scopes, and user code that loses a
 * scope after an `await` must fail loudly rather than silently use the outer one.
 *
 * The network: x [1, 2] -> z = W1 x (W1 = [[1, -1], [-1, 3]]) -> h = relu(z) -> y = h1 - h2.
 * At x = (2, 1): z = (1, 1), both units active, dy/dh = (1, -1).
 * - Plain gradient: dz = (1, -1), dx = W1^T dz = (1 + 1, -1 - 3) = (2, -4).
 * - Guided backprop passes only positive gradients through a ReLU: dz = (1, 0), dx = (1, -1).
 * - IG from the zero baseline: z = a (1, 1) > 0 on the whole path, so the integrand is constant:
 *   plain x * (2, -4) = (4, -4); guided x * (1, -1) = (2, -1).
 */
import { describe, expect, it } from "vitest";
import { gradient } from "../src/attribution/methods/gradient.ts";
import { integratedGradients } from "../src/attribution/methods/integrated-gradients.ts";
import { smoothGrad } from "../src/attribution/methods/smooth-grad.ts";
import { withBackend } from "../src/autodiff/backends.ts";
import { engineContext } from "../src/autodiff/context.ts";
import { grad } from "../src/autodiff/grad.ts";
import { withRules } from "../src/autodiff/rule-set.ts";
import type { Tensor } from "../src/autodiff/tensor.ts";
import { CpuBackend } from "../src/kernels/cpu/cpu-backend.ts";
import { tensor } from "../src/ops/creation.ts";
import { matmul } from "../src/ops/matmul.ts";
import { sum } from "../src/ops/reduce.ts";
import { relu } from "../src/ops/unary.ts";
import { guidedBackpropRules } from "../src/rules/relu-rules.ts";

const PLAIN = [2, -4];
const GUIDED = [1, -1];

/** The network above, with its weights made on the current default backend. */
function network() {
  const w1t = tensor([1, -1, -1, 3], [2, 2]); // W1^T (W1 is symmetric here)
  const w2 = tensor([1, -1], [2, 1]);
  const model = (x: Tensor) => matmul(relu(matmul(x, w1t)), w2);
  const x = tensor([2, 1], [1, 2]);
  return { model, x };
}

async function values(t: Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

describe("rule scopes across await", () => {
  it("withRules(guided, () => gradient(...)) is guided backprop, not the plain gradient", async () => {
    const { model, x } = network();
    const guided = await withRules(guidedBackpropRules, () => gradient(model, x, 0));
    const plain = await gradient(model, x, 0);
    expect(await values(guided.map)).toEqual(GUIDED);
    expect(await values(plain.map)).toEqual(PLAIN);
  });

  it("holds through a path method's many awaits (IG under guided rules)", async () => {
    const { model, x } = network();
    const guided = await withRules(guidedBackpropRules, () =>
      integratedGradients(model, x, 0, { steps: 4, batchSize: 1 }),
    );
    const plain = await integratedGradients(model, x, 0, { steps: 4, batchSize: 1 });
    const g = await values(guided.map);
    const p = await values(plain.map);
    [2, -1].forEach((v, i) => expect(g[i]).toBeCloseTo(v, 5));
    [4, -4].forEach((v, i) => expect(p[i]).toBeCloseTo(v, 5));
  });

  it("two interleaved concurrent calls each keep their own rules", async () => {
    const { model, x } = network();
    const [a, b, c] = await Promise.all([
      withRules(guidedBackpropRules, () => gradient(model, x, 0)),
      gradient(model, x, 0),
      withRules(guidedBackpropRules, () =>
        integratedGradients(model, x, 0, { steps: 3, batchSize: 1 }),
      ),
    ]);
    expect(await values(a.map)).toEqual(GUIDED);
    expect(await values(b.map)).toEqual(PLAIN);
    const ig = await values(c.map);
    [2, -1].forEach((v, i) => expect(ig[i]).toBeCloseTo(v, 5));
  });

  it("a wrapper method (SmoothGrad) passes the scope on to the method it calls after awaits", async () => {
    const { model, x } = network();
    const f = (v: Tensor) => sum(model(v));
    // Noise 0: every sample is x itself, so the mean is the wrapped method's map at x.
    const [smooth, bare] = await Promise.all([
      withRules(guidedBackpropRules, () =>
        smoothGrad(gradient, model, x, 0, { samples: 3, noise: 0, batchSize: 1 }),
      ),
      // Unrelated plain work interleaved with it is neither refused nor affected.
      (async () => {
        await Promise.resolve();
        await Promise.resolve();
        return grad(f)(x);
      })(),
    ]);
    expect(await values(smooth.map)).toEqual(GUIDED);
    expect(await values(bare)).toEqual(PLAIN);
  });

  it("takes the rules as an explicit option, with no scope at all", async () => {
    const { model, x } = network();
    const r = await gradient(model, x, 0, { rules: guidedBackpropRules });
    expect(await values(r.map)).toEqual(GUIDED);
  });

  it("user code that awaits before grad inside withRules throws instead of using plain rules", async () => {
    const { model, x } = network();
    const f = (v: Tensor) => sum(model(v));
    await expect(
      withRules(guidedBackpropRules, async () => {
        await Promise.resolve();
        return grad(f)(x);
      }),
    ).rejects.toThrow(/withRules: .*after an `await`.*engineContext\(\)/s);
    // Starting a method after the first await is refused the same way.
    await expect(
      withRules(guidedBackpropRules, async () => {
        await Promise.resolve();
        return gradient(model, x, 0);
      }),
    ).rejects.toThrow(/withRules: .*still pending/s);
    // Once the callback settled, plain engine work is fine again.
    expect(await values(grad(f)(x))).toEqual(PLAIN);
  });

  it("a context captured before the await keeps the rules for the user's own code", async () => {
    const { model, x } = network();
    const f = (v: Tensor) => sum(model(v));
    const g = await withRules(guidedBackpropRules, async () => {
      const ctx = engineContext();
      await Promise.resolve();
      return ctx.run(() => grad(f)(x));
    });
    expect(await values(g)).toEqual(GUIDED);
  });
});

describe("backend scopes across await", () => {
  it("concurrent calls under two backend instances each make their tensors on their own", async () => {
    const b1 = new CpuBackend();
    const b2 = new CpuBackend();
    const n1 = withBackend(b1, network);
    const n2 = withBackend(b2, network);
    // Before the fix the seed made after the first await landed on the default backend, and the
    // backward pass failed with "inputs live on different backends".
    const [r1, r2, r3] = await Promise.all([
      withBackend(b1, () => gradient(n1.model, n1.x, 0)),
      withBackend(b2, () => gradient(n2.model, n2.x, 0)),
      gradient(n2.model, n2.x, 0, { backend: b2 }),
    ]);
    expect(r1.map.backend).toBe(b1);
    expect(r2.map.backend).toBe(b2);
    expect(r3.map.backend).toBe(b2);
    expect(await values(r1.map)).toEqual(PLAIN);
    expect(await values(r2.map)).toEqual(PLAIN);
    expect(await values(r3.map)).toEqual(PLAIN);
  });

  it("making a tensor after an await inside withBackend throws instead of using the outer backend", async () => {
    const b1 = new CpuBackend();
    await expect(
      withBackend(b1, async () => {
        await Promise.resolve();
        return tensor([1, 2]);
      }),
    ).rejects.toThrow(/withBackend: .*default backend.*after an `await`/s);
    const ok = await withBackend(b1, async () => {
      const ctx = engineContext();
      await Promise.resolve();
      return ctx.run(() => tensor([1, 2]));
    });
    expect(ok.backend).toBe(b1);
    ok.dispose();
  });
});
