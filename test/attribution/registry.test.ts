/**
 * The method registry from the root entry: options as data, the text `salient methods` shows,
 * option values checked with errors that name the option, and runners that reach the library
 * call with the values given.
 */
import { describe, expect, test } from "vitest";
import { ATTRIBUTE_SPEC } from "../../src/cli/attribute.ts";
import * as s from "../../src/index.ts";
import { expectClose, linearModel } from "./helpers.ts";

// f(x) = w . x + b on a [1, 1, 2, 3] input, one class.
const W = [[0.5, -1.25, 2, 0.75, -0.5, 1.5]];
const model = linearModel(W, [0.1]);
const xv = [0.2, 0.9, -0.4, 1.3, 0.05, -0.7];

function context(opts: Record<string, string>): s.MethodContext {
  return {
    model,
    x: s.tensor(xv, [1, 1, 2, 3]),
    target: 0,
    opt: (k) => opts[k],
    preset: null,
    layer: () => {
      throw new Error("no layer in this test");
    },
    readBaseline: () => {
      throw new Error("no baseline files in this test");
    },
    batchSize: undefined,
    seed: 0,
  };
}

describe("method registry", () => {
  test("optionText writes --name VALUE (default, note)", () => {
    expect(s.optionText({ name: "seed", value: "N" })).toBe("--seed N");
    expect(s.optionText({ name: "steps", value: "N", default: "50" })).toBe("--steps N (50)");
    expect(
      s.optionText({ name: "noise", value: "F", default: "0.15", note: "relative to the range" }),
    ).toBe("--noise F (0.15, relative to the range)");
  });

  test("every option a method lists is a flag of salient attribute", () => {
    const flags = new Set(Object.keys(ATTRIBUTE_SPEC.flags));
    for (const [name, entry] of Object.entries(s.METHODS))
      for (const o of entry.options) expect(flags.has(o.name), `${name} --${o.name}`).toBe(true);
  });

  test("occlusion with a 1x1 window and fill 0 is w * x on a linear model", async () => {
    const r = await s.METHODS.occlusion.run(context({ window: "1", stride: "1", fill: "0" }));
    expectClose(
      r.map.dataSync(),
      xv.map((v, i) => W[0][i] * v),
      1e-5,
    );
  });

  test("occlusion's fill reaches the call: removing x_i for fill c changes f by w_i (x_i - c)", async () => {
    const r = await s.METHODS.occlusion.run(context({ window: "1", fill: "0.5" }));
    expectClose(
      r.map.dataSync(),
      xv.map((v, i) => W[0][i] * (v - 0.5)),
      1e-5,
    );
  });

  test("a bad value is a UsageError naming the option and the accepted range", async () => {
    await expect(async () => s.METHODS.occlusion.run(context({ window: "0" }))).rejects.toThrow(
      '--window must be an integer >= 1, got "0"',
    );
    await expect(async () =>
      s.METHODS.occlusion.run(context({ window: "0" })),
    ).rejects.toBeInstanceOf(s.UsageError);
    expect(() => s.checkMethodOptions((k) => ({ quadrature: "simpsons" })[k])).toThrow(
      /--quadrature must be one of .*got "simpsons"/,
    );
  });
});
