/**
 * The two-thread wasm GEMM (gemm-threads.ts): a worker computes one range of output columns of
 * each split block, so results must be bitwise those of one thread. The split threshold is set
 * to 0 here so that every block with at least 4 panels is split, including ragged ones (odd
 * panel counts, partial last panels, several k and row blocks).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conv2dGeometry } from "../../src/kernels/conv-geometry.ts";
import { conv2dBackpropFilter, conv2dForward } from "../../src/kernels/cpu/conv2d.ts";
import { gemm, setGemmImpl } from "../../src/kernels/cpu/gemm.ts";
import {
  gemmThreadsActive,
  helperReady,
  setCpuThreads,
  setGemmSplitMinWork,
  threadsSupported,
} from "../../src/kernels/cpu/wasm/gemm-threads.ts";
import { gemmSimd } from "../../src/kernels/cpu/wasm/gemm-wasm.ts";
import { uniformSource } from "../reference/rng.ts";

const rand = (n: number, r: () => number) => Float32Array.from({ length: n }, r);

/** Runs fn with one thread, then with the helper, and returns both results. */
function both(fn: () => Float32Array): [Float32Array, Float32Array] {
  setCpuThreads(1);
  const one = fn();
  setCpuThreads(2);
  expect(gemmThreadsActive()).toBe(true);
  const two = fn();
  return [one, two];
}

function expectBitwise(a: Float32Array, b: Float32Array): void {
  expect(b.length).toBe(a.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let bad = -1;
  for (let i = 0; i < ua.length && bad < 0; i++) if (ua[i] !== ub[i]) bad = i;
  expect(bad).toBe(-1);
}

let ready = false;
let prevWork = 0;

beforeAll(async () => {
  setGemmImpl("auto");
  ready = await helperReady(gemmSimd());
  prevWork = setGemmSplitMinWork(0);
});

afterAll(() => {
  setGemmSplitMinWork(prevWork);
  setCpuThreads(2);
});

describe("two-thread wasm GEMM", () => {
  it("starts the helper where Node supports it", () => {
    // Node >= 20.16 with 2+ cores and a shared-memory wasm module (the bench machine and CI):
    // there the helper must come up (a worker that fails to compile or instantiate would leave
    // every split test below silently on one thread). Elsewhere it must not claim to.
    const supported = threadsSupported() && gemmSimd()?.shared === true;
    expect(ready).toBe(supported);
    expect(gemmThreadsActive()).toBe(supported);
  });

  it("gemm is bitwise identical on random shapes, ragged splits included", () => {
    if (!ready) return;
    const r = uniformSource(1234);
    const pick = (lo: number, hi: number) => lo + Math.floor((r() + 0.5) * (hi - lo + 1));
    const shapes: [number, number, number][] = [
      [1, 16, 1],
      [7, 17, 5],
      [6, 20, 300], // two k blocks
      [66, 4100, 9], // two column blocks, ragged last panel
      [70, 37, 513], // two row blocks, three k blocks, odd panel count
      [13, 2048 + 4 * 7 + 3, 100],
    ];
    for (let i = 0; i < 24; i++) shapes.push([pick(1, 80), pick(16, 700), pick(1, 600)]);
    for (const [m, n, k] of shapes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const accumulate = r() > 0;
          const a = rand(m * k, r);
          const b = rand(k * n, r);
          const c0 = rand(m * n, r);
          const run = () => {
            const c = Float32Array.from(c0);
            gemm(
              m,
              n,
              k,
              a,
              0,
              transA ? m : k,
              transA,
              b,
              0,
              transB ? k : n,
              transB,
              c,
              0,
              n,
              accumulate,
            );
            return c;
          };
          const [one, two] = both(run);
          expectBitwise(one, two);
        }
      }
    }
  });

  it("conv2d forward and filter gradient are bitwise identical", () => {
    if (!ready) return;
    const r = uniformSource(99);
    const cases = [
      { n: 1, c: 48, h: 33, w: 31, o: 48, k: 3 },
      { n: 2, c: 5, h: 17, w: 19, o: 70, k: 3 },
      { n: 1, c: 64, h: 9, w: 64, o: 12, k: 1 },
    ];
    for (const t of cases) {
      const p = (t.k - 1) / 2;
      const g = conv2dGeometry([t.n, t.c, t.h, t.w], [t.o, t.c, t.k, t.k], {
        stride: [1, 1],
        dilation: [1, 1],
        inputDilation: [1, 1],
        pad: [p, p, p, p],
        groups: 1,
      });
      const x = rand(t.n * t.c * t.h * t.w, r);
      const w = rand(t.o * t.c * t.k * t.k, r);
      const bias = rand(t.o, r);
      const dy = rand(t.n * t.o * t.h * t.w, r);
      const [f1, f2] = both(() => Float32Array.from(conv2dForward(x, w, g, bias, true)));
      expectBitwise(f1, f2);
      const [d1, d2] = both(() => Float32Array.from(conv2dBackpropFilter(x, dy, g)));
      expectBitwise(d1, d2);
    }
  });
});
