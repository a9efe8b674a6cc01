/**
 * A small CNN exported by torch.onnx.export (scripts/fixtures/make_io_fixtures.py): our graph's
 * outputs and input gradient must match what torch computed; bad models fail with clear errors.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { grad } from "../../src/autodiff/grad.ts";
import { tidy } from "../../src/autodiff/tidy.ts";
import { loadWeights, loadWeightsIntoModule } from "../../src/models/io/load-weights.ts";
import { OnnxUnsupportedError } from "../../src/models/io/onnx/errors.ts";
import { loadOnnx, OnnxModel } from "../../src/models/io/onnx/model.ts";
import { add, mul } from "../../src/ops/binary.ts";
import { tensor } from "../../src/ops/creation.ts";
import { sum } from "../../src/ops/reduce.ts";

const DIR = join(import.meta.dirname, "..", "fixtures", "io");
const bytes = (n: string) => new Uint8Array(readFileSync(join(DIR, n)));
const ref = JSON.parse(readFileSync(join(DIR, "small_cnn.json"), "utf8"));

function expectClose(got: ArrayLike<number>, want: number[], atol = 1e-4, rtol = 1e-3) {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i] - want[i]) - rtol * Math.abs(want[i]));
  }
  expect(worst).toBeLessThan(atol);
}

describe("a CNN exported with torch.onnx.export", () => {
  const model = loadOnnx(bytes("small_cnn.onnx"), { name: "small_cnn.onnx" });
  const x = tensor(Float32Array.from(ref.x.values), ref.x.shape);

  it("exposes the initializers under PyTorch's names as its state dict", () => {
    const sd = model.stateDict();
    const params = Object.keys(ref.state_dict).filter((k) => !k.endsWith("num_batches_tracked"));
    expect([...sd.keys()].sort()).toEqual(params.sort());
    for (const k of params) {
      expect(sd.get(k)!.shape).toEqual(ref.state_dict[k].shape);
      expectClose(sd.get(k)!.dataSync(), ref.state_dict[k].values, 1e-7, 1e-6);
    }
    expect(model.inputNames).toEqual(["x"]);
    expect(model.outputNames).toEqual(["sr", "probs"]);
  });

  it("computes the same outputs as torch", () => {
    tidy(() => {
      const out = model.run({ x });
      expect(out.sr.shape).toEqual(ref.sr.shape);
      expect(out.probs.shape).toEqual(ref.probs.shape);
      expectClose(out.sr.dataSync(), ref.sr.values);
      expectClose(out.probs.dataSync(), ref.probs.values);
      expectClose(model.forward(x).dataSync(), ref.sr.values);
    });
  });

  it("computes the same input gradient as torch autograd", () => {
    tidy(() => {
      const r1 = tensor(Float32Array.from(ref.r_sr), ref.sr.shape);
      const r2 = tensor(Float32Array.from(ref.r_probs), ref.probs.shape);
      const g = grad((v) => {
        const o = model.run([v]);
        return add(sum(mul(o.sr, r1)), sum(mul(o.probs, r2)));
      })(x);
      expect(g.shape).toEqual(ref.x.shape);
      expectClose(g.dataSync(), ref.grad_x, 1e-4, 1e-3);
    });
  });

  it("takes weights from the torch.save checkpoint of the same net (num_batches_tracked ignored)", () => {
    const fresh = loadOnnx(bytes("small_cnn.onnx"));
    // Scramble, then restore from the .pth: outputs must be torch's again.
    const zeros = new Map(
      [...fresh.stateDict()].map(([k, v]) => [
        k,
        { shape: [...v.shape], values: new Float32Array(v.size) },
      ]),
    );
    fresh.loadStateDict(zeros);
    const report = loadWeightsIntoModule(fresh, bytes("small_cnn.pth"), "small_cnn.pth");
    expect(report.format).toBe("pytorch");
    expect(report.ignored).toEqual(["bn1.num_batches_tracked"]);
    expect(report.loaded.length).toBe(fresh.stateDict().size);
    tidy(() => expectClose(fresh.run({ x }).sr.dataSync(), ref.sr.values));
  });

  it("its initializers load through loadWeights as a plain map", () => {
    const w = loadWeights(bytes("small_cnn.onnx"), "small_cnn.onnx");
    expect(w.get("fc.weight")!.shape).toEqual(ref.state_dict["fc.weight"].shape);
    expectClose(w.get("fc.weight")!.values, ref.state_dict["fc.weight"].values, 1e-7, 1e-6);
  });
});

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;

/** A one-node model built with onnx-proto (an independent protobuf encoder). */
function oneNode(node: NodeProto, opset = 13, inputs = ["x"]): Uint8Array {
  const vi = (name: string) => ({ name, type: { tensorType: { elemType: 1 } } });
  const m = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: opset }],
    graph: {
      name: "g",
      node: [node],
      input: inputs.map(vi),
      output: (node.output ?? []).map(vi),
    },
  });
  return onnx.ModelProto.encode(m).finish();
}

describe("ONNX models that cannot be imported", () => {
  it("an unsupported op names the op and the node", () => {
    const m = oneNode({ opType: "LSTM", name: "rnn1", input: ["x"], output: ["y"] });
    expect(() => loadOnnx(m, { name: "m.onnx" })).toThrow(OnnxUnsupportedError);
    expect(() => loadOnnx(m, { name: "m.onnx" })).toThrow(
      /^m\.onnx: node "rnn1" \(LSTM\): unsupported ONNX op "LSTM"/,
    );
  });

  it("an unsupported attribute, and an unsupported attribute value", () => {
    const attr = oneNode({
      opType: "Relu",
      name: "r",
      input: ["x"],
      output: ["y"],
      attribute: [{ name: "bogus", type: 2, i: 1 }],
    });
    expect(() => loadOnnx(attr, { name: "a.onnx" })).toThrow(
      'a.onnx: node "r" (Relu): unsupported attribute "bogus"',
    );
    const mode = oneNode({
      opType: "DepthToSpace",
      name: "d2s",
      input: ["x"],
      output: ["y"],
      attribute: [
        { name: "blocksize", type: 2, i: 2 },
        { name: "mode", type: 3, s: new TextEncoder().encode("XYZ") },
      ],
    });
    const net = loadOnnx(mode, { name: "b.onnx" });
    expect(() => tidy(() => net.run([tensor(new Float32Array(16), [1, 4, 2, 2])]))).toThrow(
      'b.onnx: node "d2s" (DepthToSpace): unsupported mode "XYZ" (supported: DCR, CRD)',
    );
  });

  it("an op from another domain, a dangling input, and a missing feed", () => {
    expect(() =>
      loadOnnx(
        oneNode({
          opType: "FusedConv",
          domain: "com.microsoft",
          name: "f",
          input: ["x"],
          output: ["y"],
        }),
      ),
    ).toThrow(/node "f" \(FusedConv\): op domain "com\.microsoft" is not supported/);
    expect(() =>
      loadOnnx(oneNode({ opType: "Add", name: "add", input: ["x", "nowhere"], output: ["y"] }), {
        name: "d.onnx",
      }),
    ).toThrow(
      'd.onnx: node "add" (Add): input(s) "nowhere" are never produced (or the graph has a cycle)',
    );
    const net = loadOnnx(oneNode({ opType: "Relu", name: "r", input: ["x"], output: ["y"] }), {
      name: "e.onnx",
    });
    expect(() => net.run({})).toThrow('e.onnx: no value for input "x" (inputs: x)');
  });

  it("a shape error at run time names the node", () => {
    const net = loadOnnx(
      oneNode({ opType: "MatMul", name: "mm", input: ["a", "b"], output: ["y"] }, 13, ["a", "b"]),
      { name: "s.onnx" },
    );
    expect(() =>
      tidy(() =>
        net.run([tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(6), [2, 3])]),
      ),
    ).toThrow(/^s\.onnx: node "mm" \(MatMul\): matmul: inner dimensions differ/);
  });

  it("truncated or corrupt files", () => {
    const good = bytes("small_cnn.onnx");
    expect(() =>
      OnnxModel.fromBytes(good.subarray(0, good.length / 2), { name: "t.onnx" }),
    ).toThrow(/^t\.onnx: not a valid ONNX model \(.*truncated\?\) at offset \d+\)$/);
    expect(() =>
      OnnxModel.fromBytes(new Uint8Array([0xff, 0xff, 0xff]), { name: "c.onnx" }),
    ).toThrow(/^c\.onnx: not a valid ONNX model/);
  });
});
