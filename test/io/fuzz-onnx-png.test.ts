/**
 * Bounded fuzzing of the ONNX importer and the image decoders: small valid files (built here) with
 * random byte flips, truncations, insertions and deletions. Every outcome must be a clean result
 * or an Error naming the source; never a stack overflow, an engine allocation failure or a hang.
 * For ONNX a model that loads is also run forward (where size bombs go off). Limits are lowered
 * for the test so that whatever a mutation asks for stays small and fast.
 */

import fc from "fast-check";
import jpeg from "jpeg-js";
import onnxProto from "onnx-proto";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tidy } from "../../src/autodiff/tidy.ts";
import { type ImportLimits, setImportLimits } from "../../src/models/io/limits.ts";
import { loadOnnx } from "../../src/models/io/onnx/model.ts";
import { tensor } from "../../src/ops/creation.ts";
import { decodeImageBytes } from "../../src/viz/image-io-node.ts";

/** What JavaScript says when a size or depth check is missing somewhere. */
const UNGUARDED =
  /Maximum call stack|Invalid typed array length|invalid size|Invalid array length|Array buffer allocation failed|too large for memory or the stack/;

let saved: ImportLimits;
beforeAll(() => {
  saved = setImportLimits({ maxTensorElements: 2 ** 16, maxImagePixels: 2 ** 16 });
});
afterAll(() => {
  setImportLimits(saved);
});

type Mutation =
  | { kind: "flip"; at: number; xor: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "word"; at: number; bytes: Uint8Array }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "delete"; at: number; length: number };

/** A byte position, uniform over the file (fast-check otherwise favours the first few bytes). */
const position = fc.noBias(fc.nat(1 << 20));

/** Mostly single-byte changes (they keep the structure and reach the decoder or the graph). */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("flip" as const),
      at: position,
      xor: fc.integer({ min: 1, max: 255 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      at: position,
      value: fc.constantFrom(0, 1, 2, 0x3f, 0x7f, 0x80, 0xff),
    }),
  },
  {
    // Four bytes of an "interesting" value: where a float scale or a count lives, a huge one.
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("word" as const),
      at: position,
      bytes: fc
        .constantFrom(1e7, 3.4e38, Number.NaN, -1, 0, 65536)
        .map((v) => new Uint8Array(Float32Array.of(v).buffer)),
    }),
  },
  fc.record({ kind: fc.constant("truncate" as const), at: position }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: position,
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: position,
    length: fc.integer({ min: 1, max: 8 }),
  }),
);

function mutate(src: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = Array.from(src);
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === "flip") b[at] ^= m.xor;
    else if (m.kind === "set") b[at] = m.value;
    else if (m.kind === "word") {
      for (let i = 0; i < m.bytes.length && at + i < b.length; i++) b[at + i] = m.bytes[i];
    } else if (m.kind === "truncate") b = b.slice(0, at);
    else if (m.kind === "insert") b.splice(at, 0, ...m.bytes);
    else b.splice(at, m.length);
  }
  return Uint8Array.from(b);
}

/** Runs fn; an error must be an Error naming `source` and no unguarded allocation or recursion. */
function cleanOutcome(source: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    const msg = (e as Error).message;
    expect(msg).toContain(source);
    expect(msg).not.toMatch(UNGUARDED);
  }
}

// --- ONNX -------------------------------------------------------------------------------------

const { onnx } = onnxProto;
const vi = (name: string) => ({ name, type: { tensorType: { elemType: 1 } } });
const floats = (name: string, dims: number[], f: (i: number) => number) => ({
  name,
  dataType: 1,
  dims,
  floatData: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => f(i)),
});
function model(nodes: onnxProto.onnx.INodeProto[], inits: onnxProto.onnx.ITensorProto[]) {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 13 }],
      graph: { name: "g", node: nodes, initializer: inits, input: [vi("x")], output: [vi("y")] },
    }),
  ).finish();
}

const MODELS: Record<string, Uint8Array> = {
  convRelu: model(
    [
      {
        opType: "Conv",
        name: "conv",
        input: ["x", "w", "b"],
        output: ["c"],
        attribute: [
          { name: "pads", type: 7, ints: [1, 1, 1, 1] },
          { name: "strides", type: 7, ints: [1, 1] },
        ],
      },
      { opType: "Relu", name: "relu", input: ["c"], output: ["y"] },
    ],
    [floats("w", [2, 1, 3, 3], (i) => (i % 5) - 2), floats("b", [2], (i) => i)],
  ),
  resize: model(
    [
      {
        opType: "Resize",
        name: "up",
        input: ["x", "", "s"],
        output: ["y"],
        attribute: [{ name: "mode", type: 3, s: new TextEncoder().encode("linear") }],
      },
    ],
    [floats("s", [4], (i) => (i < 2 ? 1 : 2))],
  ),
  reshapeNet: model(
    [
      { opType: "Shape", name: "shape", input: ["x"], output: ["sh"] },
      { opType: "Reshape", name: "flat", input: ["x", "t"], output: ["f"] },
      { opType: "Tile", name: "tile", input: ["f", "reps"], output: ["g"] },
      { opType: "Expand", name: "grow", input: ["g", "e"], output: ["y"] },
    ],
    [
      { name: "t", dataType: 7, dims: [2], int64Data: [1, -1] },
      { name: "reps", dataType: 7, dims: [2], int64Data: [2, 1] },
      { name: "e", dataType: 7, dims: [3], int64Data: [2, 2, 36] },
    ],
  ),
};

describe("mutated ONNX models load, run, or fail naming the file", () => {
  const x = Float32Array.from({ length: 36 }, (_, i) => Math.sin(i));
  for (const [name, base] of Object.entries(MODELS)) {
    it(`${name} (${base.length} bytes)`, { timeout: 30_000 }, () => {
      // The unmutated model runs: the fuzz starts from a working file.
      tidy(() => loadOnnx(base, { name: "fuzz.onnx" }).run([tensor(x, [1, 1, 6, 6])]));
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 2 }), (ms) => {
          const bytes = mutate(base, ms);
          cleanOutcome("fuzz.onnx", () => {
            const m = loadOnnx(bytes, { name: "fuzz.onnx" });
            tidy(() => {
              const out = m.run(m.inputNames.map(() => tensor(x, [1, 1, 6, 6])));
              for (const v of Object.values(out)) v.dataSync();
            });
          });
        }),
        { numRuns: 200, seed: 20240611 },
      );
    });
  }
});

// --- images -----------------------------------------------------------------------------------

function smallPng(): Uint8Array {
  const png = new PNG({ width: 12, height: 9 });
  for (let p = 0; p < 12 * 9; p++) png.data.set([p * 2, 255 - p, (p * 7) & 255, 255], p * 4);
  return new Uint8Array(PNG.sync.write(png));
}

function smallJpeg(): Uint8Array {
  const data = new Uint8Array(12 * 9 * 4);
  for (let p = 0; p < 12 * 9; p++) data.set([p * 2, 255 - p, (p * 7) & 255, 255], p * 4);
  return new Uint8Array(jpeg.encode({ data, width: 12, height: 9 }, 80).data);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** Rewrites each whole chunk's CRC, so mutations reach the decoder instead of the CRC check. */
function fixCrcs(b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  const view = new DataView(out.buffer);
  let pos = 8;
  while (pos + 12 <= out.length) {
    const len = view.getUint32(pos);
    if (pos + 12 + len > out.length) break;
    let c = 0xffffffff;
    for (let i = pos + 4; i < pos + 8 + len; i++) c = CRC_TABLE[(c ^ out[i]) & 0xff] ^ (c >>> 8);
    view.setUint32(pos + 8 + len, (c ^ 0xffffffff) >>> 0);
    pos += 12 + len;
  }
  return out;
}

describe("mutated images decode to a whole picture or fail naming the file", () => {
  const decodesCleanly = (bytes: Uint8Array, source: string) =>
    cleanOutcome(source, () => {
      const img = decodeImageBytes(bytes, source);
      expect(img.width * img.height).toBeGreaterThan(0);
      expect(img.width * img.height).toBeLessThanOrEqual(2 ** 16);
      expect(img.rgba.length).toBe(img.width * img.height * 4);
    });

  it("PNG, with and without CRCs repaired after mutating", { timeout: 30_000 }, () => {
    const base = smallPng();
    decodesCleanly(base, "fuzz.png");
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 2 }), fc.boolean(), (ms, fix) => {
        const bytes = mutate(base, ms);
        decodesCleanly(fix ? fixCrcs(bytes) : bytes, "fuzz.png");
      }),
      { numRuns: 200, seed: 20240612 },
    );
  });

  it("JPEG", { timeout: 30_000 }, () => {
    const base = smallJpeg();
    decodesCleanly(base, "fuzz.jpg");
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 2 }), (ms) =>
        decodesCleanly(mutate(base, ms), "fuzz.jpg"),
      ),
      { numRuns: 200, seed: 20240613 },
    );
  });
});
