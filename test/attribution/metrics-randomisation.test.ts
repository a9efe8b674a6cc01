/** Smooth and efficient MPRT, random logit and SSIM, on maps with closed-form answers. */
import { describe, expect, test } from "vitest";
import {
  discreteEntropy,
  efficientMprt,
  gradient,
  randomLogit,
  smoothMprt,
  ssim,
} from "../../src/attribution/index.ts";
import * as s from "../../src/index.ts";
import { Flatten, Linear, ReLU, Sequential } from "../../src/models/nn/index.ts";
import { linearModel } from "./helpers.ts";

describe("SSIM (skimage defaults)", () => {
  test("identical maps: 1; constant maps p and q: (2pq + C1) / (p^2 + q^2 + C1), C1 = (0.01 |p - q|)^2", () => {
    const a = Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
    expect(ssim(a, a, 8, 8)).toBeCloseTo(1, 12);
    const c1 = (0.01 * 2) ** 2;
    expect(ssim(new Array(49).fill(1), new Array(49).fill(3), 7, 7)).toBeCloseTo(
      (6 + c1) / (10 + c1),
      12,
    );
    expect(() => ssim([1, 2, 3, 4], [1, 2, 3, 4], 2, 2)).toThrow(/window must be odd and fit/);
  });
});

describe("random logit", () => {
  // Two classes with constant weight rows 1 and 3: the gradient maps are those constants.
  const f = linearModel([new Array(49).fill(1), new Array(49).fill(3)], [0, 0]);
  const x = s.keep(s.randomUniform([2, 1, 7, 7], { seed: 5 }));
  test("the other class's gradient is the constant 3 map: SSIM (6 + C1) / (10 + C1)", async () => {
    const r = await randomLogit(async (v, cs) => (await gradient(f, v, cs)).map, x, [0, 0], {
      classes: 2,
    });
    const c1 = (0.01 * 2) ** 2;
    for (const v of r) expect(v).toBeCloseTo((6 + c1) / (10 + c1), 10);
  });
  test("an explanation that ignores the class scores 1; a target outside the classes is refused", async () => {
    const same = async (v: s.Tensor) => s.add(v, 0);
    expect(await randomLogit(same, x, 1, { classes: 10 })).toEqual(
      [1, 1].map(() => expect.closeTo(1, 10)),
    );
    await expect(randomLogit(same, x, 2, { classes: 2 })).rejects.toThrow(/\[0, 2\), got 2/);
  });
});

describe("discrete entropy (100-bin histogram)", () => {
  test("0..99 fill one bin each: log 100; two equal halves: log 2; a constant: 0", () => {
    expect(discreteEntropy(Array.from({ length: 100 }, (_, i) => i))).toBeCloseTo(
      Math.log(100),
      12,
    );
    expect(discreteEntropy([1, 1, 2, 2])).toBeCloseTo(Math.log(2), 12);
    expect(discreteEntropy([4, 4, 4])).toBe(0);
  });
});

function net() {
  const m = new Sequential(new Flatten(), new Linear(4, 3), new ReLU(), new Linear(3, 1));
  m.loadStateDict(
    new Map([
      [
        "1.weight",
        s.tensor([
          [1, 0, 2, 0],
          [0, 1, 0, 2],
          [1, 1, 1, 1],
        ]),
      ],
      ["1.bias", s.zeros([3])],
      ["3.weight", s.tensor([[1, 1, 0]])],
      ["3.bias", s.zeros([1])],
    ]),
  );
  return m;
}
const x4 = s.keep(s.tensor([1, 2, 3, 4], [1, 1, 2, 2]));

describe("efficient MPRT", () => {
  test("gradient map [1, 1, 2, 2] before (entropy log 2); after / before; parameters restored", async () => {
    const m = net();
    // Rows 1 and 2 active: gradient = [1, 0, 2, 0] + [0, 1, 0, 2].
    let last: number[] = [];
    const explain = async (v: s.Tensor) => {
      const g = (await gradient((t) => m.call(t), v, 0)).map;
      last = Array.from(g.dataSync());
      return g;
    };
    const before = m.namedParameters().map(([, p]) => Array.from(p.dataSync()));
    const r = await efficientMprt(m, explain, x4, { seed: 1 });
    expect(r.before[0]).toBeCloseTo(Math.log(2), 12);
    expect(r.after[0]).toBeCloseTo(discreteEntropy(last), 12);
    expect(r.ratio[0]).toBeCloseTo(r.after[0] / Math.log(2), 12);
    expect(m.namedParameters().map(([, p]) => Array.from(p.dataSync()))).toEqual(before);
  });
  test("an explanation that ignores the parameters keeps its entropy: ratio 1", async () => {
    const r = await efficientMprt(net(), async (v) => s.add(v, 0), x4);
    expect(r.ratio).toEqual([1]);
  });
});

describe("smooth MPRT", () => {
  test("an explanation that ignores the parameters stays perfectly correlated and fails the check", async () => {
    const r = await smoothMprt(net(), async (v) => s.add(v, 0), x4, { samples: 3 });
    expect(r.steps.map((st) => st.layer)).toEqual(["1", "3"]);
    for (const st of r.steps) expect(st.spearman).toBeCloseTo(1, 12);
    expect(r.passed).toBe(false);
    const top = await smoothMprt(net(), async (v) => s.add(v, 0), x4, {
      samples: 2,
      layerOrder: "top_down",
    });
    expect(top.steps.map((st) => st.layer)).toEqual(["3", "1"]);
  });
});
