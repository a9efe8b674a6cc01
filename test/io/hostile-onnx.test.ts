/**
 * Hostile ONNX files (scripts/fixtures/make_hostile_onnx.mjs): tiny models whose ops compute
 * gigabyte-sized intermediates from their attributes or constants, op and attribute names that are
 * Object.prototype members, deep nesting, and graphs listed backwards. Each must be refused before
 * allocating, with an error naming the file, the node and the size; expected sizes are worked out
 * here from the generator's parameters.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { afterEach, describe, expect, it } from "vitest";
import { reversedChain } from "../../scripts/fixtures/make_hostile_onnx.mjs";
import { tidy } from "../../src/autodiff/tidy.ts";
import { LimitError, setImportLimits, withImportLimits } from "../../src/models/io/limits.ts";
import { OnnxUnsupportedError } from "../../src/models/io/onnx/errors.ts";
import { loadOnnx, readOnnxInitializers } from "../../src/models/io/onnx/model.ts";
import { tensor } from "../../src/ops/creation.ts";
import { reshape } from "../../src/ops/reshape.ts";

const DIR = join(import.meta.dirname, "..", "fixtures", "hostile", "onnx");
const path = (n: string) => join(DIR, n);
const bytes = (n: string) => new Uint8Array(readFileSync(path(n)));
const input28 = () =>
  tensor(
    Float32Array.from({ length: 784 }, (_, i) => (i % 7) - 3),
    [1, 1, 28, 28],
  );

/** Loads and runs a fixture (feeding the 28x28 input when the graph has one); returns the error. */
function refusal(name: string): Error {
  try {
    const m = loadOnnx(bytes(name), { name: path(name) });
    tidy(() => m.run(m.inputNames.length ? [input28()] : []));
  } catch (e) {
    return e as Error;
  }
  throw new Error(`${name} was not refused`);
}

describe("graph intermediates sized by the file are checked before allocating", () => {
  // [file, node, op, element count the node asks for]
  const cases: [string, string, string, number][] = [
    // Resize nearest, scales [1,1,1,1e7] on [1,1,28,28]: 28 x 2.8e8.
    ["resize_huge_scale.onnx", "up", "Resize", 28 * 28 * 1e7],
    // Upsample (opset 7) scales [1,1,1e4,1e4]: (28e4)^2.
    ["upsample_huge_scale.onnx", "up", "Upsample", 28e4 * 28e4],
    ["constant_of_shape_huge.onnx", "fill", "ConstantOfShape", 30000 * 30000],
    // Expand to [1e6,1,28,28]: the requested shape itself is refused.
    ["expand_huge.onnx", "grow", "Expand", 1e6 * 28 * 28],
    ["tile_huge.onnx", "rep", "Tile", 28e4 * 28e4],
    // Pad 1e5 on each side of both spatial axes: (28 + 2e5)^2.
    ["pad_huge.onnx", "pad", "Pad", 200028 * 200028],
    // [40000,1] * [1,40000] broadcasts to 1.6e9; MatMul of the same is an outer product.
    ["broadcast_outer_product.onnx", "outer", "Mul", 40000 * 40000],
    ["matmul_outer_product.onnx", "outer", "MatMul", 40000 * 40000],
    // Conv pads of 1e5: the padded input is (28 + 2e5)^2.
    ["conv_huge_pads.onnx", "conv", "Conv", 200028 * 200028],
  ];
  for (const [file, node, op, count] of cases) {
    it(`${file}: ${op} asking for ${count.toExponential(2)} elements`, () => {
      const e = refusal(file);
      expect(e).toBeInstanceOf(LimitError);
      const limit = e as LimitError;
      expect(limit.limit).toBe("maxTensorElements");
      expect(limit.value).toBe(count);
      expect(e.message.startsWith(`${path(file)}: node "${node}" (${op}): `)).toBe(true);
      expect(e.message).toMatch(
        /graph intermediate.*over the limit of 2\.68e\+8 \(maxTensorElements/,
      );
    });
  }

  it("Range from 0 to 1e12 by 1 is refused by its length", () => {
    const e = refusal("range_huge.onnx") as LimitError;
    expect(e).toBeInstanceOf(LimitError);
    // 1e12 stored as float32 is 999999995904.
    expect(e.value).toBe(Math.fround(1e12));
    expect(e.message).toContain(`${path("range_huge.onnx")}: node "count" (Range)`);
  });

  it("a negative dimension is refused by name, not as an invalid array length", () => {
    const e = refusal("constant_of_shape_negative.onnx");
    expect(e.message).toBe(
      `${path("constant_of_shape_negative.onnx")}: node "fill" (ConstantOfShape): its output [-1,5] has dimension -1; dimensions must be non-negative integers`,
    );
  });
});

const { onnx } = onnxProto;
function oneNode(node: onnxProto.onnx.INodeProto, inits: onnxProto.onnx.ITensorProto[] = []) {
  const vi = (name: string) => ({ name, type: { tensorType: { elemType: 1 } } });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 13 }],
      graph: {
        name: "g",
        node: [node],
        initializer: inits,
        input: [vi("x")],
        output: (node.output ?? []).map(vi),
      },
    }),
  ).finish();
}

describe("the limit is a limit, not a ban", () => {
  afterEach(() => setImportLimits({ maxTensorElements: 2 ** 28 }));
  const resize2x = oneNode({ opType: "Resize", name: "up", input: ["x", "", "s"], output: ["y"] }, [
    { name: "s", dataType: 1, dims: [4], floatData: [1, 1, 2, 2] },
  ]);

  it("a 2x nearest Resize runs under the default limit and matches the hand-computed result", () => {
    const m = loadOnnx(resize2x, { name: "r.onnx" });
    const y = tidy(() => m.run([tensor([1, 2, 3, 4], [1, 1, 2, 2])]).y.dataSync());
    expect([...y]).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it("and is refused when maxTensorElements is lowered below its 16 output elements", () => {
    const m = loadOnnx(resize2x, { name: "r.onnx" });
    withImportLimits({ maxTensorElements: 15 }, () => {
      expect(() => m.run([tensor([1, 2, 3, 4], [1, 1, 2, 2])])).toThrow(
        'r.onnx: node "up" (Resize): the element count of its output [1,1,4,4] (a graph intermediate) is 16, over the limit of 15',
      );
    });
  });
});

describe("names read from the file never hit Object.prototype", () => {
  for (const [file, op] of [
    ["op_constructor.onnx", "constructor"],
    ["op_toString.onnx", "toString"],
    ["op_proto.onnx", "__proto__"],
  ]) {
    it(`op type "${op}" is an unsupported op`, () => {
      expect(() => loadOnnx(bytes(file), { name: path(file) })).toThrow(OnnxUnsupportedError);
      expect(() => loadOnnx(bytes(file), { name: path(file) })).toThrow(
        `${path(file)}: node "n" (${op}): unsupported ONNX op "${op}" (supported: Abs, `,
      );
    });
  }

  it('an attribute named "constructor" is an unsupported attribute', () => {
    expect(() => loadOnnx(bytes("attr_constructor.onnx"), { name: "a.onnx" })).toThrow(
      'a.onnx: node "n" (Relu): unsupported attribute "constructor"',
    );
  });

  it("unknown element type codes, in an initializer and in Cast", () => {
    expect(() => loadOnnx(bytes("dtype_unknown.onnx"), { name: "d.onnx" })).toThrow(
      /^d\.onnx: initializer "w": unsupported tensor element type 999 \(supported: float32, /,
    );
    const m = loadOnnx(bytes("cast_to_unknown.onnx"), { name: "c.onnx" });
    expect(() => tidy(() => m.run([input28()]))).toThrow(
      /^c\.onnx: node "n" \(Cast\): unsupported tensor element type 1000/,
    );
  });
});

describe("nesting and graph size", () => {
  it("1200 levels of If subgraphs: refused as an unsupported op, no stack overflow", () => {
    expect(() => loadOnnx(bytes("nested_subgraphs.onnx"), { name: "n.onnx" })).toThrow(
      /^n\.onnx: node "#0" \(If\): unsupported ONNX op "If"/,
    );
  });

  it("an unknown field nested 5000 deep is skipped; the Relu model behind it runs", () => {
    const m = loadOnnx(bytes("nested_unknown_field.onnx"), { name: "u.onnx" });
    const x = input28();
    const y = tidy(() => m.run([x]).y.dataSync());
    const want = Array.from(x.dataSync(), (v) => Math.max(v, 0));
    expect([...y]).toEqual(want);
  });

  it("message nesting counts against maxNestingDepth", () => {
    // ModelProto > GraphProto > NodeProto is depth 2 (the model itself is 0).
    withImportLimits({ maxNestingDepth: 1 }, () => {
      expect(() => loadOnnx(bytes("nested_unknown_field.onnx"), { name: "u.onnx" })).toThrow(
        /^u\.onnx: not a valid ONNX model \(the message nesting depth is 2, over the limit of 1 \(maxNestingDepth/,
      );
    });
  });

  it("a 20000-node chain listed backwards is ordered and runs (relu applied 20000 times)", () => {
    const m = loadOnnx(reversedChain(20000), { name: "chain.onnx" });
    const y = tidy(() => m.run([tensor([-1, 2, -3, 4], [1, 1, 2, 2])]).y.dataSync());
    expect([...y]).toEqual([0, 2, 0, 4]);
  });
});

describe("errors name the file and the problem", () => {
  it("Reshape prints shapes as [..], a scalar as [] (a scalar), and names the node", () => {
    const reshape = (target: number[]) =>
      oneNode({ opType: "Reshape", name: "flat", input: ["x", "t"], output: ["y"] }, [
        { name: "t", dataType: 7, dims: [target.length], int64Data: target },
      ]);
    const scalar = loadOnnx(reshape([0, -1]), { name: "s.onnx" });
    expect(() => tidy(() => scalar.run([tensor([5], [])]))).toThrow(
      's.onnx: node "flat" (Reshape): cannot reshape input [] (a scalar) (1 elements) to [0,-1]: 0 at position 0 copies an input dimension the rank-0 input lacks',
    );
    const odd = loadOnnx(reshape([5, -1]), { name: "o.onnx" });
    expect(() => tidy(() => odd.run([input28()]))).toThrow(
      'o.onnx: node "flat" (Reshape): cannot reshape input [1,1,28,28] (784 elements) to [5,-1]: -1 cannot be inferred (the other dimensions hold 5 elements)',
    );
  });

  it("the engine's reshape of a scalar model output as [batch, -1] says the output is a scalar", () => {
    const y = tensor([3], []);
    expect(() => reshape(y, [y.shape[0], -1])).toThrow(
      "reshape: target shape [undefined,-1] must hold integers >= -1 (input [] (a scalar))",
    );
    expect(() => reshape(tensor([1, 2, 3], [3]), [2, -1])).toThrow(
      "reshape: cannot infer -1 in [2,-1] for the 3 elements of [3]",
    );
  });

  it("without a name the errors still say what was read; readOnnxInitializers names its file", () => {
    expect(() => loadOnnx(bytes("op_toString.onnx"))).toThrow(/^ONNX model: node "n" \(toString\)/);
    const cut = bytes("resize_huge_scale.onnx").subarray(0, 50);
    expect(() => readOnnxInitializers(cut, "w.onnx")).toThrow(/^w\.onnx: not a valid ONNX model/);
  });
});
