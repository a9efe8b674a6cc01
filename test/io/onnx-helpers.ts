/** For the ONNX importer's tests: small graphs as model bytes, and a closeness check. */
import onnxProto from "onnx-proto";
import { expect } from "vitest";

const { onnx } = onnxProto;

/** A float32 graph input or output named `name`. */
export const floatValue = (name: string) => ({ name, type: { tensorType: { elemType: 1 } } });

/** The bytes of a model (IR 8) whose graph "g" has float inputs and outputs by name. */
export function encodeGraph(o: {
  nodes: onnxProto.onnx.INodeProto[];
  initializers: onnxProto.onnx.ITensorProto[];
  inputs: string[];
  outputs: string[];
  opset: number;
}): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: o.opset }],
      graph: {
        name: "g",
        node: o.nodes,
        initializer: o.initializers,
        input: o.inputs.map(floatValue),
        output: o.outputs.map(floatValue),
      },
    }),
  ).finish();
}

/** max |a - b| / max(1, |b|) below tol, elementwise (equal lengths). */
export function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  expect(worst).toBeLessThan(tol);
}
