/**
 * MaxPool's Indices output and integer (uint8) MaxPool in the ONNX importer, as one-node graphs
 * against hand-computed windows: first maximum in scan order on ties, windows clipped by padding,
 * strides, storage_order 0 (row major) and 1 (column major within each (n, c) plane).
 */
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { tidy } from "../../src/autodiff/tidy.ts";
import { HostArray } from "../../src/models/io/onnx/host.ts";
import { loadOnnx } from "../../src/models/io/onnx/model.ts";
import { tensor } from "../../src/ops/creation.ts";

const { onnx } = onnxProto;
const FLOAT = 1;
const UINT8 = 2;
const INT64 = 7;

const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
const int = (name: string, v: number) => ({ name, type: 2, i: v });

function model(
  opType: string,
  inputs: [string, number][],
  outputs: [string, number][],
  attribute: object[] = [],
) {
  const vi = ([name, elemType]: [string, number]) => ({ name, type: { tensorType: { elemType } } });
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 12 }],
      graph: {
        name: "g",
        node: [
          {
            opType,
            name: opType,
            input: inputs.map(([n]) => n),
            output: outputs.map(([n]) => n),
            attribute,
          },
        ],
        input: inputs.map(vi),
        output: outputs.map(vi),
      },
    }),
  ).finish();
  return loadOnnx(bytes, { name: `${opType}.onnx` });
}

/** Runs MaxPool (values and indices) on a float input; returns both as plain arrays. */
function maxPool(x: number[], shape: number[], attribute: object[]) {
  const net = model(
    "MaxPool",
    [["x", FLOAT]],
    [
      ["y", FLOAT],
      ["i", INT64],
    ],
    attribute,
  );
  return tidy(() => {
    const out = net.run([tensor(Float32Array.from(x), shape)]);
    return {
      y: Array.from(out.y.dataSync()),
      yShape: out.y.shape,
      i: Array.from(out.i.dataSync()),
      iShape: out.i.shape,
    };
  });
}

describe("ONNX MaxPool Indices", () => {
  it("picks the first maximum in scan order when a window ties", () => {
    // [[5, 5, 1],      window (0,0): 5@0 5@1 5@3 2@4 -> 0
    //  [5, 2, 5]]      window (0,1): 5@1 1@2 2@4 5@5 -> 1
    const r = maxPool([5, 5, 1, 5, 2, 5], [1, 1, 2, 3], [ints("kernel_shape", [2, 2])]);
    expect(r.y).toEqual([5, 5]);
    expect(r.i).toEqual([0, 1]);
    expect(r.iShape).toEqual([1, 1, 1, 2]);
  });

  it("clips windows to the input under padding and strides", () => {
    // [[3, 1, 2], [4, 9, 0], [7, 5, 8]] with pads 1 and stride 2: window origins -1 and 1.
    // (0,0): {3@0}; (0,1): {1@1, 2@2}; (1,0): {4@3, 7@6}; (1,1): {9@4, 0@5, 5@7, 8@8}.
    const r = maxPool(
      [3, 1, 2, 4, 9, 0, 7, 5, 8],
      [1, 1, 3, 3],
      [ints("kernel_shape", [2, 2]), ints("pads", [1, 1, 1, 1]), ints("strides", [2, 2])],
    );
    expect(r.y).toEqual([3, 2, 7, 9]);
    expect(r.i).toEqual([0, 2, 6, 4]);
  });

  // Two channels of H=2, W=3, kernel [1, 2]: channel 0 [[1, 6, 2], [8, 3, 4]] has maxima at
  // (0,1) (0,1) (1,0) (1,2); channel 1 [[0, -1, -2], [5, 5, 7]] at (0,0) (0,1) (1,0) (tie) (1,2).
  const x = [1, 6, 2, 8, 3, 4, 0, -1, -2, 5, 5, 7];
  const shape = [1, 2, 2, 3];

  it("numbers positions row major with storage_order 0, across channels", () => {
    const r = maxPool(x, shape, [ints("kernel_shape", [1, 2]), int("storage_order", 0)]);
    expect(r.y).toEqual([6, 6, 8, 4, 0, -1, 5, 7]);
    // h * W + w, plus 6 per channel.
    expect(r.i).toEqual([1, 1, 3, 5, 6, 7, 9, 11]);
  });

  it("numbers positions column major with storage_order 1 (h + w * H, same plane offsets)", () => {
    const r = maxPool(x, shape, [ints("kernel_shape", [1, 2]), int("storage_order", 1)]);
    expect(r.y).toEqual([6, 6, 8, 4, 0, -1, 5, 7]);
    expect(r.i).toEqual([2, 2, 1, 5, 6, 8, 7, 11]);
  });

  it("handles 1-D pooling with pads, strides and a tie", () => {
    // [2, 7, 7, 1, 3], kernel 3, stride 2, pads 1: windows {2@0, 7@1}, {7@1, 7@2, 1@3}, {1@3, 3@4}.
    const r = maxPool(
      [2, 7, 7, 1, 3],
      [1, 1, 5],
      [ints("kernel_shape", [3]), ints("strides", [2]), ints("pads", [1, 1])],
    );
    expect(r.y).toEqual([7, 7, 3]);
    expect(r.i).toEqual([1, 1, 4]);
    expect(r.iShape).toEqual([1, 1, 3]);
  });

  it("follows dilated windows", () => {
    // [[1, 9, 2], [8, 3, 7], [4, 6, 5]], kernel 2x2 dilated by 2: one window {1@0, 2@2, 4@6, 5@8}.
    const r = maxPool(
      [1, 9, 2, 8, 3, 7, 4, 6, 5],
      [1, 1, 3, 3],
      [ints("kernel_shape", [2, 2]), ints("dilations", [2, 2])],
    );
    expect(r.y).toEqual([5]);
    expect(r.i).toEqual([8]);
  });

  it("refuses a storage_order other than 0 or 1", () => {
    const net = model(
      "MaxPool",
      [["x", FLOAT]],
      [
        ["y", FLOAT],
        ["i", INT64],
      ],
      [ints("kernel_shape", [2, 2]), int("storage_order", 2)],
    );
    expect(() => tidy(() => net.run([tensor(new Float32Array(4), [1, 1, 2, 2])]))).toThrow(
      /storage_order 2 should be 0 or 1/,
    );
  });
});

describe("ONNX uint8 values", () => {
  it("MaxPool keeps uint8 values exact at the top of the range", () => {
    const net = model("MaxPool", [["x", UINT8]], [["y", UINT8]], [ints("kernel_shape", [2, 2])]);
    const x = HostArray.of("uint8", [1, 1, 2, 3], [255, 0, 254, 7, 200, 253]);
    // Windows {255, 0, 7, 200} and {0, 254, 200, 253}.
    const y = tidy(() => Array.from(net.run([x]).y.dataSync()));
    expect(y).toEqual([255, 254]);
  });

  it("uint8 Add and Sub wrap around modulo 256", () => {
    const a = HostArray.of("uint8", [3], [250, 3, 128]);
    const b = HostArray.of("uint8", [3], [10, 5, 128]);
    const add = model(
      "Add",
      [
        ["a", UINT8],
        ["b", UINT8],
      ],
      [["c", UINT8]],
    );
    const sub = model(
      "Sub",
      [
        ["a", UINT8],
        ["b", UINT8],
      ],
      [["c", UINT8]],
    );
    expect(tidy(() => Array.from(add.run([a, b]).c.dataSync()))).toEqual([4, 8, 0]);
    expect(tidy(() => Array.from(sub.run([a, b]).c.dataSync()))).toEqual([240, 254, 0]);
  });
});
