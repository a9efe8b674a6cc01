/** Rule coverage: leaky rectifier rules, PReLU as an op, named customGrad ops, and the checks. */
import { afterEach, describe, expect, test, vi } from "vitest";
import * as s from "../../src/index.ts";
import { ops } from "../../src/ops/registry.ts";
import { coverageTable } from "../../src/rules/coverage-table.ts";
import {
  CUSTOM,
  LINEAR,
  NO_GRADIENT,
  PIECEWISE,
  RECTIFIERS,
  SMOOTH,
  STRUCTURAL,
  WINNER_TAKES_ALL,
} from "../../src/rules/op-groups.ts";
import { deconvnetRules, guidedBackpropRules } from "../../src/rules/relu-rules.ts";

const W1 = [
  [1, -1],
  [2, 1],
];
const X = [[1, 2]]; // z = W1 x = [-1, 4]
const DY = [[1, -1]]; // the signal arriving at the activation

/** Input gradient of act(x W1^T) with upstream DY, under `rules`. */
function inputSignal(rules: s.RuleSet, act: (z: s.Tensor) => s.Tensor): number[][] {
  const w = s.tensor(W1);
  const r = s.withRules(rules, () =>
    s.vjp((v: s.Tensor) => act(s.linear(v, w)), [s.tensor(X)], s.tensor(DY)),
  );
  const v = Array.from(r.grads[0].dataSync());
  return [v];
}

const close = (a: number[][], b: number[][]) =>
  a.flat().forEach((v, i) => expect(v).toBeCloseTo(b.flat()[i], 6));

describe("leaky rectifiers under the classic rules (slope 0.1 where z < 0)", () => {
  // Hand-computed: slope gate g = [0.1, 1]. Gradient: dz = DY * g = [0.1, -1], dx = W1^T dz.
  // Guided backprop: relu(DY) * g = [0.1, 0]. Deconvnet: leaky(DY) = [1, -0.1].
  const expected = {
    gradient: [[0.1 - 2, -0.1 - 1]],
    guided: [[0.1, -0.1]],
    deconv: [[1 - 0.2, -1 - 0.1]],
  };
  const leaky = (z: s.Tensor) => s.leakyRelu(z, 0.1);
  const prelu = (z: s.Tensor) => s.prelu(z, s.tensor([0.1, 0.1]));
  for (const [name, act] of [
    ["leakyRelu", leaky],
    ["prelu", prelu],
  ] as const) {
    test(`${name}: gradient, guided backprop and deconvnet`, () => {
      close(inputSignal({}, act), expected.gradient);
      close(inputSignal(guidedBackpropRules, act), expected.guided);
      close(inputSignal(deconvnetRules, act), expected.deconv);
    });
  }

  test("prelu is its own op with per-channel slopes; its slope gradient is sum(dy * min(x, 0))", () => {
    const x = s.tensor([[[[-2]], [[3]]]]); // [1, 2, 1, 1]
    const a = s.tensor([0.25, 0.5]);
    const { value, grads } = s.valueAndGrads((v: s.Tensor, al: s.Tensor) => s.prelu(v, al))(
      [x, a],
      s.tensor([[[[4]], [[5]]]]),
    );
    expect(Array.from(value.dataSync())).toEqual([-0.5, 3]);
    expect(Array.from(grads[0].dataSync())).toEqual([1, 5]); // 4 * 0.25, 5 * 1
    expect(Array.from(grads[1].dataSync())).toEqual([-8, 0]); // 4 * -2, 5 * min(3, 0)
    const names: string[] = [];
    s.withRules(
      {
        prelu: (dy, ctx) => {
          names.push("prelu");
          return ops.prelu.vjp(dy, ctx);
        },
      },
      () => s.vjp((v: s.Tensor) => s.prelu(v, a), [x], s.onesLike(x)),
    );
    expect(names).toEqual(["prelu"]);
  });
});

describe("declared coverage", () => {
  afterEach(() => vi.restoreAllMocks());

  test("the op groups partition every op", () => {
    const groups = [
      STRUCTURAL,
      LINEAR,
      WINNER_TAKES_ALL,
      RECTIFIERS,
      PIECEWISE,
      SMOOTH,
      NO_GRADIENT,
      CUSTOM,
    ].flat();
    expect([...groups].sort()).toEqual(Object.keys(ops).sort());
    expect(new Set(groups).size).toBe(groups.length);
  });

  test("an op a set neither replaces nor passes through fails, naming the op and the set", () => {
    const strict: s.RuleSet = { coverage: { name: "strict rules", passThrough: ["linear"] } };
    expect(() => inputSignal(strict, (z) => s.tanh(z))).toThrow(
      /strict rules: the recorded graph contains tanh, which the strict rules rule set/,
    );
    expect(() => inputSignal(strict, (z) => z)).not.toThrow();
  });

  test("guided backprop warns once per op it passes through with a caveat, and is the gradient there", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const gelu = (z: s.Tensor) => s.gelu(z);
    const g = inputSignal({}, gelu);
    close(inputSignal(guidedBackpropRules, gelu), g);
    inputSignal(guidedBackpropRules, gelu);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/guided backprop: gelu keeps its plain gradient/);
  });
});

describe("named customGrad ops", () => {
  const double = (name?: string) =>
    s.customGrad(
      (t: s.Tensor) => ({ value: s.mul(t, 2) }),
      (g: s.Tensor) => [s.mul(g, 2)],
      name,
    );

  test("a rule set targets one custom op by name and leaves the others alone", () => {
    const rules: s.RuleSet = { customRules: { probe: (dy) => [() => s.mul(dy, 10)] } };
    const f = (v: s.Tensor) => double()(double("probe")(v));
    const r = s.withRules(rules, () => s.vjp(f, [s.tensor([1])], s.tensor([1])));
    expect(Array.from(r.grads[0].dataSync())).toEqual([20]); // 2 (unnamed, default) * 10 (the rule)
  });

  test("the name is checked and shows in coverage messages", () => {
    expect(() => double("")).toThrow(/customGrad: name must be a non-empty string/);
    const strict: s.RuleSet = { coverage: { name: "strict rules", passThrough: [] } };
    expect(() =>
      s.withRules(strict, () => s.vjp(double("probe"), [s.tensor([1])], s.tensor([1]))),
    ).toThrow(/contains custom op "probe"/);
  });
});

describe("coverage tables", () => {
  test("guided backprop and deconvnet change exactly the rectifiers and refuse nothing", () => {
    for (const set of [guidedBackpropRules, deconvnetRules]) {
      const t = coverageTable(set);
      expect(t.changes.sort()).toEqual(["leakyRelu", "prelu", "relu"]);
      expect(t.fails).toEqual([]);
      expect(t.warns.map((w) => w.op)).toContain("gelu");
      expect(t.warns.map((w) => w.op)).toContain("custom");
    }
  });

  test("LRP replaces the linear ops and activations and refuses ops without an LRP rule", () => {
    const t = coverageTable(s.lrpEpsilonRules());
    for (const op of ["conv2d", "linear", "matmul", "add", "sum", "avgPool2d", "relu", "prelu"])
      expect(t.changes).toContain(op);
    for (const op of ["exp", "sqrt", "custom", "maximum"]) expect(t.fails).toContain(op);
    for (const op of ["concat", "maxPool2d", "reshape"]) expect(t.passThrough).toContain(op);
  });

  test("DeepLIFT rescales every unary nonlinearity and max pooling, and keeps linear ops", () => {
    const t = coverageTable(s.deepLiftRules());
    for (const op of ["relu", "leakyRelu", "prelu", "sigmoid", "tanh", "gelu", "maxPool2d"])
      expect(t.changes).toContain(op);
    for (const op of ["conv2d", "linear", "matmul", "add"]) expect(t.passThrough).toContain(op);
    expect(t.warns.map((w) => w.op)).not.toContain("maxPool2d");
  });
});
