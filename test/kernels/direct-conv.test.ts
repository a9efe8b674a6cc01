import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { directConv, directConvAvailable } from "../../src/kernels/cpu/wasm/direct-conv.ts";
import {
  gemmThreadsActive,
  helperReady,
  setCpuThreads,
} from "../../src/kernels/cpu/wasm/gemm-threads.ts";
import { gemmSimd } from "../../src/kernels/cpu/wasm/gemm-wasm.ts";
import { nd } from "../reference/nd.ts";
import { conv2dRefWithScale } from "../reference/nn.ts";
import { uniformSource } from "../reference/rng.ts";

beforeAll(async () => {
  await helperReady(gemmSimd());
});

afterAll(() => setCpuThreads(2));

describe.runIf(directConvAvailable())("directConv (wasm SIMD, few output channels)", () => {
  it("matches a float64 direct convolution on random shapes and pads (bottom/right may crop)", () => {
    fc.assert(
      fc.property(
        fc.record({
          cg: fc.integer({ min: 1, max: 9 }),
          og: fc.integer({ min: 1, max: 9 }),
          H: fc.integer({ min: 1, max: 13 }),
          W: fc.integer({ min: 1, max: 21 }),
          kh: fc.integer({ min: 1, max: 5 }),
          kw: fc.integer({ min: 1, max: 5 }),
          pt: fc.integer({ min: 0, max: 3 }),
          // Negative: the window ends before the input does (phases of a strided gradient).
          pb: fc.integer({ min: -3, max: 3 }),
          pl: fc.integer({ min: 0, max: 3 }),
          pr: fc.integer({ min: -3, max: 3 }),
          xOff: fc.integer({ min: 0, max: 3 }),
          seed: fc.integer({ min: 1, max: 1e6 }),
        }),
        ({ cg, og, H, W, kh, kw, pt, pb, pl, pr, xOff, seed }) => {
          const outH = H + pt + pb - kh + 1;
          const outW = W + pl + pr - kw + 1;
          if (outH < 1 || outW < 1) return;
          const r = uniformSource(seed);
          const x = Float32Array.from({ length: xOff + cg * H * W }, r);
          const w = Float32Array.from({ length: og * cg * kh * kw }, r);
          const out = new Float32Array(2 + og * outH * outW).fill(7);
          directConv(x, xOff, cg, H, W, w, 0, og, kh, kw, pt, pl, outH, outW, out, 2);
          expect(out[0]).toBe(7);
          expect(out[1]).toBe(7);
          const { out: want, scale } = conv2dRefWithScale(
            nd([1, cg, H, W], x.subarray(xOff)),
            nd([og, cg, kh, kw], w),
            { stride: [1, 1], pad: [pt, pb, pl, pr], dilation: [1, 1], groups: 1 },
            null,
          );
          for (let i = 0; i < og * outH * outW; i++)
            expect(Math.abs(out[2 + i] - want.data[i])).toBeLessThanOrEqual(1e-5 * scale[i] + 1e-7);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("shares output rows with the helper thread, bitwise as on one thread", () => {
    // ResNet-18's stem input gradient, one phase: 64 -> 3 channels, 4x4 taps, 45 x 37 outputs
    // (rows enough to split, the last chunk short, columns not a multiple of 8).
    const [cg, og, H, W, k, pad] = [64, 3, 45, 37, 4, 2];
    const outH = H + 2 * pad - k + 1;
    const outW = W + 2 * pad - k + 1;
    const r = uniformSource(19);
    const x = Float32Array.from({ length: cg * H * W }, () => 2 * r() - 1);
    const w = Float32Array.from({ length: og * cg * k * k }, () => 2 * r() - 1);
    const run = (threads: 1 | 2) => {
      setCpuThreads(threads);
      const out = new Float32Array(og * outH * outW).fill(Number.NaN);
      directConv(x, 0, cg, H, W, w, 0, og, k, k, pad, pad, outH, outW, out, 0);
      return out;
    };
    const one = run(1);
    const two = run(2);
    if (gemmThreadsActive()) expect(Array.from(two)).toEqual(Array.from(one));
    else console.warn("gemm helper thread unavailable: the split was not exercised");
    const { out: want, scale } = conv2dRefWithScale(
      nd([1, cg, H, W], x),
      nd([og, cg, k, k], w),
      { stride: [1, 1], pad: [pad, pad, pad, pad], dilation: [1, 1], groups: 1 },
      null,
    );
    for (let i = 0; i < og * outH * outW; i++)
      expect(Math.abs(two[i] - want.data[i])).toBeLessThanOrEqual(1e-5 * scale[i] + 1e-7);
  });
});
