/**
 * The cache of transformed Winograd kernels: a hit gives bitwise the transform a fresh call
 * computes, and no change of the kernel's values, in place or in a reused buffer, or of the
 * transform's variant (flipped read, tile) ever hits a stale entry. Expectations come from the
 * uncached path and from float64 direct sums.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { conv2dGeometry } from "../../src/kernels/conv-geometry.ts";
import { conv2dWinograd, setWinograd4x4Min } from "../../src/kernels/cpu/conv2d-winograd.ts";
import { setGemmImpl } from "../../src/kernels/cpu/gemm.ts";
import { helperReady } from "../../src/kernels/cpu/wasm/gemm-threads.ts";
import { gemmSimd } from "../../src/kernels/cpu/wasm/gemm-wasm.ts";
import {
  cachedKernelTransform,
  clearKernelTransformCache,
  hashBits,
} from "../../src/kernels/cpu/winograd-kernel-cache.ts";
import { expectRelClose, randomSigned } from "../helpers/float-arrays.ts";
import { uniformSource } from "../reference/rng.ts";

const available = gemmSimd() !== null;

beforeAll(async () => {
  setGemmImpl("auto");
  await helperReady(gemmSimd());
});

const [N, C, H, W, K] = [1, 6, 12, 12, 5];
const g = conv2dGeometry([N, C, H, W], [K, C, 3, 3], {
  stride: [1, 1],
  pad: [1, 1, 1, 1],
  dilation: [1, 1],
  inputDilation: [1, 1],
  groups: 1,
});

/** Float64 conv of x with the 3x3 kernel w ([K, C, 3, 3], or [C, K, 3, 3] read flipped). */
function direct64(x: Float32Array, w: Float32Array, flipped: boolean): Float64Array {
  const out = new Float64Array(N * K * H * W);
  for (let k = 0; k < K; k++)
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let xx = 0; xx < W; xx++)
          for (let i = 0; i < 3; i++)
            for (let j = 0; j < 3; j++) {
              const iy = y + i - 1;
              const ix = xx + j - 1;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              const tap = flipped
                ? ((c * K + k) * 3 + 2 - i) * 3 + 2 - j
                : ((k * C + c) * 3 + i) * 3 + j;
              out[(k * H + y) * W + xx] += x[(c * H + iy) * W + ix] * w[tap];
            }
  return out;
}

function conv(x: Float32Array, w: Float32Array, flipped = false): Float32Array {
  const out = new Float32Array(N * K * H * W).fill(Number.NaN);
  expect(conv2dWinograd(x, w, g, null, out, false, flipped)).toBe(true);
  return out;
}

describe.runIf(available)("transformed Winograd kernels, cached", () => {
  it("a hit is bitwise the fresh transform's result, for F(2x2) and F(4x4), plain and flipped", () => {
    const x = randomSigned(N * C * H * W, 1);
    const w = randomSigned(K * C * 9, 2);
    for (const tile of [2, 4]) {
      const prev = setWinograd4x4Min(tile === 4 ? 1 : Number.POSITIVE_INFINITY);
      try {
        for (const flipped of [false, true]) {
          clearKernelTransformCache();
          const fresh = conv(x, w, flipped);
          const hit = conv(x, w, flipped);
          expect(Array.from(hit)).toEqual(Array.from(fresh));
          expectRelClose(hit, direct64(x, w, flipped), 1e-5);
        }
      } finally {
        setWinograd4x4Min(prev);
      }
    }
  });

  it("never serves a stale transform: weights changed in place, or the same bits read flipped", () => {
    clearKernelTransformCache();
    const x = randomSigned(N * C * H * W, 3);
    const w = randomSigned(K * C * 9, 4);
    conv(x, w);
    // Same buffer, one weight changed (as an in-place optimizer step would).
    w[17] += 0.25;
    expectRelClose(conv(x, w), direct64(x, w, false), 1e-5);
    // The same bits as the flipped kernel of the transposed conv ([C, K, 3, 3]).
    expectRelClose(conv(x, w, true), direct64(x, w, true), 1e-5);
    // A negative zero is another kernel's bits but the same values: still correct.
    const z = Float32Array.from(w, (v, i) => (i === 3 ? -0 : v));
    const z2 = Float32Array.from(z, (v, i) => (i === 3 ? 0 : v));
    expect(Array.from(conv(x, z))).toEqual(Array.from(conv(x, z2)));
  });

  it("tells apart two kernels whose hashes collide (a full comparison, not the hash, decides)", () => {
    // Birthday search over two-float kernels: ~8 collisions expected among 2^18.
    const seen = new Map<number, Int32Array>();
    const r = uniformSource(6);
    let pair: [Int32Array, Int32Array] | null = null;
    for (let i = 0; i < 1 << 18 && pair === null; i++) {
      const bits = Int32Array.from([(r() * 2 ** 32) | 0, (r() * 2 ** 32) | 0]);
      const h = hashBits(bits);
      const other = seen.get(h);
      if (other !== undefined && (other[0] !== bits[0] || other[1] !== bits[1]))
        pair = [other, bits];
      seen.set(h, bits);
    }
    expect(pair).not.toBeNull();
    const [a, b] = (pair as [Int32Array, Int32Array]).map((v) => new Float32Array(v.buffer));
    clearKernelTransformCache();
    const f = new Float32Array(4);
    const writeOf = (w: Float32Array) => () => f.set(w, 1);
    cachedKernelTransform(f, 1, 2, a, "L", writeOf(a));
    f.fill(0);
    cachedKernelTransform(f, 1, 2, b, "L", writeOf(b));
    expect(new Int32Array(f.buffer, 4, 2)).toEqual(new Int32Array(b.buffer));
    f.fill(0);
    // b replaced a's entry: b hits, a is written afresh.
    cachedKernelTransform(f, 1, 2, b, "L", () => {});
    expect(new Int32Array(f.buffer, 4, 2)).toEqual(new Int32Array(b.buffer));
    cachedKernelTransform(f, 1, 2, a, "L", writeOf(a));
    expect(new Int32Array(f.buffer, 4, 2)).toEqual(new Int32Array(a.buffer));
  });

  it("fills the same floats from a hit as the writer does, and keeps none of a too-large kernel", () => {
    clearKernelTransformCache();
    const f = new Float32Array(64);
    const w = randomSigned(10, 5);
    let writes = 0;
    const write = () => {
      writes++;
      for (let i = 0; i < 20; i++) f[8 + i] = w[i % 10] * (i + 1);
    };
    cachedKernelTransform(f, 8, 20, w, "layout A", write);
    const first = Array.from(f);
    f.fill(0);
    cachedKernelTransform(f, 8, 20, w, "layout A", write);
    expect(writes).toBe(1);
    expect(Array.from(f)).toEqual(first);
    // Another layout with the same kernel bits is another entry.
    cachedKernelTransform(f, 8, 20, w, "layout B", write);
    expect(writes).toBe(2);
    expect(clearKernelTransformCache()).toBe(2);
    // Over the per-entry limit: written every time, never kept.
    const big = new Float32Array((1 << 20) + 1);
    const g2 = new Float32Array(big.length + 8);
    let bigWrites = 0;
    for (let i = 0; i < 2; i++)
      cachedKernelTransform(g2, 0, big.length, big, "big", () => bigWrites++);
    expect(bigWrites).toBe(2);
    expect(clearKernelTransformCache()).toBe(0);
  });
});
