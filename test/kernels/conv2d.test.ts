import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Conv2dGeometry,
  type Conv2dParams,
  conv2dGeometry,
  convOutLength,
} from "../../src/kernels/conv-geometry.ts";
import { recycle } from "../../src/kernels/cpu/buffers.ts";
import { conv2dBackpropFilter, conv2dForward } from "../../src/kernels/cpu/conv2d.ts";
import { setGemmImpl } from "../../src/kernels/cpu/gemm.ts";
import { numericGrad } from "../helpers/numeric-grad.ts";
import { nd } from "../reference/nd.ts";
import { conv2dRefWithScale } from "../reference/nn.ts";
import { uniformSource } from "../reference/rng.ts";

/** Both GEMM micro-kernels: wasm SIMD and the TS fallback. */
const kernelImpls = ["wasm", "ts"] as const;

/** x [N, C, H, W] -> [N, C, Hp, Wp]: zeros inserted between pixels, then padded or cropped. */
function dilatePad(
  x: ArrayLike<number>,
  g: Conv2dGeometry,
): { data: Float64Array; hp: number; wp: number } {
  const { batch: N, inChannels: C, inHeight: H, inWidth: W } = g;
  const [idh, idw] = g.inputDilation;
  const [pt, pb, pl, pr] = g.pad;
  const hd = (H - 1) * idh + 1;
  const wd = (W - 1) * idw + 1;
  const dil = new Float64Array(N * C * hd * wd);
  for (let nc = 0; nc < N * C; nc++) {
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++)
        dil[(nc * hd + y * idh) * wd + xx * idw] = x[(nc * H + y) * W + xx];
    }
  }
  const hp = hd + pt + pb;
  const wp = wd + pl + pr;
  const data = new Float64Array(N * C * hp * wp);
  for (let nc = 0; nc < N * C; nc++) {
    for (let y = 0; y < hp; y++) {
      for (let xx = 0; xx < wp; xx++) {
        const sy = y - pt;
        const sx = xx - pl;
        if (sy >= 0 && sy < hd && sx >= 0 && sx < wd)
          data[(nc * hp + y) * wp + xx] = dil[(nc * hd + sy) * wd + sx];
      }
    }
  }
  return { data, hp, wp };
}

/** The shared float64 correlation (test/reference/nn.ts) with its rounding scale, on flat arrays. */
function refForward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  g: Conv2dGeometry,
  bias: ArrayLike<number> | null,
  relu: boolean,
): { out: Float64Array; scale: Float64Array } {
  const cg = g.inChannels / g.groups;
  const { out, scale } = conv2dRefWithScale(
    nd([g.batch, g.inChannels, g.inHeight, g.inWidth], x),
    nd([g.outChannels, cg, g.kernelH, g.kernelW], w),
    {
      stride: g.stride,
      pad: g.pad,
      dilation: g.dilation,
      groups: g.groups,
      inputDilation: g.inputDilation,
    },
    bias ? nd([g.outChannels], bias) : null,
    relu,
  );
  return { out: out.data, scale };
}

function refFilterGrad(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  g: Conv2dGeometry,
): { dw: Float64Array; scale: Float64Array } {
  const {
    batch: N,
    inChannels: C,
    outChannels: O,
    groups,
    kernelH: kh,
    kernelW: kw,
    outHeight: oh,
    outWidth: ow,
  } = g;
  const { data: xp, hp, wp } = dilatePad(x, g);
  const cg = C / groups;
  const og = O / groups;
  const dw = new Float64Array(O * cg * kh * kw);
  const scale = new Float64Array(dw.length);
  for (let o = 0; o < O; o++) {
    const grp = Math.floor(o / og);
    for (let c = 0; c < cg; c++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          let s = 0;
          let a = 0;
          for (let n = 0; n < N; n++) {
            for (let oy = 0; oy < oh; oy++) {
              for (let ox = 0; ox < ow; ox++) {
                const y = oy * g.stride[0] + ky * g.dilation[0];
                const xx = ox * g.stride[1] + kx * g.dilation[1];
                const t =
                  dy[((n * O + o) * oh + oy) * ow + ox] *
                  xp[((n * C + grp * cg + c) * hp + y) * wp + xx];
                s += t;
                a += Math.abs(t);
              }
            }
          }
          const i = ((o * cg + c) * kh + ky) * kw + kx;
          dw[i] = s;
          scale[i] = a;
        }
      }
    }
  }
  return { dw, scale };
}

function expectClose(
  got: Float32Array,
  want: Float64Array,
  scale: Float64Array,
  what: string,
): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= 1e-4 * scale[i] + 1e-6)) {
      throw new Error(`${what}[${i}] = ${got[i]}, want ${want[i]} (err ${err}, scale ${scale[i]})`);
    }
  }
}

interface GeomCase {
  n: number;
  cg: number;
  og: number;
  groups: number;
  depthwise: boolean;
  h: number;
  w: number;
  kh: number;
  kw: number;
  stride: [number, number];
  dilation: [number, number];
  inputDilation: [number, number];
  pad: [number, number, number, number];
  bias: boolean;
  relu: boolean;
  seed: number;
}

const pair = (min: number, max: number) =>
  fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })) as fc.Arbitrary<[number, number]>;

const geomArb: fc.Arbitrary<GeomCase> = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  cg: fc.integer({ min: 1, max: 3 }),
  og: fc.integer({ min: 1, max: 5 }),
  groups: fc.integer({ min: 1, max: 3 }),
  depthwise: fc.boolean(),
  h: fc.integer({ min: 1, max: 7 }),
  w: fc.integer({ min: 1, max: 7 }),
  kh: fc.integer({ min: 1, max: 4 }),
  kw: fc.integer({ min: 1, max: 4 }),
  stride: pair(1, 3),
  dilation: pair(1, 2),
  inputDilation: pair(1, 2),
  pad: fc.tuple(
    fc.integer({ min: -1, max: 3 }),
    fc.integer({ min: -1, max: 3 }),
    fc.integer({ min: -1, max: 3 }),
    fc.integer({ min: -1, max: 3 }),
  ),
  bias: fc.boolean(),
  relu: fc.boolean(),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

/** Geometry of a case, or null when its output would be empty. */
function geometryOf(t: GeomCase): Conv2dGeometry | null {
  // Depthwise: one input channel per group, groups == C.
  const cg = t.depthwise ? 1 : t.cg;
  const C = cg * t.groups;
  const O = t.og * t.groups;
  const oh = convOutLength(
    t.h,
    t.kh,
    t.stride[0],
    t.dilation[0],
    t.inputDilation[0],
    t.pad[0],
    t.pad[1],
  );
  const ow = convOutLength(
    t.w,
    t.kw,
    t.stride[1],
    t.dilation[1],
    t.inputDilation[1],
    t.pad[2],
    t.pad[3],
  );
  if (oh < 1 || ow < 1) return null;
  return conv2dGeometry([t.n, C, t.h, t.w], [O, cg, t.kh, t.kw], {
    stride: t.stride,
    dilation: t.dilation,
    inputDilation: t.inputDilation,
    pad: t.pad,
    groups: t.groups,
  });
}

function randomData(g: Conv2dGeometry, seed: number) {
  const rand = uniformSource(seed);
  const cg = g.inChannels / g.groups;
  const x = Float32Array.from({ length: g.batch * g.inChannels * g.inHeight * g.inWidth }, rand);
  const w = Float32Array.from({ length: g.outChannels * cg * g.kernelH * g.kernelW }, rand);
  const bias = Float32Array.from({ length: g.outChannels }, rand);
  const dy = Float32Array.from(
    { length: g.batch * g.outChannels * g.outHeight * g.outWidth },
    rand,
  );
  return { x, w, bias, dy };
}

function geom(xShape: number[], wShape: number[], p: Partial<Conv2dParams> = {}): Conv2dGeometry {
  return conv2dGeometry(xShape, wShape, {
    stride: [1, 1],
    dilation: [1, 1],
    inputDilation: [1, 1],
    pad: [0, 0, 0, 0],
    groups: 1,
    ...p,
  });
}

for (const which of kernelImpls) {
  describe(`conv2d (${which} kernel)`, () => {
    beforeAll(() => setGemmImpl(which));
    afterAll(() => setGemmImpl("auto"));
    describe("conv2dForward", () => {
      it("matches a direct float64 reference on random geometries", () => {
        let tested = 0;
        fc.assert(
          fc.property(geomArb, (t) => {
            const g = geometryOf(t);
            fc.pre(g !== null);
            if (g === null) return;
            const { x, w, bias } = randomData(g, t.seed);
            const b = t.bias ? bias : null;
            const got = conv2dForward(x, w, g, b, t.relu);
            const { out, scale } = refForward(x, w, g, b, t.relu);
            expectClose(got, out, scale, `conv2dForward ${JSON.stringify(t)} out`);
            tested++;
          }),
          { numRuns: 300 },
        );
        expect(tested).toBeGreaterThan(100);
      });

      it("writes every output into a recycled buffer full of NaN (GEMM, direct and phase paths)", () => {
        const cases: Conv2dGeometry[] = [
          geom([2, 8, 16, 16], [12, 8, 3, 3], { pad: [1, 1, 1, 1] }),
          geom([1, 16, 40, 41], [3, 16, 3, 3], { pad: [1, 1, 1, 1] }),
          // A 1x1 kernel at input dilation 2: the phases no tap reaches must read 0.
          geom([2, 6, 24, 24], [4, 6, 1, 1], { inputDilation: [2, 2], pad: [0, 1, 0, 1] }),
        ];
        for (const [i, g] of cases.entries()) {
          const { x, w, bias } = randomData(g, 300 + i);
          const n = g.batch * g.outChannels * g.outHeight * g.outWidth;
          // The pool keeps buffers of 16 KiB and more; the output takes one of exactly its length.
          expect(n).toBeGreaterThanOrEqual(4096);
          recycle(new Float32Array(n).fill(Number.NaN));
          const b = i === 0 ? bias : null;
          const got = conv2dForward(x, w, g, b, false);
          const { out, scale } = refForward(x, w, g, b, false);
          expectClose(got, out, scale, `case ${i} out`);
        }
      });

      it("computes a hand-checked 3x3 example (padding, bias, relu)", () => {
        // x = 1..9 in a 3x3 image, all-ones 2x2 kernel, pad 1 on top/left only, bias -13.
        const x = Float32Array.from({ length: 9 }, (_, i) => i + 1);
        const w = new Float32Array(4).fill(1);
        const g = geom([1, 1, 3, 3], [1, 1, 2, 2], { pad: [1, 0, 1, 0] });
        const sums = [1, 3, 5, 5, 12, 16, 11, 24, 28];
        expect(Array.from(conv2dForward(x, w, g, null, false))).toEqual(sums);
        expect(Array.from(conv2dForward(x, w, g, new Float32Array([-13]), true))).toEqual(
          sums.map((s) => Math.max(0, s - 13)),
        );
      });

      it("matches the reference with several images in one GEMM (columns across images)", () => {
        const cases: Conv2dGeometry[] = [
          // P = 49: panels of 4 pixels straddle images; 13 images go as 10 + 3.
          geom([13, 16, 7, 7], [12, 16, 3, 3], { pad: [1, 1, 1, 1] }),
          // 16x16 images two at a time, the last one alone.
          geom([5, 8, 16, 16], [10, 8, 3, 3], { pad: [1, 1, 1, 1] }),
          // Stride 2 and K = 576 > KC: several depth blocks.
          geom([2, 64, 9, 9], [20, 64, 3, 3], { stride: [2, 2], pad: [1, 1, 1, 1] }),
          // 72 output channels (one full row block), uneven pads.
          geom([4, 70, 8, 8], [72, 70, 3, 3], { pad: [0, 2, 1, 1] }),
          // Phase-split input gradients of stride-2 convs (7x7 -> 14x14), 13 images: 10 + 3.
          geom([13, 16, 7, 7], [12, 16, 3, 3], { inputDilation: [2, 2], pad: [1, 2, 1, 2] }),
          geom([3, 8, 5, 6], [9, 8, 4, 3], { inputDilation: [2, 3], pad: [2, 1, 0, 2] }),
        ];
        for (const [i, g] of cases.entries()) {
          const { x, w, bias } = randomData(g, 200 + i);
          const got = conv2dForward(x, w, g, bias, i % 2 === 0);
          const { out, scale } = refForward(x, w, g, bias, i % 2 === 0);
          expectClose(got, out, scale, `case ${i} out`);
        }
      });

      it("matches the reference on larger shapes (pointwise path, GEMM block edges, depthwise)", () => {
        const cases: Conv2dGeometry[] = [
          geom([2, 9, 6, 5], [7, 9, 1, 1]),
          geom([1, 4, 6, 6], [6, 2, 1, 1], { groups: 2 }),
          // P = 3200 > NC and K = 576 > KC: several GEMM column and depth blocks.
          geom([1, 64, 40, 80], [5, 64, 3, 3], { pad: [1, 1, 1, 1] }),
          geom([1, 8, 9, 9], [8, 1, 3, 3], { groups: 8, stride: [2, 2], pad: [1, 1, 1, 1] }),
          // Input dilation with stride > 1 along columns (generic path, not the phase split).
          geom([1, 3, 5, 6], [4, 3, 4, 3], {
            inputDilation: [2, 3],
            stride: [1, 2],
            pad: [3, 2, -1, 2],
          }),
        ];
        for (const [i, g] of cases.entries()) {
          const { x, w, bias } = randomData(g, 100 + i);
          const got = conv2dForward(x, w, g, bias, i % 2 === 1);
          const { out, scale } = refForward(x, w, g, bias, i % 2 === 1);
          expectClose(got, out, scale, `case ${i} out`);
        }
      });
    });

    /** dx = J^T dy for the conv x -> conv(x, w), scattered straight from the definition (float64). */
    function refInputGrad(
      w: ArrayLike<number>,
      dy: ArrayLike<number>,
      g: Conv2dGeometry,
    ): Float64Array {
      const { batch: N, inChannels: C, outChannels: O, groups, kernelH: kh, kernelW: kw } = g;
      const { inHeight: H, inWidth: W, outHeight: oh, outWidth: ow } = g;
      const cg = C / groups;
      const og = O / groups;
      const dx = new Float64Array(N * C * H * W);
      for (let n = 0; n < N; n++)
        for (let o = 0; o < O; o++)
          for (let oy = 0; oy < oh; oy++)
            for (let ox = 0; ox < ow; ox++)
              for (let c = 0; c < cg; c++)
                for (let ky = 0; ky < kh; ky++)
                  for (let kx = 0; kx < kw; kx++) {
                    const y = oy * g.stride[0] + ky * g.dilation[0] - g.pad[0];
                    const x = ox * g.stride[1] + kx * g.dilation[1] - g.pad[2];
                    if (y < 0 || y >= H || x < 0 || x >= W) continue;
                    const ci = Math.floor(o / og) * cg + c;
                    dx[((n * C + ci) * H + y) * W + x] +=
                      w[((o * cg + c) * kh + ky) * kw + kx] * dy[((n * O + o) * oh + oy) * ow + ox];
                  }
      return dx;
    }

    describe("input gradient as a forward conv (input dilation = stride)", () => {
      it("conv2dForward(dy, flipped w, pad (k-1)d - pad, input dilation = stride) is J^T dy", () => {
        const cases: Conv2dGeometry[] = [
          geom([1, 3, 7, 8], [4, 3, 3, 3], { stride: [2, 2], pad: [1, 1, 1, 1] }),
          geom([2, 4, 9, 7], [6, 2, 4, 3], {
            stride: [3, 2],
            dilation: [2, 1],
            pad: [2, 0, 1, 2],
            groups: 2,
          }),
          geom([1, 5, 6, 6], [3, 5, 1, 1], { stride: [2, 2] }),
          geom([1, 16, 20, 19], [8, 16, 3, 3], { stride: [2, 2], pad: [1, 1, 1, 1] }),
        ];
        for (const [ci, g] of cases.entries()) {
          const { w, dy } = randomData(g, 400 + ci);
          const { inChannels: C, outChannels: O, kernelH: kh, kernelW: kw, groups } = g;
          const cg = C / groups;
          const og = O / groups;
          const wf = new Float32Array(w.length);
          for (let o = 0; o < O; o++)
            for (let c = 0; c < cg; c++)
              for (let ky = 0; ky < kh; ky++)
                for (let kx = 0; kx < kw; kx++) {
                  const grp = Math.floor(o / og);
                  const dst =
                    (((grp * cg + c) * og + (o % og)) * kh + kh - 1 - ky) * kw + kw - 1 - kx;
                  wf[dst] = w[((o * cg + c) * kh + ky) * kw + kx];
                }
          const [sh, sw] = g.stride;
          const spanH = (kh - 1) * g.dilation[0];
          const spanW = (kw - 1) * g.dilation[1];
          // Rows the forward stride skipped at the bottom/right get zero gradient: extra padding.
          const restH = (g.inHeight + g.pad[0] + g.pad[1] - spanH - 1) % sh;
          const restW = (g.inWidth + g.pad[2] + g.pad[3] - spanW - 1) % sw;
          const gt = geom([g.batch, O, g.outHeight, g.outWidth], [C, og, kh, kw], {
            dilation: g.dilation,
            inputDilation: g.stride,
            pad: [
              spanH - g.pad[0],
              spanH - g.pad[1] + restH,
              spanW - g.pad[2],
              spanW - g.pad[3] + restW,
            ],
            groups,
          });
          expect([gt.outHeight, gt.outWidth]).toEqual([g.inHeight, g.inWidth]);
          const got = conv2dForward(dy, wf, gt, null, false);
          const want = refInputGrad(w, dy, g);
          const { scale } = refForward(dy, wf, gt, null, false);
          expectClose(got, want, scale, `case ${ci} dx`);
        }
      });
    });

    describe("conv2dBackpropFilter", () => {
      it("matches a direct float64 reference on random geometries", () => {
        let tested = 0;
        fc.assert(
          fc.property(geomArb, (t) => {
            const g = geometryOf(t);
            fc.pre(g !== null);
            if (g === null) return;
            const { x, dy } = randomData(g, t.seed);
            const got = conv2dBackpropFilter(x, dy, g);
            const { dw, scale } = refFilterGrad(x, dy, g);
            expectClose(got, dw, scale, `conv2dBackpropFilter ${JSON.stringify(t)} dW`);
            tested++;
          }),
          { numRuns: 300 },
        );
        expect(tested).toBeGreaterThan(100);
      });

      it("matches the reference on larger shapes (pointwise path, blocks starting mid-row)", () => {
        const cases: Conv2dGeometry[] = [
          geom([2, 9, 6, 5], [7, 9, 1, 1]),
          geom([2, 64, 40, 80], [5, 64, 3, 3], { pad: [1, 1, 1, 1] }),
          geom([1, 6, 7, 8], [6, 2, 2, 3], {
            groups: 3,
            inputDilation: [2, 1],
            dilation: [1, 2],
            pad: [0, -1, 2, 1],
          }),
        ];
        for (const [i, g] of cases.entries()) {
          const { x, dy } = randomData(g, 200 + i);
          const { dw, scale } = refFilterGrad(x, dy, g);
          expectClose(conv2dBackpropFilter(x, dy, g), dw, scale, `case ${i} dW`);
        }
      });

      it("equals central finite differences of sum(conv(x, w) * dy) (float64)", () => {
        const cases: Conv2dGeometry[] = [
          geom([2, 2, 5, 4], [3, 2, 3, 2], {
            stride: [2, 1],
            pad: [1, 0, -1, 2],
            inputDilation: [1, 2],
          }),
          geom([1, 4, 6, 5], [4, 2, 2, 2], { groups: 2, dilation: [2, 1], pad: [1, 1, 1, 1] }),
        ];
        for (const [ci, g] of cases.entries()) {
          const { x, w, dy } = randomData(g, 300 + ci);
          const loss = (wv: Float64Array) => {
            const { out } = refForward(x, wv, g, null, false);
            let s = 0;
            for (let i = 0; i < out.length; i++) s += out[i] * dy[i];
            return s;
          };
          const got = conv2dBackpropFilter(x, dy, g);
          const fd = numericGrad(loss, w, 1e-3);
          for (let i = 0; i < fd.length; i++) {
            expect(Math.abs(got[i] - fd[i])).toBeLessThan(1e-5 * (1 + Math.abs(fd[i])));
          }
        }
      });
    });
  });
}
