import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { recycle } from "../../src/kernels/cpu/buffers.ts";
import { pad, slice, transpose } from "../../src/kernels/cpu/layout.ts";

/** out[i] by definition: the input element at the permuted multi-index. */
function naiveTranspose(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  const rank = shape.length;
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const outShape = perm.map((p) => shape[p]);
  const out = new Float32Array(x.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let ax = 0; ax < rank; ax++) src += idx[ax] * inStrides[perm[ax]];
    out[o] = x[src];
    for (let ax = rank - 1; ax >= 0; ax--) {
      if (++idx[ax] < outShape[ax]) break;
      idx[ax] = 0;
    }
  }
  return out;
}

describe("CPU transpose fast paths", () => {
  it("pixel shuffle and its inverse (short output rows from long input rows, and strided reads)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 64, max: 80 }),
        (n, c, r, h, w) => {
          const shape = [n, c, r, r, h, w];
          const x = Float32Array.from({ length: n * c * r * r * h * w }, (_, i) => i);
          // Depth-to-space: [N, C, r, r, H, W] -> [N, C, H, r, W, r] (output rows of length r).
          const fwd = [0, 1, 4, 2, 5, 3];
          const y = transpose(x, shape, fwd) as Float32Array;
          expect(y).toEqual(naiveTranspose(x, shape, fwd));
          // Space-to-depth back: rows of length W read with step r.
          const yShape = fwd.map((p) => shape[p]);
          const back = [0, 1, 3, 5, 2, 4];
          const z = transpose(y, yShape, back) as Float32Array;
          expect(z).toEqual(x);
          // Recycled buffers are not zeroed: run again into them and compare once more.
          recycle(y);
          recycle(z);
          expect(transpose(x, shape, fwd)).toEqual(naiveTranspose(x, shape, fwd));
        },
      ),
      { numRuns: 12 },
    );
  });

  it("any permutation of a random shape matches the definition", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (dims, seed) => {
          fc.pre(dims.reduce((a, b) => a * b, 1) <= 40000);
          const perm = dims.map((_, i) => i);
          let s = seed;
          for (let i = perm.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) % 2 ** 31;
            const j = s % (i + 1);
            [perm[i], perm[j]] = [perm[j], perm[i]];
          }
          const x = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => i);
          expect(transpose(x, dims, perm)).toEqual(naiveTranspose(x, dims, perm));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("CPU conv-kernel flip-swap fast paths", () => {
  it("[A, B, k] -> [B, A, k] and [A, B] -> [B, A] in tiles (edges not multiples of the tile)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 3 }),
        (a, b, k, lead) => {
          const x = Float32Array.from({ length: lead * a * b * k }, (_, i) => i);
          // Leading size-1 axes coalesce away ([1, O, C, kh, kw] as convInputGrad writes it).
          const shape = [1, a, b, k];
          expect(transpose(x.subarray(0, a * b * k), shape, [0, 2, 1, 3])).toEqual(
            naiveTranspose(x.subarray(0, a * b * k), shape, [0, 2, 1, 3]),
          );
          expect(transpose(x.subarray(0, a * b), [a, b], [1, 0])).toEqual(
            naiveTranspose(x.subarray(0, a * b), [a, b], [1, 0]),
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it("reversing whole trailing axes (a kernel's flip), of all rows or a range of them", () => {
    const x = Float32Array.from({ length: 5 * 2 * 3 }, (_, i) => i);
    // Both kernel axes of [5, 2, 3] reversed: each row of 6 backwards.
    const want = Array.from({ length: 30 }, (_, i) => 6 * Math.floor(i / 6) + 5 - (i % 6));
    expect(Array.from(slice(x, [5, 2, 3], [0, 1, 2], [5, 2, 3], [1, -1, -1]))).toEqual(want);
    // Rows 1 .. 3 only.
    expect(Array.from(slice(x, [5, 2, 3], [1, 1, 2], [3, 2, 3], [1, -1, -1]))).toEqual(
      want.slice(6, 24),
    );
    // The last axis alone reversed: rows of 3.
    expect(Array.from(slice(x, [10, 3], [0, 2], [10, 3], [1, -1]))).toEqual(
      Array.from({ length: 30 }, (_, i) => 3 * Math.floor(i / 3) + 2 - (i % 3)),
    );
  });
});

describe("CPU pad rows with fill entries", () => {
  it("a row of one value then padding is not read as a descending run (x[-1])", () => {
    // Last-axis map [0, -1]: its second entry is the fill, not the step 0 -> -1 of a reversed row.
    expect(Array.from(pad(new Float32Array([5]), [1], [[0, 1]], "constant", 7))).toEqual([5, 7]);
    expect(
      Array.from(
        pad(
          new Float32Array([1, 2]),
          [1, 2],
          [
            [0, 0],
            [1, 2],
          ],
          "constant",
          0,
        ),
      ),
    ).toEqual([0, 1, 2, 0, 0]);
  });

  it("reflect and replicate rows match their definitions on random lengths", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.nat(3), fc.nat(3), (n, before, after) => {
        const x = Float32Array.from({ length: n }, (_, i) => i + 1);
        for (const mode of ["reflect", "replicate"] as const) {
          fc.pre(mode !== "reflect" || (before < n && after < n));
          const src = (i: number) => {
            if (mode === "replicate") return Math.min(Math.max(i, 0), n - 1);
            return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
          };
          const want = Array.from({ length: n + before + after }, (_, i) => x[src(i - before)]);
          expect(Array.from(pad(x, [n], [[before, after]], mode, 0))).toEqual(want);
        }
      }),
      { numRuns: 40 },
    );
  });
});
