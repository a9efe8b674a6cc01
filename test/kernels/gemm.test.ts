import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DenseBPacker, gemm, gemmPackB, setGemmImpl } from "../../src/kernels/cpu/gemm.ts";
import { setWholeCFloats } from "../../src/kernels/cpu/wasm/gemm-wasm.ts";
import { uniformSource } from "../reference/rng.ts";

/** Both micro-kernels: wasm SIMD (float32 sums) and the TS fallback (float64 sums). */
const kernelImpls = ["wasm", "ts"] as const;

interface Case {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  aOff: number;
  bOff: number;
  cOff: number;
  padA: number;
  padB: number;
  padC: number;
  accumulate: boolean;
  seed: number;
}

/** Runs gemm on buffers with offsets and slack, checks every element of C, slack included. */
function check(t: Case): void {
  const { m, n, k, transA, transB, aOff, bOff, cOff, accumulate } = t;
  const lda = (transA ? m : k) + t.padA;
  const ldb = (transB ? k : n) + t.padB;
  const ldc = n + t.padC;
  const rand = uniformSource(t.seed);
  const a = Float32Array.from({ length: aOff + (transA ? k : m) * lda }, rand);
  const b = Float32Array.from({ length: bOff + (transB ? n : k) * ldb }, rand);
  const c = Float32Array.from({ length: cOff + m * ldc }, rand);
  const c0 = c.slice();
  const opA = (i: number, p: number) => (transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p]);
  const opB = (p: number, j: number) => (transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j]);

  gemm(m, n, k, a, aOff, lda, transA, b, bOff, ldb, transB, c, cOff, ldc, accumulate);

  for (let idx = 0; idx < c.length; idx++) {
    const r = idx - cOff;
    const i = Math.floor(r / ldc);
    const j = r - i * ldc;
    if (r < 0 || j >= n) {
      // Offsets and leading-dimension slack must be left alone.
      expect(c[idx]).toBe(c0[idx]);
      continue;
    }
    let want = accumulate ? c0[idx] : 0;
    let scale = Math.abs(want);
    for (let p = 0; p < k; p++) {
      want += opA(i, p) * opB(p, j);
      scale += Math.abs(opA(i, p) * opB(p, j));
    }
    const err = Math.abs(c[idx] - want);
    if (!(err <= 1e-5 * scale + 1e-7)) {
      throw new Error(
        `C[${i},${j}] = ${c[idx]}, want ${want} (err ${err}) in ${JSON.stringify({ ...t, lda, ldb, ldc })}`,
      );
    }
  }
}

const caseArb = (maxM: number, maxN: number, maxK: number) =>
  fc.record({
    m: fc.integer({ min: 1, max: maxM }),
    n: fc.integer({ min: 1, max: maxN }),
    k: fc.integer({ min: 1, max: maxK }),
    transA: fc.boolean(),
    transB: fc.boolean(),
    aOff: fc.integer({ min: 0, max: 5 }),
    bOff: fc.integer({ min: 0, max: 5 }),
    cOff: fc.integer({ min: 0, max: 5 }),
    padA: fc.integer({ min: 0, max: 3 }),
    padB: fc.integer({ min: 0, max: 3 }),
    padC: fc.integer({ min: 0, max: 3 }),
    accumulate: fc.boolean(),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  });

const base: Case = {
  m: 1,
  n: 1,
  k: 1,
  transA: false,
  transB: false,
  aOff: 0,
  bOff: 0,
  cOff: 0,
  padA: 0,
  padB: 0,
  padC: 0,
  accumulate: false,
  seed: 7,
};

for (const which of kernelImpls) {
  describe(`gemm (${which} kernel)`, () => {
    beforeAll(() => setGemmImpl(which));
    afterAll(() => setGemmImpl("auto"));
    describe("gemm", () => {
      it("matches a float64 triple loop on small random shapes, transposes, offsets and strides", () => {
        fc.assert(fc.property(caseArb(13, 13, 13), check), { numRuns: 300 });
      });

      it("matches on shapes that cross the MC and KC block edges", () => {
        fc.assert(fc.property(caseArb(80, 40, 600), check), { numRuns: 25 });
      });

      it("handles panels wider than NC (n > 2048) with k > KC and accumulate", () => {
        for (const transB of [false, true]) {
          check({ ...base, m: 5, n: 2053, k: 260, transB, accumulate: true, padC: 2, cOff: 3 });
        }
      });

      it.skipIf(which !== "wasm")("gives the same with C block by block instead of whole", () => {
        // The wasm GEMM computes a C of up to 16 MiB whole in its memory; the block-by-block
        // path (larger C, a C sink) is taken here for every shape.
        const prev = setWholeCFloats(0);
        try {
          fc.assert(fc.property(caseArb(80, 40, 600), check), { numRuns: 40 });
          check({ ...base, m: 77, n: 2053, k: 260, accumulate: true, padC: 2, cOff: 3 });
        } finally {
          setWholeCFloats(prev);
        }
      });

      it("computes 1x1x1 products", () => {
        const c = new Float32Array([5]);
        gemm(
          1,
          1,
          1,
          new Float32Array([3]),
          0,
          1,
          false,
          new Float32Array([-2]),
          0,
          1,
          false,
          c,
          0,
          1,
          false,
        );
        expect(c[0]).toBe(-6);
        gemm(
          1,
          1,
          1,
          new Float32Array([3]),
          0,
          1,
          true,
          new Float32Array([-2]),
          0,
          1,
          true,
          c,
          0,
          1,
          true,
        );
        expect(c[0]).toBe(-12);
      });

      it("k = 0 zeroes C, or leaves it unchanged when accumulating", () => {
        const empty = new Float32Array(0);
        const c = Float32Array.from([1, 2, 3, 4, 5, 6, 7]);
        gemm(2, 2, 0, empty, 0, 0, false, empty, 0, 2, false, c, 1, 3, true);
        expect(Array.from(c)).toEqual([1, 2, 3, 4, 5, 6, 7]);
        gemm(2, 2, 0, empty, 0, 0, false, empty, 0, 2, false, c, 1, 3, false);
        expect(Array.from(c)).toEqual([1, 0, 0, 4, 0, 0, 7]);
      });

      it("reuses packed A only for calls that promise the same A (sameA)", () => {
        const rand = uniformSource(99);
        const mat = (len: number) => Float32Array.from({ length: len }, rand);
        /** C = A B (row-major, no offsets) against a float64 triple loop. */
        const run = (m: number, n: number, k: number, a: Float32Array, sameA: boolean) => {
          const b = mat(k * n);
          const c = new Float32Array(m * n);
          gemm(m, n, k, a, 0, k, false, b, 0, n, false, c, 0, n, false, sameA);
          // Largest error relative to its bound, over all of C (one expect, not m * n).
          let worst = 0;
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let want = 0;
              let scale = 0;
              for (let p = 0; p < k; p++) {
                want += a[i * k + p] * b[p * n + j];
                scale += Math.abs(a[i * k + p] * b[p * n + j]);
              }
              worst = Math.max(worst, Math.abs(c[i * n + j] - want) / (1e-5 * scale + 1e-7));
            }
          }
          expect(worst).toBeLessThanOrEqual(1);
        };
        // k over KC (several k blocks) and n over NC (several column blocks) for each A.
        const a1 = mat(64 * 600);
        const a2 = mat(64 * 600);
        run(10, 2100, 600, a1, false);
        run(10, 2100, 600, a1, true);
        // Another array under sameA (a broken promise) is still packed, not taken for a1.
        run(10, 2100, 600, a2, true);
        // A call with too many rows to keep A whole overwrites the kept panels.
        run(200, 30, 600, mat(200 * 600), false);
        run(64, 30, 600, a2, true);
      });

      it("starts each row of C from rowBias (one row block and several; k and n over KC, NC)", () => {
        const rand = uniformSource(5);
        for (const [m, n, k] of [
          [7, 33, 20],
          [32, 2100, 300],
          [80, 70, 600],
        ]) {
          const a = Float32Array.from({ length: m * k }, rand);
          const b = Float32Array.from({ length: k * n }, rand);
          const bias = Float32Array.from({ length: m }, () => 10 * rand() - 5);
          // Stale values in C must not leak into the result.
          const c = Float32Array.from({ length: m * n }, () => 1e6);
          gemmPackB(
            m,
            n,
            k,
            a,
            0,
            k,
            false,
            new DenseBPacker(b, 0, n, false),
            c,
            0,
            n,
            false,
            false,
            undefined,
            bias,
          );
          let worst = 0;
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let want = bias[i];
              let scale = Math.abs(bias[i]);
              for (let p = 0; p < k; p++) {
                want += a[i * k + p] * b[p * n + j];
                scale += Math.abs(a[i * k + p] * b[p * n + j]);
              }
              worst = Math.max(worst, Math.abs(c[i * n + j] - want) / (1e-5 * scale + 1e-7));
            }
          }
          expect(worst).toBeLessThanOrEqual(1);
        }
      });

      it("computes an exact small product (integers, transposed A)", () => {
        // A^T stored [k=3 x m=2], B [3 x 2]: op(A) = [[1, 2, 3], [4, 5, 6]].
        const at = Float32Array.from([1, 4, 2, 5, 3, 6]);
        const b = Float32Array.from([7, 8, 9, 10, 11, 12]);
        const c = new Float32Array(4);
        gemm(2, 2, 3, at, 0, 2, true, b, 0, 2, false, c, 0, 2, false);
        expect(Array.from(c)).toEqual([58, 64, 139, 154]);
      });
    });
  });
}
