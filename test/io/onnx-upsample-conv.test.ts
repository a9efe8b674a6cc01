/**
 * The ONNX importer runs Resize(nearest, integer scale) -> Conv as one low-resolution conv
 * (nearestUpsampleConv2d). Outputs and input gradients must equal upsample-then-conv2d with the
 * engine's own ops, computed here; pairs whose Resize is not a phase-preserving integer nearest
 * upsample, or whose output is read elsewhere, must run unfused.
 */
import type onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { grad } from "../../src/autodiff/grad.ts";
import { withRules } from "../../src/autodiff/rule-set.ts";
import type { Tensor } from "../../src/autodiff/tensor.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { loadOnnx, type OnnxModel } from "../../src/models/io/onnx/model.ts";
import { withTaps } from "../../src/models/nn/taps.ts";
import { mul } from "../../src/ops/binary.ts";
import { conv2d } from "../../src/ops/conv.ts";
import { tensor } from "../../src/ops/creation.ts";
import { sum } from "../../src/ops/reduce.ts";
import { upsample } from "../../src/ops/resize.ts";
import { guidedBackpropRules } from "../../src/rules/relu-rules.ts";
import { Rng } from "../reference/rng.ts";
import { encodeGraph, expectClose } from "./onnx-helpers.ts";

const str = (name: string, s: string) => ({ name, type: 3, s: new TextEncoder().encode(s) });
const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
const floatInit = (name: string, dims: number[], data: number[]) => ({
  name,
  dataType: 1,
  dims,
  floatData: data,
});
const intInit = (name: string, data: number[]) => ({
  name,
  dataType: 7,
  dims: [data.length],
  int64Data: data,
});

/**
 * Input channels; most fused cases' convs reduce them (O < C: one merged conv), as an SR net's last
 * layer does; those with 16+ outputs take one conv per phase.
 */
const C = 4;

interface Case {
  r: number;
  /** Resize attributes (mode defaults to nearest). */
  attrs?: object[];
  kernel: number;
  pads: number;
  bias: boolean;
  /** Give the scale as sizes [N, C, rH, rW] instead of scales. */
  sizes?: boolean;
  /** Scales other than [1, 1, r, r] (a non-integer scale, say). */
  scales?: number[];
  /** Extra graph outputs (the Resize output, to make it a graph output). */
  extraOutputs?: string[];
  /** A second reader of the Resize output. */
  secondReader?: boolean;
  /** Output channels (default 2). */
  outC?: number;
  /** Upsample (opset 9: X and scales) instead of Resize (opset 13). */
  upsampleOp?: boolean;
}

const X_SHAPE = [1, C, 4, 3];
const X_SIZE = X_SHAPE.reduce((p, q) => p * q, 1);

function build(c: Case, rng: Rng): { model: OnnxModel; w: number[]; b: number[] } {
  const k = c.kernel;
  const O = c.outC ?? 2;
  const w = Array.from({ length: O * C * k * k }, () => rng.next() * 2 - 1);
  const b = Array.from({ length: O }, () => rng.next() * 2 - 1);
  const resizeInputs = c.upsampleOp
    ? ["x", "scales"]
    : c.sizes
      ? ["x", "", "", "sizes"]
      : ["x", "", "scales"];
  const inits: onnxProto.onnx.ITensorProto[] = [floatInit("w", [O, C, k, k], w)];
  if (c.bias) inits.push(floatInit("b", [O], b));
  if (c.sizes) inits.push(intInit("sizes", [1, C, X_SHAPE[2] * c.r, X_SHAPE[3] * c.r]));
  else inits.push(floatInit("scales", [4], c.scales ?? [1, 1, c.r, c.r]));
  const nodes: onnxProto.onnx.INodeProto[] = [
    {
      opType: c.upsampleOp ? "Upsample" : "Resize",
      name: "up",
      input: resizeInputs,
      output: ["u"],
      attribute: c.attrs ?? [str("mode", "nearest")],
    },
    {
      opType: "Conv",
      name: "conv",
      input: c.bias ? ["u", "w", "b"] : ["u", "w"],
      output: ["y"],
      attribute: [ints("pads", [c.pads, c.pads, c.pads, c.pads]), ints("kernel_shape", [k, k])],
    },
  ];
  if (c.secondReader) nodes.push({ opType: "Relu", name: "relu", input: ["u"], output: ["z"] });
  const outputs = ["y", ...(c.extraOutputs ?? []), ...(c.secondReader ? ["z"] : [])];
  const bytes = encodeGraph({
    nodes,
    initializers: inits,
    inputs: ["x"],
    outputs,
    opset: c.upsampleOp ? 9 : 13,
  });
  return { model: loadOnnx(bytes, { name: "up-conv.onnx" }), w, b };
}

/** conv2d(upsample(x, r)) with the engine's ops: what the unfused graph computes. */
function reference(c: Case, w: number[], b: number[]) {
  const O = c.outC ?? 2;
  const wt = tensor(Float32Array.from(w), [O, C, c.kernel, c.kernel]);
  const bt = c.bias ? tensor(Float32Array.from(b), [O]) : null;
  return (x: Tensor) => conv2d(upsample(x, c.r, "nearest"), wt, { bias: bt, padding: c.pads });
}

/** The model's output and input gradient (against a fixed random cotangent) vs the reference. */
function compare(c: Case, seed: number, fused: boolean): void {
  const rng = new Rng(seed);
  const { model, w, b } = build(c, rng);
  const size = X_SHAPE.reduce((p, q) => p * q, 1);
  tidy(() => {
    const x = tensor(
      Float32Array.from({ length: size }, () => rng.next() * 2 - 1),
      X_SHAPE,
    );
    const ref = reference(c, w, b);
    const want = ref(x);
    const got = model.run([x]).y;
    expect(got.shape).toEqual(want.shape);
    expect(model.fusedLastRun).toEqual(fused ? ["conv"] : []);
    expectClose(got.dataSync(), want.dataSync());
    const cot = tensor(
      Float32Array.from({ length: want.size }, () => rng.next() * 2 - 1),
      want.shape,
    );
    const gGot = grad((v) => sum(mul(model.run([v]).y, cot)))(x);
    const gWant = grad((v) => sum(mul(ref(v), cot)))(x);
    expectClose(gGot.dataSync(), gWant.dataSync());
  });
}

const ASYMMETRIC = [
  str("mode", "nearest"),
  str("coordinate_transformation_mode", "asymmetric"),
  str("nearest_mode", "floor"),
];
const HALF_PIXEL = [str("mode", "nearest")]; // half_pixel + round_prefer_floor by default

describe("ONNX Resize(nearest, integer scale) -> Conv runs as one low-resolution conv", () => {
  const modes = { asymmetric: ASYMMETRIC, half_pixel: HALF_PIXEL };
  for (const r of [2, 3]) {
    for (const [modeName, attrs] of Object.entries(modes)) {
      it(`x${r} ${modeName}: 3x3 conv, pads 1, bias: output and input gradient`, () => {
        compare({ r, attrs, kernel: 3, pads: 1, bias: true }, 10 * r + 1, true);
      });
      it(`x${r} ${modeName}: 1x1 conv, no bias: output and input gradient`, () => {
        compare({ r, attrs, kernel: 1, pads: 0, bias: false }, 10 * r + 2, true);
      });
    }
  }

  it("half_pixel with round_prefer_ceil, and pytorch_half_pixel, also fuse", () => {
    const ceil = [str("mode", "nearest"), str("nearest_mode", "round_prefer_ceil")];
    compare({ r: 3, attrs: ceil, kernel: 3, pads: 1, bias: true }, 5, true);
    const pt = [
      str("mode", "nearest"),
      str("coordinate_transformation_mode", "pytorch_half_pixel"),
    ];
    compare({ r: 2, attrs: pt, kernel: 3, pads: 1, bias: false }, 6, true);
  });

  it("fuses Upsample (opset 9) too", () => {
    const attrs = [str("mode", "nearest")];
    compare({ r: 3, attrs, kernel: 3, pads: 1, bias: true, upsampleOp: true }, 9, true);
  });

  it("takes the scale from sizes that are exact multiples", () => {
    compare({ r: 2, attrs: HALF_PIXEL, kernel: 3, pads: 1, bias: true, sizes: true }, 7, true);
  });

  it("a conv that does not keep the size still matches (pads 0 on a 3x3 kernel)", () => {
    compare({ r: 2, attrs: ASYMMETRIC, kernel: 3, pads: 0, bias: true }, 8, true);
  });

  it("a conv with 16 or more outputs fuses as one conv per phase (x2, x3; 3x3 and 5x5)", () => {
    compare({ r: 2, attrs: HALF_PIXEL, kernel: 3, pads: 1, bias: true, outC: 16 }, 31, true);
    compare({ r: 3, attrs: ASYMMETRIC, kernel: 3, pads: 1, bias: false, outC: 17 }, 32, true);
    compare({ r: 2, attrs: ASYMMETRIC, kernel: 5, pads: 2, bias: true, outC: 16 }, 33, true);
  });

  it("plans only the Resize -> Conv pair", () => {
    const { model } = build({ r: 2, kernel: 3, pads: 1, bias: true }, new Rng(1));
    expect(model.upsampleConvPairs()).toEqual([["up", "conv"]]);
  });
});

describe("Resize -> Conv pairs that must not be fused", () => {
  const base = { r: 2, kernel: 3, pads: 1, bias: true } as const;

  it("a Resize output that is also a graph output: unfused, same values", () => {
    // The unfused ONNX Resize agrees with the engine's upsample in every fused mode.
    const ceil = [str("mode", "nearest"), str("nearest_mode", "round_prefer_ceil")];
    for (const attrs of [HALF_PIXEL, ASYMMETRIC, ceil]) {
      for (const r of [2, 3]) {
        const c = { ...base, r, attrs, extraOutputs: ["u"] };
        expect(build(c, new Rng(1)).model.upsampleConvPairs()).toEqual([]);
        compare(c, 11 + r, false);
      }
    }
  });

  it("a conv with as many outputs as inputs or more, up to 15: unfused, same values", () => {
    for (const outC of [C, C + 1, 15]) {
      compare({ ...base, attrs: HALF_PIXEL, outC }, 20 + outC, false);
    }
  });

  it("a Resize output with two readers", () => {
    const { model } = build({ ...base, secondReader: true }, new Rng(1));
    expect(model.upsampleConvPairs()).toEqual([]);
  });

  it("linear mode, align_corners, asymmetric + round_prefer_floor, half_pixel + floor", () => {
    const refused = [
      [str("mode", "linear")],
      [str("mode", "nearest"), str("coordinate_transformation_mode", "align_corners")],
      [str("mode", "nearest"), str("coordinate_transformation_mode", "asymmetric")],
      [str("mode", "nearest"), str("nearest_mode", "floor")],
      [str("mode", "nearest"), str("coordinate_transformation_mode", "tf_crop_and_resize")],
    ];
    for (const attrs of refused)
      expect(build({ ...base, attrs }, new Rng(1)).model.upsampleConvPairs()).toEqual([]);
  });

  it("a non-integer or unequal scale runs unfused (checked when it runs)", () => {
    for (const scales of [
      [1, 1, 1.5, 1.5],
      [1, 1, 2, 3],
    ]) {
      const { model } = build({ ...base, attrs: ASYMMETRIC, scales }, new Rng(1));
      tidy(() => {
        const y = model.run([tensor(new Float32Array(X_SIZE).fill(1), X_SHAPE)]).y;
        expect(model.fusedLastRun).toEqual([]);
        // The unfused Resize's output size: floor(in * scale) on each axis.
        const up = X_SHAPE.map((d, i) => Math.floor(d * scales[i]));
        expect(y.shape).toEqual([1, 2, up[2], up[3]]);
      });
    }
  });

  it("a scaled channel axis runs unfused (and fails as the Conv does)", () => {
    const { model } = build({ ...base, attrs: ASYMMETRIC, scales: [1, 2, 2, 2] }, new Rng(1));
    const x = tensor(new Float32Array(X_SIZE), X_SHAPE);
    expect(() => model.run([x])).toThrow(/node "conv".*expects 4 input channels.*has 8/);
  });

  it("under a gradient rule set (guided backprop) the graph runs as written", () => {
    const { model } = build({ ...base, attrs: ASYMMETRIC }, new Rng(1));
    tidy(() => {
      const x = tensor(new Float32Array(X_SIZE).fill(1), X_SHAPE);
      withRules(guidedBackpropRules, () => model.run([x]));
      expect(model.fusedLastRun).toEqual([]);
      model.run([x]);
      expect(model.fusedLastRun).toEqual(["conv"]);
    });
  });

  it("a tap on the Resize output sees the upsampled image (so that run is unfused)", () => {
    const { model } = build({ ...base, attrs: ASYMMETRIC }, new Rng(1));
    tidy(() => {
      const x = tensor(
        Float32Array.from({ length: X_SIZE }, (_, i) => i),
        X_SHAPE,
      );
      let seen: number[] = [];
      const record = (t: Tensor) => {
        seen = [...t.shape];
        return t;
      };
      withTaps({ u: record }, () => model.run([x]));
      expect(seen).toEqual([1, C, 8, 6]);
      expect(model.fusedLastRun).toEqual([]);
    });
  });
});
