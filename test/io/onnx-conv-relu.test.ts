/**
 * The ONNX importer runs a Conv whose output only a Relu reads as one conv with the ReLU fused
 * (fuse-conv-relu.ts). Outputs and input gradients must equal a float64 conv + ReLU computed
 * here, fused or not; a Conv output that is a graph output, has a second reader or is tapped, and
 * any gradient rule set, keep the nodes apart (and guided backprop then gives its own gradient).
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
import { tensor } from "../../src/ops/creation.ts";
import { sum } from "../../src/ops/reduce.ts";
import { guidedBackpropRules } from "../../src/rules/relu-rules.ts";
import { Rng } from "../reference/rng.ts";
import { encodeGraph, expectClose } from "./onnx-helpers.ts";

const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
const str = (name: string, s: string) => ({ name, type: 3, s: new TextEncoder().encode(s) });

/** Input [1, C, H, W]; O output channels (16: the per-phase path when upsampled first). */
const [C, H, W, O, K] = [3, 6, 5, 16, 3];

interface Case {
  /** A nearest x2 Resize before the Conv. */
  upsample?: boolean;
  /** The Conv output is a graph output too. */
  convOutput?: boolean;
  /** A Sigmoid reads the Conv output too. */
  secondReader?: boolean;
}

function build(c: Case, w: number[], b: number[]): OnnxModel {
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const inits: onnxProto.onnx.ITensorProto[] = [
    { name: "w", dataType: 1, dims: [O, C, K, K], floatData: w },
    { name: "b", dataType: 1, dims: [O], floatData: b },
  ];
  let convIn = "x";
  if (c.upsample) {
    inits.push({ name: "scales", dataType: 1, dims: [4], floatData: [1, 1, 2, 2] });
    nodes.push({
      opType: "Resize",
      name: "up",
      input: ["x", "", "scales"],
      output: ["u"],
      attribute: [str("mode", "nearest")],
    });
    convIn = "u";
  }
  nodes.push(
    {
      opType: "Conv",
      name: "conv",
      input: [convIn, "w", "b"],
      output: ["c"],
      attribute: [ints("pads", [1, 1, 1, 1]), ints("kernel_shape", [K, K])],
    },
    { opType: "Relu", name: "relu", input: ["c"], output: ["y"] },
  );
  const outputs = ["y"];
  if (c.convOutput) outputs.push("c");
  if (c.secondReader) {
    nodes.push({ opType: "Sigmoid", name: "sig", input: ["c"], output: ["s"] });
    outputs.push("s");
  }
  const bytes = encodeGraph({ nodes, initializers: inits, inputs: ["x"], outputs, opset: 13 });
  return loadOnnx(bytes, { name: "conv-relu.onnx" });
}

/**
 * Float64 reference on x [C, H, W] (upsampled x2 nearest when asked): the conv's pre-activation
 * [O, h, w] and the input gradient of sum(cot * relu(pre)), with guided backprop's rule (only
 * positive gradients pass the ReLU) when `guided`.
 */
function reference(
  x: ArrayLike<number>,
  w: number[],
  b: number[],
  cot: ArrayLike<number>,
  up: boolean,
  guided: boolean,
): { pre: Float64Array; dx: Float64Array } {
  const r = up ? 2 : 1;
  const [h, wd] = [H * r, W * r];
  const at = (ch: number, y: number, xx: number) =>
    x[(ch * H + Math.floor(y / r)) * W + Math.floor(xx / r)];
  const pre = new Float64Array(O * h * wd);
  const du = new Float64Array(C * h * wd);
  for (let o = 0; o < O; o++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < wd; xx++) {
        let s = b[o];
        for (let ch = 0; ch < C; ch++)
          for (let ky = 0; ky < K; ky++)
            for (let kx = 0; kx < K; kx++) {
              const [iy, ix] = [y + ky - 1, xx + kx - 1];
              if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
                s += w[((o * C + ch) * K + ky) * K + kx] * at(ch, iy, ix);
            }
        const q = (o * h + y) * wd + xx;
        pre[q] = s;
        const g = s > 0 && (!guided || cot[q] > 0) ? cot[q] : 0;
        for (let ch = 0; ch < C; ch++)
          for (let ky = 0; ky < K; ky++)
            for (let kx = 0; kx < K; kx++) {
              const [iy, ix] = [y + ky - 1, xx + kx - 1];
              if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
                du[(ch * h + iy) * wd + ix] += w[((o * C + ch) * K + ky) * K + kx] * g;
            }
      }
  const dx = new Float64Array(C * H * W);
  for (let ch = 0; ch < C; ch++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < wd; xx++)
        dx[(ch * H + Math.floor(y / r)) * W + Math.floor(xx / r)] += du[(ch * h + y) * wd + xx];
  return { pre, dx };
}

/**
 * Runs the case's model on a random input: output y and the input gradient of sum(cot * y)
 * against the float64 reference; returns which Convs applied their ReLU in the runs.
 */
function check(c: Case, seed: number, o: { guided?: boolean } = {}): string[] {
  const rng = new Rng(seed);
  const w = Array.from({ length: O * C * K * K }, () => rng.next() - 0.5);
  const b = Array.from({ length: O }, () => rng.next() - 0.5);
  const model = build(c, w, b);
  const xs = Float32Array.from({ length: C * H * W }, () => rng.next() * 2 - 1);
  const r = c.upsample ? 2 : 1;
  const cot = Float32Array.from({ length: O * H * r * W * r }, () => rng.next() * 2 - 1);
  const ref = reference(xs, w, b, cot, c.upsample ?? false, o.guided ?? false);
  const fusedIn: string[] = [];
  tidy(() => {
    const x = tensor(xs, [1, C, H, W]);
    const run = () => {
      const y = model.run([x]).y;
      fusedIn.push(...model.reluFusedLastRun);
      return y;
    };
    const go = () => {
      const y = run().dataSync();
      // The ReLU was applied (negatives of the pre-activation give exact zeros).
      expect(Array.from(ref.pre).some((v) => v < 0)).toBe(true);
      expectClose(
        y,
        Array.from(ref.pre, (v) => Math.max(0, v)),
      );
      const cotT = tensor(cot, [1, O, H * r, W * r]);
      const dx = grad((v) => sum(mul(model.run([v]).y, cotT)))(x);
      fusedIn.push(...model.reluFusedLastRun);
      expectClose(dx.dataSync(), ref.dx);
    };
    if (o.guided) withRules(guidedBackpropRules, go);
    else go();
  });
  return fusedIn;
}

describe("ONNX Conv -> Relu runs as one conv with the ReLU fused", () => {
  it("fuses and matches a float64 conv + ReLU: output and input gradient", () => {
    expect(check({}, 1)).toEqual(["conv", "conv"]);
  });

  it("fuses after a fused Resize (per-phase convs with the ReLU in each)", () => {
    const rng = new Rng(2);
    const model = build(
      { upsample: true },
      Array.from({ length: O * C * K * K }, () => rng.next() - 0.5),
      Array.from({ length: O }, () => rng.next() - 0.5),
    );
    tidy(() => model.run([tensor(new Float32Array(C * H * W), [1, C, H, W])]));
    expect(model.fusedLastRun).toEqual(["conv"]);
    expect(model.reluFusedLastRun).toEqual(["conv"]);
    expect(check({ upsample: true }, 2)).toEqual(["conv", "conv"]);
  });
});

describe("Conv -> Relu pairs that must run as written", () => {
  it("the Conv output is also a graph output: unfused, its values pre-ReLU", () => {
    expect(check({ convOutput: true }, 3)).toEqual([]);
    const rng = new Rng(3);
    const model = build(
      { convOutput: true },
      Array.from({ length: O * C * K * K }, () => rng.next() - 0.5),
      Array.from({ length: O }, () => rng.next() - 0.5),
    );
    tidy(() => {
      const x = tensor(
        Float32Array.from({ length: C * H * W }, () => rng.next() * 2 - 1),
        [1, C, H, W],
      );
      expect(Array.from(model.run([x]).c.dataSync()).some((v) => v < 0)).toBe(true);
    });
  });

  it("a second reader of the Conv output: unfused", () => {
    expect(check({ secondReader: true }, 4)).toEqual([]);
  });

  it("a tap on the Conv sees its pre-ReLU output: unfused while tapped", () => {
    const rng = new Rng(5);
    const model = build(
      {},
      Array.from({ length: O * C * K * K }, () => rng.next() - 0.5),
      Array.from({ length: O }, () => rng.next() - 0.5),
    );
    let negatives = 0;
    tidy(() => {
      const x = tensor(
        Float32Array.from({ length: C * H * W }, () => rng.next() * 2 - 1),
        [1, C, H, W],
      );
      const record = (t: Tensor) => {
        negatives = Array.from(t.dataSync()).filter((v) => v < 0).length;
        return t;
      };
      withTaps({ conv: record }, () => model.run([x]));
      expect(model.reluFusedLastRun).toEqual([]);
      model.run([x]);
      expect(model.reluFusedLastRun).toEqual(["conv"]);
    });
    expect(negatives).toBeGreaterThan(0);
  });

  it("under guided backprop the nodes stay apart and the gradient is guided backprop's", () => {
    expect(check({}, 6, { guided: true })).toEqual([]);
    expect(check({ upsample: true }, 7, { guided: true })).toEqual([]);
  });
});
