import { describe, expect, it } from "vitest";
import { valueAndGrad } from "../src/autodiff/grad.ts";
import { activeProfiler, formatProfile, profileOps } from "../src/autodiff/profile.ts";
import { mul } from "../src/ops/binary.ts";
import { tensor } from "../src/ops/creation.ts";
import { sum } from "../src/ops/reduce.ts";
import { exp } from "../src/ops/unary.ts";

const xs = [-1.5, -0.25, 0, 0.5, 2];
const f = (x: ReturnType<typeof tensor>) => sum(mul(exp(x), x));

describe("profileOps", () => {
  it("counts each top-level op and tape node once, ops inside rules under their node", async () => {
    const x = tensor(xs, [5]);
    const { value, profile } = await profileOps(() => {
      const { value, grad } = valueAndGrad(f)(x);
      return { y: value.dataSync()[0], g: Array.from(grad.dataSync()) };
    });
    // d/dx sum(x e^x) = e^x (1 + x); the profiled sweep must still compute it.
    expect(value.y).toBeCloseTo(
      xs.reduce((a, v) => a + v * Math.exp(v), 0),
      5,
    );
    value.g.forEach((g, i) => {
      expect(g).toBeCloseTo(Math.exp(xs[i]) * (1 + xs[i]), 5);
    });
    const counts = Object.fromEntries(profile.rows.map((r) => [`${r.phase} ${r.op}`, r.count]));
    // Forward: exp, mul, sum once each (runOp's time around each as engine time); backward: the
    // three nodes once each. mul's rule runs two muls and x's two cotangents are summed with an
    // add: those count towards the nodes, not as rows of their own.
    expect(counts).toEqual({
      "forward exp": 1,
      "forward mul": 1,
      "forward sum": 1,
      "engine exp": 1,
      "engine mul": 1,
      "engine sum": 1,
      "backward sum": 1,
      "backward mul": 1,
      "backward exp": 1,
    });
    const covered = profile.rows.reduce((a, r) => a + r.ms, 0);
    expect(profile.rows.every((r) => r.ms >= 0)).toBe(true);
    expect(covered).toBeLessThanOrEqual(profile.totalMs + 1e-6);
    expect(formatProfile(profile).split("\n")).toHaveLength(2 + 9 + 1);
    expect(activeProfiler()).toBeNull();
  });

  it("refuses to nest and stops collecting when the function throws", async () => {
    await expect(
      profileOps(async () => {
        await profileOps(() => 1);
      }),
    ).rejects.toThrow(/already being collected/);
    await expect(
      profileOps(() => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(activeProfiler()).toBeNull();
  });
});

describe("profileOps byShape", () => {
  it("splits rows by input shapes", async () => {
    const a = tensor([1, 2, 3], [3]);
    const b = tensor([1, 2, 3, 4], [2, 2]);
    const { profile } = await profileOps(
      () => {
        exp(a).dispose();
        exp(a).dispose();
        exp(b).dispose();
      },
      { byShape: true },
    );
    const forward = profile.rows.filter((r) => r.phase === "forward");
    expect(Object.fromEntries(forward.map((r) => [r.op, r.count]))).toEqual({
      "exp [3]": 2,
      "exp [2,2]": 1,
    });
  });
});
