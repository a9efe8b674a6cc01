/**
 * The wasm SIMD elementwise loops against float64 arithmetic rounded to float32 (exact for + - *
 * /), across chunk boundaries (16384 floats), lengths that are not multiples of 4, and IEEE corner
 * values (signed zeros, subnormals, infinities, NaN) in every position.
 */
import { describe, expect, test } from "vitest";
import {
  CHUNK,
  elementwiseSimd,
  elementwiseSimdAvailable,
} from "../../src/kernels/cpu/wasm/elementwise-simd.ts";
import { Rng } from "../reference/rng.ts";

const SPECIAL = [0, -0, 1e-45, -1e-45, 3.4e38, -3.4e38, Infinity, -Infinity, NaN].map(Math.fround);

function operand(r: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () =>
    r.bool(0.1) ? SPECIAL[r.int(0, SPECIAL.length - 1)] : r.uniform(-4, 4),
  );
}

const REF: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  relu: (a) => (Number.isNaN(a) ? a : Math.max(a, 0)),
  step: (a) => (Number.isNaN(a) ? a : a > 0 ? 1 : 0),
  // a times step(b): a NaN b gives NaN, an infinite a where b <= 0 gives NaN (Inf * 0).
  mulStep: (a, b) => a * (Number.isNaN(b) ? b : b > 0 ? 1 : 0),
};

/** Same value, NaN matching NaN, and +0 told apart from -0. */
function same(got: number, want: number): boolean {
  return Number.isNaN(want) ? Number.isNaN(got) : Object.is(got, want);
}

describe("wasm SIMD elementwise", () => {
  test("available in this runtime (Node has wasm SIMD)", () => {
    expect(elementwiseSimdAvailable()).toBe(true);
  });
  for (const n of [1, 3, 255, CHUNK - 1, CHUNK, CHUNK + 5, 2 * CHUNK + 3]) {
    test(`add, sub, mul, div, relu, step, mulStep on ${n} floats`, () => {
      const r = new Rng(n);
      const a = operand(r, n);
      const b = operand(r, n);
      for (const op of ["add", "sub", "mul", "div", "relu", "step", "mulStep"] as const) {
        const unary = op === "relu" || op === "step";
        const out = new Float32Array(n).fill(7);
        expect(elementwiseSimd(op, a, unary ? null : b, out)).toBe(true);
        for (let i = 0; i < n; i++) {
          const want = Math.fround(REF[op](a[i], b[i]));
          if (!same(out[i], want)) {
            throw new Error(`${op} at ${i} of ${n}: ${a[i]}, ${b[i]} gave ${out[i]}, want ${want}`);
          }
        }
      }
    });
  }
});
