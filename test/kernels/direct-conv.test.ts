import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { directConv, directConvAvailable } from "../../src/kernels/cpu/wasm/direct-conv.ts";
import { nd } from "../reference/nd.ts";
import { conv2dRefWithScale } from "../reference/nn.ts";
import { uniformSource } from "../reference/rng.ts";

describe.runIf(directConvAvailable())("directConv (wasm SIMD, few output channels)", () => {
  it("matches a float64 direct convolution on random shapes and pads", () => {
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
          pb: fc.integer({ min: 0, max: 3 }),
          pl: fc.integer({ min: 0, max: 3 }),
          pr: fc.integer({ min: 0, max: 3 }),
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
});
