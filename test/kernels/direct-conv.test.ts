import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { directConv, directConvAvailable } from "../../src/kernels/cpu/wasm/direct-conv.ts";
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
          for (let o = 0; o < og; o++)
            for (let oy = 0; oy < outH; oy++)
              for (let ox = 0; ox < outW; ox++) {
                let want = 0;
                let scale = 0;
                for (let c = 0; c < cg; c++)
                  for (let ky = 0; ky < kh; ky++)
                    for (let kx = 0; kx < kw; kx++) {
                      const iy = oy + ky - pt;
                      const ix = ox + kx - pl;
                      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                      const p =
                        x[xOff + (c * H + iy) * W + ix] * w[((o * cg + c) * kh + ky) * kw + kx];
                      want += p;
                      scale += Math.abs(p);
                    }
                const got = out[2 + (o * outH + oy) * outW + ox];
                expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-5 * scale + 1e-7);
              }
        },
      ),
      { numRuns: 150 },
    );
  });
});
