/** Small ONNX graphs for tests: float value infos and a one-graph model's bytes. */
import onnxProto from "onnx-proto";

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
