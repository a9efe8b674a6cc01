/**
 * The ONNX importer's 3-D Conv / ConvTranspose / pooling, dilated pooling and training-mode
 * BatchNormalization as one-node graphs: outputs against float64 references written from the
 * ONNX definitions, gradients of every graph input against central finite differences of them.
 */
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { tidy } from "../../src/autodiff/tidy.ts";
import { CpuBackend } from "../../src/index.ts";
import { loadOnnx } from "../../src/models/io/onnx/model.ts";
import { tensor } from "../../src/ops/creation.ts";
import type { Nd } from "../reference/nd.ts";
import { conv3dRef, conv3dTransposeRef, poolNdRef } from "../reference/nd-conv-pool.ts";
import { batchNormTrainRef } from "../reference/reduce.ts";
import { Rng } from "../reference/rng.ts";
import { checkOp, tol } from "../suites/harness.ts";

const { onnx } = onnxProto;
const ctx = { backend: new CpuBackend() };

/** A one-node graph whose inputs are all graph inputs (so each gets a gradient). */
function graph(node: onnxProto.onnx.INodeProto): Uint8Array {
  const vi = (name: string) => ({ name, type: { tensorType: { elemType: 1 } } });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 15 }],
      graph: {
        name: "g",
        node: [node],
        input: (node.input ?? []).map(vi),
        output: (node.output ?? []).map(vi),
      },
    }),
  ).finish();
}

const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
const int = (name: string, v: number) => ({ name, type: 2, i: v });
const float = (name: string, v: number) => ({ name, type: 1, f: v });

function oneNode(opType: string, inputs: string[], attribute: object[], outputs = ["y"]) {
  const bytes = graph({ opType, name: opType, input: inputs, output: outputs, attribute });
  return loadOnnx(bytes, { name: `${opType}.onnx` });
}

const CONV = { fwd: tol(2e-5, 1e-4), bwd: tol(5e-5, 1e-4) };
const POOL = { fwd: tol(1e-6, 1e-5), bwd: tol(1e-5, 1e-5) };

/** Distinct values so max pooling has no near-ties within the finite-difference step. */
function distinct(r: Rng, shape: number[]): Nd {
  const x = r.nd(shape);
  const n = x.data.length;
  const perm = Array.from({ length: n }, (_, i) => i).sort(() => r.next() - 0.5);
  for (let i = 0; i < n; i++) x.data[perm[i]] = Math.fround(-1 + (2 * (i + 0.5)) / n);
  return x;
}

describe("ONNX 3-D and dilated conv / pooling, forward and backward", () => {
  it("Conv 3-D with strides, dilations, asymmetric pads, group 2 and bias", async () => {
    const r = new Rng(1);
    const p = {
      stride: [2, 1, 1],
      dilation: [1, 2, 1],
      pads: [
        [0, 1],
        [1, 0],
        [1, 1],
      ] as [number, number][],
      groups: 2,
    };
    const m = oneNode(
      "Conv",
      ["x", "w", "b"],
      [
        ints("strides", p.stride),
        ints("dilations", p.dilation),
        ints("pads", [0, 1, 1, 1, 0, 1]),
        int("group", 2),
      ],
    );
    const inputs = [r.nd([2, 4, 4, 5, 3]), r.nd([2, 2, 2, 2, 2]), r.nd([2])];
    await checkOp(ctx, {
      op: "ONNX Conv 3-D",
      desc: "x [2,4,4,5,3] w [2,2,2,2,2]",
      inputs,
      engine: (xs) => m.run(xs).y,
      reference: ([x, w, b]) => conv3dRef(x, w, b, p),
      ...CONV,
    });
  });

  it("ConvTranspose 3-D with strides, asymmetric pads and output_padding", async () => {
    const r = new Rng(2);
    const p = {
      stride: [2, 1, 2],
      dilation: [1, 1, 2],
      pads: [
        [1, 0],
        [0, 1],
        [0, 0],
      ] as [number, number][],
      outputPadding: [1, 0, 1],
      groups: 1,
    };
    const m = oneNode(
      "ConvTranspose",
      ["x", "w", "b"],
      [
        ints("strides", p.stride),
        ints("dilations", p.dilation),
        ints("pads", [1, 0, 0, 0, 1, 0]),
        ints("output_padding", p.outputPadding),
      ],
    );
    const inputs = [r.nd([1, 2, 3, 2, 3]), r.nd([2, 3, 2, 2, 2]), r.nd([3])];
    await checkOp(ctx, {
      op: "ONNX ConvTranspose 3-D",
      desc: "x [1,2,3,2,3] w [2,3,2,2,2]",
      inputs,
      engine: (xs) => m.run(xs).y,
      reference: ([x, w, b]) => conv3dTransposeRef(x, w, b, p),
      ...CONV,
    });
  });

  it("MaxPool 2-D with dilations, pads and ceil_mode; AveragePool 3-D with count_include_pad", async () => {
    const r = new Rng(3);
    const maxP = {
      kind: "max" as const,
      kernel: [2, 3],
      stride: [2, 1],
      dilation: [2, 2],
      pads: [
        [1, 0],
        [1, 1],
      ] as [number, number][],
      ceilMode: true,
      countIncludePad: false,
    };
    const maxPool = oneNode(
      "MaxPool",
      ["x"],
      [
        ints("kernel_shape", maxP.kernel),
        ints("strides", maxP.stride),
        ints("dilations", maxP.dilation),
        ints("pads", [1, 1, 0, 1]),
        int("ceil_mode", 1),
      ],
    );
    await checkOp(ctx, {
      op: "ONNX MaxPool dilated",
      desc: "x [1,2,6,7]",
      inputs: [distinct(r, [1, 2, 6, 7])],
      engine: (xs) => maxPool.run(xs).y,
      reference: ([x]) => poolNdRef(x, maxP),
      h: 1e-4,
      ...POOL,
    });
    const avgP = {
      kind: "avg" as const,
      kernel: [2, 3, 2],
      stride: [1, 2, 2],
      dilation: [1, 1, 1],
      pads: [
        [1, 0],
        [1, 1],
        [0, 1],
      ] as [number, number][],
      ceilMode: false,
      countIncludePad: true,
    };
    const avgPool = oneNode(
      "AveragePool",
      ["x"],
      [
        ints("kernel_shape", avgP.kernel),
        ints("strides", avgP.stride),
        ints("pads", [1, 1, 0, 0, 1, 1]),
        int("count_include_pad", 1),
      ],
    );
    await checkOp(ctx, {
      op: "ONNX AveragePool 3-D",
      desc: "x [2,1,3,5,4]",
      inputs: [r.nd([2, 1, 3, 5, 4])],
      engine: (xs) => avgPool.run(xs).y,
      reference: ([x]) => poolNdRef(x, avgP),
      ...POOL,
    });
  });

  it("BatchNormalization training_mode=1: Y and its gradients, and the running statistics", async () => {
    const r = new Rng(4);
    const eps = 1e-3;
    const momentum = 0.8;
    const m = oneNode(
      "BatchNormalization",
      ["x", "scale", "bias", "mean", "var"],
      [float("epsilon", eps), float("momentum", momentum), int("training_mode", 1)],
      ["y", "running_mean", "running_var"],
    );
    const [x, scale, bias, mean, variance] = [
      r.nd([2, 3, 2, 3], -2, 2),
      r.nd([3]),
      r.nd([3]),
      r.nd([3]),
      r.nd([3], 0.5, 2),
    ];
    await checkOp(ctx, {
      op: "ONNX BatchNormalization training Y",
      desc: "x [2,3,2,3]",
      inputs: [x, scale, bias],
      engine: ([xt, st, bt]) =>
        m.run([
          xt,
          st,
          bt,
          tensor(Float32Array.from(mean.data), [3]),
          tensor(Float32Array.from(variance.data), [3]),
        ]).y,
      reference: ([xr, sr, br]) => batchNormTrainRef(xr, sr, br, eps).y,
      fwd: tol(1e-5, 1e-4),
      bwd: tol(1e-4, 1e-3),
    });
    // running = input * momentum + batch statistic (biased variance) * (1 - momentum).
    const stats = tidy(() => {
      const out = m.run(
        [x, scale, bias, mean, variance].map((t) => tensor(Float32Array.from(t.data), t.shape)),
      );
      return [out.running_mean.dataSync(), out.running_var.dataSync()];
    });
    for (let c = 0; c < 3; c++) {
      const v: number[] = [];
      for (let i = 0; i < x.data.length; i++) if (Math.floor(i / 6) % 3 === c) v.push(x.data[i]);
      const mu = v.reduce((a, b) => a + b, 0) / v.length;
      const sigma2 = v.reduce((a, b) => a + (b - mu) ** 2, 0) / v.length;
      expect(stats[0][c]).toBeCloseTo(mean.data[c] * momentum + mu * (1 - momentum), 5);
      expect(stats[1][c]).toBeCloseTo(variance.data[c] * momentum + sigma2 * (1 - momentum), 5);
    }
  });
});
