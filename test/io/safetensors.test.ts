/** safetensors: round trips, half-precision decoding against hand-computed values, bad files. */
import { describe, expect, it } from "vitest";
import {
  type NamedArray,
  readSafetensors,
  writeSafetensors,
} from "../../src/models/io/safetensors.ts";

/** A file from a header object and raw little-endian data. */
function build(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

const u16 = (bits: number[]) => new Uint8Array(new Uint16Array(bits).buffer);

describe("safetensors", () => {
  it("round-trips float32 tensors (names, shapes, values, metadata ignored)", () => {
    const t = new Map<string, NamedArray>([
      ["b.weight", { shape: [2, 3], values: Float32Array.from([1, -2, 3.5, 1e-30, -0, 7]) }],
      ["a", { shape: [], values: Float32Array.from([Math.PI]) }],
      ["empty", { shape: [0, 4], values: new Float32Array(0) }],
    ]);
    const bytes = writeSafetensors(t, { format: "pt" });
    // The header is padded to 8 bytes, as the reference writer does.
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    const back = readSafetensors(bytes);
    expect([...back.keys()]).toEqual(["a", "b.weight", "empty"]);
    for (const [k, v] of t) {
      expect(back.get(k)!.shape).toEqual(v.shape);
      expect(Array.from(back.get(k)!.values)).toEqual(Array.from(v.values));
    }
  });

  it("decodes float16 bit patterns to the values IEEE 754 defines", () => {
    // 0x3c00 = 1, 0xc000 = -2, 0x7bff = 65504 (largest finite), 0x0001 = 2^-24 (smallest
    // subnormal), 0x0400 = 2^-14 (smallest normal), 0x8000 = -0, 0x7c00 = +inf, 0x3555 = 1365/4096.
    const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x8000, 0x7c00, 0x3555];
    const file = build({ h: { dtype: "F16", shape: [8], data_offsets: [0, 16] } }, u16(bits));
    const got = Array.from(readSafetensors(file).get("h")!.values);
    expect(got).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14, -0, Infinity, 1365 / 4096]);
    expect(Object.is(got[5], -0)).toBe(true);
    const nan = build({ n: { dtype: "F16", shape: [1], data_offsets: [0, 2] } }, u16([0x7e00]));
    expect(Number.isNaN(readSafetensors(nan).get("n")!.values[0])).toBe(true);
  });

  it("decodes bfloat16 as the top half of a float32", () => {
    // 0x3f80 = 1, 0xc049 = -3.140625, 0x4049 = 3.140625, 0x7f80 = +inf, 0x0001 = 2^-133
    // (a float32 subnormal), 0x3c23 = 0x3c230000 as float32 = 0.0099487304...
    const bits = [0x3f80, 0xc049, 0x4049, 0x7f80, 0x0001, 0x3c23];
    const file = build({ b: { dtype: "BF16", shape: [2, 3], data_offsets: [0, 12] } }, u16(bits));
    const got = readSafetensors(file).get("b")!;
    expect(got.shape).toEqual([2, 3]);
    expect(Array.from(got.values)).toEqual([
      1,
      -3.140625,
      3.140625,
      Infinity,
      2 ** -133,
      163 / 16384,
    ]);
  });

  it("decodes the integer and float64 dtypes", () => {
    const data = new Uint8Array(8 + 8 + 4);
    const v = new DataView(data.buffer);
    v.setFloat64(0, 0.1, true);
    v.setBigInt64(8, -123456789n, true);
    v.setInt32(16, -7, true);
    const file = build(
      {
        d: { dtype: "F64", shape: [1], data_offsets: [0, 8] },
        l: { dtype: "I64", shape: [1], data_offsets: [8, 16] },
        i: { dtype: "I32", shape: [1], data_offsets: [16, 20] },
        __metadata__: { a: "b" },
      },
      data,
    );
    const got = readSafetensors(file);
    expect(got.get("d")!.values[0]).toBe(Math.fround(0.1));
    expect(got.get("l")!.values[0]).toBe(Math.fround(-123456789));
    expect(got.get("i")!.values[0]).toBe(-7);
  });

  describe("rejects bad files with the file name and what was wrong", () => {
    const good = writeSafetensors(
      new Map([["w", { shape: [2, 2], values: Float32Array.from([1, 2, 3, 4]) }]]),
    );
    const cases: [string, Uint8Array, RegExp][] = [
      ["too short", new Uint8Array(5), /^f\.st: 5 bytes is too short/],
      [
        "truncated header",
        good.subarray(0, 20),
        /^f\.st: header length \d+ runs past the end of the 20-byte file \(truncated\?\)/,
      ],
      [
        "truncated data",
        good.subarray(0, good.length - 4),
        /^f\.st: tensor "w" has offsets \[0,16\] outside the 12-byte data section/,
      ],
      [
        "bad JSON",
        build({}, new Uint8Array()).map((b, i) => (i === 8 ? 0x5b : b)),
        /^f\.st: header is not valid JSON/,
      ],
      [
        "header not an object",
        (() => {
          const b = build({}, new Uint8Array());
          b.set(new TextEncoder().encode("[]"), 8);
          return b;
        })(),
        /^f\.st: header must be a JSON object/,
      ],
      [
        "unknown dtype",
        build({ w: { dtype: "C64", shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)),
        /^f\.st: tensor "w" has unsupported dtype C64/,
      ],
      [
        "bad shape",
        build({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)),
        /^f\.st: tensor "w" has an invalid shape \[-1\]/,
      ],
      [
        "size mismatch",
        build({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
        /^f\.st: tensor "w" \[3\] F32 needs 12 bytes, offsets give 8/,
      ],
    ];
    it.each(cases)("%s", (_, bytes, message) => {
      expect(() => readSafetensors(bytes, "f.st")).toThrow(message);
    });
  });

  it("refuses to write values that do not fill the shape", () => {
    expect(() =>
      writeSafetensors(new Map([["x", { shape: [3], values: new Float32Array(2) }]])),
    ).toThrow('writeSafetensors: "x" has 2 values for shape [3]');
  });
});
