/**
 * The interleaved conv (nearest upsample x2 + conv per output phase in one pass): the wasm
 * depth-to-space against its definition, the CPU kernel bitwise against four convs and
 * `interleave`, and the op (which nearestUpsampleConv2d takes on the CPU) and its gradients
 * against float64 sums of conv(upsample(x)).
 */
import { beforeAll, describe, expect, it, vi } from "vitest";
import { withRules } from "../../src/autodiff/rule-set.ts";
import type { Tensor } from "../../src/index.ts";
import * as s from "../../src/index.ts";
import { type Conv2dGeometry, conv2dGeometry } from "../../src/kernels/conv-geometry.ts";
import { conv2dFlippedKernel, conv2dForward } from "../../src/kernels/cpu/conv2d.ts";
import {
  conv2dInterleaved,
  conv2dInterleavedInputGrad,
  interleavedConvPays,
  interleavedInputGradPays,
} from "../../src/kernels/cpu/conv2d-interleaved.ts";
import {
  setWinograd4x4Min,
  setWinogradBandFloats,
  setWinogradChunkFloats,
  setWinogradPipeline,
} from "../../src/kernels/cpu/conv2d-winograd.ts";
import { setGemmImpl } from "../../src/kernels/cpu/gemm.ts";
import { interleave, slice } from "../../src/kernels/cpu/layout.ts";
import { instantiateGemmSimd } from "../../src/kernels/cpu/wasm/gemm-simd.ts";
import { helperReady, setCpuThreads } from "../../src/kernels/cpu/wasm/gemm-threads.ts";
import { gemmSimd } from "../../src/kernels/cpu/wasm/gemm-wasm.ts";
import { interleavedConv2d } from "../../src/ops/interleaved-conv.ts";
import { coverageTable } from "../../src/rules/coverage-table.ts";
import { lrpEpsilonRules } from "../../src/rules/lrp.ts";
import { deconvnetRules, guidedBackpropRules } from "../../src/rules/relu-rules.ts";
import { expectRelClose, randomSigned } from "../helpers/float-arrays.ts";
import { recordStaging } from "./staging-spy.ts";

const available = gemmSimd() !== null;

beforeAll(async () => {
  setGemmImpl("auto");
  await helperReady(gemmSimd());
});

describe("interleaveplanes (wasm)", () => {
  const m = instantiateGemmSimd();

  it.runIf(m !== null)(
    "writes out[2y + a][2x + b] = phase (a, b)[y][x] from padded planes, any row width",
    () => {
      const simd = m as NonNullable<typeof m>;
      simd.memory.grow(8);
      const f = new Float32Array(simd.memory.buffer);
      for (const [planes, pH, pW, rows, cols] of [
        [1, 1, 1, 1, 1],
        [2, 4, 8, 3, 5],
        [3, 8, 16, 8, 16],
        [2, 6, 11, 5, 9],
        [1, 3, 4, 3, 4],
        [4, 10, 24, 9, 23],
      ]) {
        const phase = planes * pH * pW + 3; // phases not 16-byte aligned apart
        const src = 64 + 1;
        for (let p = 0; p < 4; p++)
          for (let i = 0; i < planes * pH * pW; i++) f[src + p * phase + i] = p * 1e4 + i + 1;
        const dst = src + 4 * phase + 2;
        const n = planes * 4 * rows * cols;
        f.fill(Number.NaN, dst, dst + n + 8);
        simd.interleaveplanes(4 * dst, 4 * src, planes, pH, pW, rows, cols, 4 * phase);
        const want: number[] = [];
        for (let q = 0; q < planes; q++)
          for (let y = 0; y < 2 * rows; y++)
            for (let x = 0; x < 2 * cols; x++) {
              const p = (y % 2) * 2 + (x % 2);
              want.push(p * 1e4 + (q * pH + (y >> 1)) * pW + (x >> 1) + 1);
            }
        expect(Array.from(f.subarray(dst, dst + n))).toEqual(want);
        // Nothing written past the output.
        expect(Array.from(f.subarray(dst + n, dst + n + 8)).every(Number.isNaN)).toBe(true);
      }
    },
  );
});

describe("padphase (wasm)", () => {
  const m = instantiateGemmSimd();

  it.runIf(m !== null)(
    "pads phase (a, b) of 2H x 2W planes: plane y, x is source row 2y + a, column 2x + b",
    () => {
      const simd = m as NonNullable<typeof m>;
      simd.memory.grow(8);
      const f = new Float32Array(simd.memory.buffer);
      for (const [planes, H, W, offY, offX, below, right] of [
        [1, 1, 1, 0, 0, 0, 0],
        [2, 3, 5, 1, 1, 1, 0],
        [3, 4, 8, 0, 1, 2, 3],
        [2, 6, 13, 2, 2, 1, 1],
        [1, 16, 16, 1, 0, 0, 1],
      ]) {
        const Hp = offY + H + below;
        const Wp = offX + W + right;
        const src = 64 + 1; // not 16-byte aligned
        for (let i = 0; i < planes * 4 * H * W + 8; i++) f[src + i] = i + 1;
        const dst = src + planes * 4 * H * W + 16;
        for (let p = 0; p < 4; p++) {
          const [a, b] = [p >> 1, p & 1];
          f.fill(Number.NaN, dst, dst + planes * Hp * Wp + 8);
          simd.padphase(4 * dst, 4 * (src + a * 2 * W + b), planes, H, W, Hp, Wp, offY, offX);
          const want: number[] = [];
          for (let q = 0; q < planes; q++)
            for (let y = 0; y < Hp; y++)
              for (let x = 0; x < Wp; x++) {
                const [iy, ix] = [y - offY, x - offX];
                const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
                want.push(inside ? (q * 2 * H + 2 * iy + a) * 2 * W + 2 * ix + b + 1 : 0);
              }
          expect(Array.from(f.subarray(dst, dst + planes * Hp * Wp))).toEqual(want);
          expect(
            Array.from(f.subarray(dst + planes * Hp * Wp, dst + planes * Hp * Wp + 8)).every(
              Number.isNaN,
            ),
          ).toBe(true);
        }
      }
    },
  );
});

/**
 * The phases of nearest upsample x2 + a k x k 'same' conv (k = 3: 2x2 windows; k = 5: 3x3), as
 * ops/upsample-conv.ts builds them: phase (a, b) sees rows [first_a, first_a + size) of the
 * merged kernel, padded so that its outputs align. Returns each phase's kernel and geometry.
 */
function phasesOf(
  x: Float32Array,
  w: Float32Array,
  [N, C, H, W]: number[],
  O: number,
  k: number,
): { ws: Float32Array[]; gs: Conv2dGeometry[] } {
  const p = (k - 1) / 2;
  // Output pixel 2 i + a, tap t reads low-res pixel i + floor((a + t - p) / 2).
  const off = (a: number, t: number) => Math.floor((a + t - p) / 2);
  const ws: Float32Array[] = [];
  const gs: Conv2dGeometry[] = [];
  for (let a = 0; a < 2; a++)
    for (let b = 0; b < 2; b++) {
      const [ya, yb] = [off(a, 0), off(a, k - 1)];
      const [xa, xb] = [off(b, 0), off(b, k - 1)];
      const [kh, kw] = [yb - ya + 1, xb - xa + 1];
      // Merged taps: the sum of the original taps that read the same low-res offset.
      const m = new Float32Array(O * C * kh * kw);
      for (let o = 0; o < O; o++)
        for (let c = 0; c < C; c++)
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const ti = off(a, i) - ya;
              const tj = off(b, j) - xa;
              m[((o * C + c) * kh + ti) * kw + tj] += w[((o * C + c) * k + i) * k + j];
            }
      ws.push(m);
      gs.push(
        conv2dGeometry([N, C, H, W], [O, C, kh, kw], {
          stride: [1, 1],
          dilation: [1, 1],
          inputDilation: [1, 1],
          pad: [-ya, kh - 1 + ya, -xa, kw - 1 + xa],
          groups: 1,
        }),
      );
    }
  expect(x.length).toBe(N * C * H * W);
  return { ws, gs };
}

/**
 * Float64: y = conv(up(x), w) + bias ('same', k odd) for x [N, C, H, W] and up the nearest x2
 * upsample, and for L = sum(y * u) its gradients with respect to x, w and bias.
 */
function upConv64(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array,
  [N, C, H, W]: number[],
  O: number,
  k: number,
) {
  const p = (k - 1) / 2;
  const [H2, W2] = [2 * H, 2 * W];
  const each = (f: (xi: number, wi: number, yi: number) => void) => {
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++)
        for (let c = 0; c < C; c++)
          for (let y = 0; y < H2; y++)
            for (let xx = 0; xx < W2; xx++)
              for (let i = 0; i < k; i++)
                for (let j = 0; j < k; j++) {
                  const uy = y + i - p;
                  const ux = xx + j - p;
                  if (uy < 0 || uy >= H2 || ux < 0 || ux >= W2) continue;
                  const xi = ((n * C + c) * H + (uy >> 1)) * W + (ux >> 1);
                  f(xi, ((o * C + c) * k + i) * k + j, ((n * O + o) * H2 + y) * W2 + xx);
                }
  };
  return {
    forward(): Float64Array {
      const out = new Float64Array(N * O * H2 * W2);
      for (let i = 0; i < out.length; i++) out[i] = bias[Math.floor(i / (H2 * W2)) % O];
      each((xi, wi, yi) => {
        out[yi] += x[xi] * w[wi];
      });
      return out;
    },
    grads(u: Float32Array): { x: Float64Array; w: Float64Array; bias: Float64Array } {
      const gx = new Float64Array(x.length);
      const gw = new Float64Array(w.length);
      const gb = new Float64Array(O);
      each((xi, wi, yi) => {
        gx[xi] += u[yi] * w[wi];
        gw[wi] += u[yi] * x[xi];
      });
      for (let i = 0; i < u.length; i++) gb[Math.floor(i / (H2 * W2)) % O] += u[i];
      return { x: gx, w: gw, bias: gb };
    },
  };
}

describe.runIf(available)("conv2dInterleaved (CPU)", () => {
  it("is bitwise four convs and interleave, for 2x2 and 3x3 phase kernels, F(2x2) and F(4x4), crops, bias, ReLU", () => {
    for (const [shape, O, k, tile, bias, relu] of [
      [[1, 5, 16, 16], 16, 3, 2, true, false],
      [[2, 3, 13, 27], 17, 3, 2, false, true],
      [[1, 16, 24, 24], 16, 5, 4, true, true],
      [[2, 6, 11, 18], 16, 5, 2, true, false],
    ] as const) {
      const [N, C, H, W] = shape;
      const x = randomSigned(N * C * H * W, 1);
      const w = randomSigned(O * C * k * k, 2);
      const b = bias ? randomSigned(O, 3) : null;
      const { ws, gs } = phasesOf(x, w, [...shape], O, k);
      const prev = setWinograd4x4Min(tile === 4 ? 1 : Number.POSITIVE_INFINITY);
      try {
        expect(interleavedConvPays(gs)).toBe(true);
        const got = conv2dInterleaved(x, ws, gs, b, relu);
        const phases = gs.map((g, p) => conv2dForward(x, ws[p], g, b, relu));
        const want = interleave(phases, [N, O, gs[0].outHeight, gs[0].outWidth], 2);
        expect(got.length).toBe(N * O * 4 * H * W);
        expect(Array.from(got)).toEqual(Array.from(want));
        // And the phases are those of upsample + conv (float64).
        if (!relu) {
          const ref = upConv64(x, w, b ?? new Float32Array(O), [...shape], O, k);
          expectRelClose(got, ref.forward(), 1e-5);
        }
      } finally {
        setWinograd4x4Min(prev);
      }
    }
  });

  it("hands a non-finite input to the four plain convs (Inf stays Inf, not Inf - Inf)", () => {
    const shape = [1, 4, 12, 12];
    const O = 16;
    const w = randomSigned(O * 4 * 9, 4);
    for (const bad of [Number.POSITIVE_INFINITY, Number.NaN]) {
      const x = randomSigned(4 * 144, 5);
      x[5 * 12 + 7] = bad;
      const { ws, gs } = phasesOf(x, w, shape, O, 3);
      const got = conv2dInterleaved(x, ws, gs, null, false);
      const phases = gs.map((g, p) => conv2dForward(x, ws[p], g, null, false));
      const want = interleave(phases, [1, O, 12, 12], 2);
      expect(Array.from(got)).toEqual(Array.from(want));
      expect(got.some((v) => !Number.isFinite(v))).toBe(true);
    }
  });

  it("declines phases Winograd does not take (too few tiles), and still computes them", () => {
    const shape = [1, 3, 3, 3];
    const x = randomSigned(27, 6);
    const w = randomSigned(16 * 27, 7);
    const { ws, gs } = phasesOf(x, w, shape, 16, 3);
    expect(interleavedConvPays(gs)).toBe(false);
    const ref = upConv64(x, w, new Float32Array(16), shape, 16, 3);
    expectRelClose(conv2dInterleaved(x, ws, gs, null, false), ref.forward(), 1e-5);
  });
});

describe.runIf(available)(
  "conv2dInterleaved and its input gradient over several chunks of images",
  () => {
    it("equal one chunk bitwise, with the next chunk staged while the helper starts or not, on one thread and two", () => {
      const shape = [5, 6, 14, 18];
      const [N, C, H, W] = shape;
      const O = 16;
      const x = randomSigned(N * C * H * W, 40);
      const w = randomSigned(O * C * 9, 41);
      const b = randomSigned(O, 42);
      const dy = randomSigned(N * O * 4 * H * W, 43);
      const { ws, gs } = phasesOf(x, w, shape, O, 3);
      const run = () => ({
        y: Array.from(conv2dInterleaved(x, ws, gs, b, true)),
        dx: Array.from(conv2dInterleavedInputGrad(dy, ws, gs)),
      });
      setCpuThreads(1);
      const whole = run();
      // Against float64: the pre-activation through the ReLU, and the input gradient.
      const ref = upConv64(x, w, b, shape, O, 3);
      expectRelClose(
        Float32Array.from(whole.y),
        ref.forward().map((v) => Math.max(v, 0)),
        1e-5,
      );
      expectRelClose(Float32Array.from(whole.dx), ref.grads(dy).x, 1e-5);
      // 1e4 staged floats a chunk: the forward's chunks hold 3 images (6 channels of 17 x 27), the
      // input gradient's 1 (its 64 phase channels of about 16 x 26 each).
      const prevFloats = setWinogradChunkFloats(1e4);
      try {
        for (const threads of [1, 2] as const) {
          setCpuThreads(threads);
          for (const pipeline of [false, true]) {
            const prev = setWinogradPipeline(pipeline);
            const got = run();
            setWinogradPipeline(prev);
            expect(got.y, `forward, ${threads} thread(s), pipeline ${pipeline}`).toEqual(whole.y);
            expect(got.dx, `input gradient, ${threads} thread(s), pipeline ${pipeline}`).toEqual(
              whole.dx,
            );
          }
        }
      } finally {
        setWinogradChunkFloats(prevFloats);
        setCpuThreads(2);
      }
    });
  },
);

describe.runIf(available)("conv2dInterleaved over bands of an image's rows", () => {
  it("equals whole images bitwise and the float64 upsample + conv, bands of one tile row and more", () => {
    const shape = [2, 6, 14, 18];
    const [N, C, H, W] = shape;
    const O = 16;
    const x = randomSigned(N * C * H * W, 50);
    const w = randomSigned(O * C * 9, 51);
    const b = randomSigned(O, 52);
    const { ws, gs } = phasesOf(x, w, shape, O, 3);
    const run = (bandFloats: number) => {
      const prev = setWinogradBandFloats(bandFloats);
      try {
        const { result, staged } = recordStaging(() => conv2dInterleaved(x, ws, gs, b, true));
        return { y: Array.from(result), staged: staged.length };
      } finally {
        setWinogradBandFloats(prev);
      }
    };
    const whole = run(Number.POSITIVE_INFINITY);
    expect(whole.staged).toBe(1);
    const ref = upConv64(x, w, b, shape, O, 3);
    expectRelClose(
      Float32Array.from(whole.y),
      ref.forward().map((v) => Math.max(v, 0)),
      1e-5,
    );
    for (const threads of [1, 2] as const) {
      setCpuThreads(threads);
      // 1 float: bands of one tile row (2 rows of each phase), 7 an image; 2000 floats: 2 bands.
      for (const [floats, bands] of [
        [1, 7],
        [2000, 2],
      ]) {
        const got = run(floats);
        expect(got.y, `${threads} thread(s), ${floats} floats a band`).toEqual(whole.y);
        expect(got.staged).toBe(N * bands);
      }
    }
    setCpuThreads(2);
  });
});

describe.runIf(available)("conv2dInterleavedInputGrad (CPU)", () => {
  it("is the float64 input gradient of upsample + conv: one conv over the four phases of dy", () => {
    for (const [shape, O, k, tile] of [
      [[1, 5, 16, 16], 16, 3, 2],
      [[2, 3, 13, 27], 17, 3, 2],
      [[1, 16, 24, 24], 16, 5, 4],
      [[2, 6, 11, 18], 16, 5, 2],
    ] as const) {
      const [N, C, H, W] = shape;
      const x = randomSigned(N * C * H * W, 20);
      const w = randomSigned(O * C * k * k, 21);
      const dy = randomSigned(N * O * 4 * H * W, 22);
      const { ws, gs } = phasesOf(x, w, [...shape], O, k);
      const prev = setWinograd4x4Min(tile === 4 ? 1 : Number.POSITIVE_INFINITY);
      try {
        expect(interleavedInputGradPays(gs)).toBe(true);
        const got = conv2dInterleavedInputGrad(dy, ws, gs);
        const ref = upConv64(x, w, new Float32Array(O), [...shape], O, k);
        expectRelClose(got, ref.grads(dy).x, 1e-5);
      } finally {
        setWinograd4x4Min(prev);
      }
    }
  });

  it("hands a non-finite gradient to the four flipped convs and their sum", () => {
    const shape = [1, 4, 12, 12];
    const O = 16;
    const x = randomSigned(4 * 144, 23);
    const w = randomSigned(O * 4 * 9, 24);
    const { ws, gs } = phasesOf(x, w, shape, O, 3);
    for (const bad of [Number.POSITIVE_INFINITY, Number.NaN]) {
      const dy = randomSigned(O * 4 * 144, 25);
      dy[9 * 24 + 13] = bad;
      const got = conv2dInterleavedInputGrad(dy, ws, gs);
      const want = new Float32Array(4 * 144);
      for (let p = 0; p < 4; p++) {
        const pad = gs[p].pad;
        const phase = slice(
          dy,
          [1, O, 24, 24],
          [0, 0, p >> 1, p & 1],
          [1, O, 12, 12],
          [1, 1, 2, 2],
        );
        const g = conv2dGeometry([1, O, 12, 12], [4, O, 2, 2], {
          stride: [1, 1],
          dilation: [1, 1],
          inputDilation: [1, 1],
          pad: [1 - pad[0], 1 - pad[1], 1 - pad[2], 1 - pad[3]],
          groups: 1,
        });
        const dx = conv2dFlippedKernel(phase as Float32Array, ws[p], g);
        for (let i = 0; i < want.length; i++) want[i] = p === 0 ? dx[i] : want[i] + dx[i];
      }
      expect(Array.from(got)).toEqual(Array.from(want));
      expect(got.some((v) => !Number.isFinite(v))).toBe(true);
    }
  });
});

describe.runIf(available)("the interleavedConv2d op", () => {
  it("is what nearestUpsampleConv2d takes on the CPU (x2, 16+ channels); value and gradients match float64", () => {
    const [N, C, H, W, O, k] = [2, 5, 10, 12, 16, 3];
    const x = randomSigned(N * C * H * W, 8);
    const w = randomSigned(O * C * k * k, 9);
    const b = randomSigned(O, 10);
    const u = randomSigned(N * O * 4 * H * W, 11);
    const ref = upConv64(x, w, b, [N, C, H, W], O, k);
    const backend = s.tensor([0]).backend;
    const fused = vi.spyOn(backend, "conv2dInterleaved");
    const fusedGrad = vi.spyOn(backend, "conv2dInterleavedInputGrad");
    try {
      const [y, gx, gw, gb] = s.tidy(() => {
        const f = (xt: Tensor, wt: Tensor, bt: Tensor) =>
          s.nearestUpsampleConv2d(xt, wt, 2, { padding: "same", bias: bt });
        const args: [Tensor, Tensor, Tensor] = [
          s.tensor(x, [N, C, H, W]),
          s.tensor(w, [O, C, k, k]),
          s.tensor(b, [O]),
        ];
        const yt = f(args[0], args[1], args[2]);
        const g = s.grads((xt: Tensor, wt: Tensor, bt: Tensor) =>
          s.sum(s.mul(f(xt, wt, bt), s.tensor(u, yt.shape))),
        )(args);
        return [yt, ...g].map((t) => Float32Array.from(t.dataSync() as Float32Array));
      });
      expect(fused).toHaveBeenCalledTimes(2);
      expect(fusedGrad).toHaveBeenCalledTimes(1);
      expectRelClose(y, ref.forward(), 1e-5);
      const want = ref.grads(u);
      expectRelClose(gx, want.x, 1e-5);
      expectRelClose(gw, want.w, 1e-5);
      expectRelClose(gb, want.bias, 1e-5);
    } finally {
      fused.mockRestore();
      fusedGrad.mockRestore();
    }
  });

  it("has differentiable gradients: its Hessian-vector product matches float64", () => {
    // L(x) = sum(A(x)^2) for A = upsample + conv: the Hessian is 2 A^T A, so H v = grad of
    // <A^T A v> taken with u = 2 A v.
    const [N, C, H, W, O] = [1, 3, 8, 8, 16];
    const x = randomSigned(N * C * H * W, 12);
    const w = randomSigned(O * C * 9, 13);
    const v = randomSigned(N * C * H * W, 14);
    const fused = vi.spyOn(s.tensor([0]).backend, "conv2dInterleaved");
    const got = s.tidy(() => {
      const wt = s.tensor(w, [O, C, 3, 3]);
      const up = (t: Tensor) => s.nearestUpsampleConv2d(t, wt, 2, { padding: "same" });
      const vt = s.tensor(v, [N, C, H, W]);
      const dir = (t: Tensor) => {
        const [g] = s.grads((z: Tensor) => s.sum(s.square(up(z))))([t]);
        return s.sum(s.mul(g, vt));
      };
      const [h] = s.grads(dir)([s.tensor(x, [N, C, H, W])]);
      return Float32Array.from(h.dataSync() as Float32Array);
    });
    expect(fused).toHaveBeenCalled();
    fused.mockRestore();
    const zero = new Float32Array(O);
    const av = upConv64(v, w, zero, [N, C, H, W], O, 3).forward();
    const u = Float32Array.from(av, (t) => 2 * t);
    expectRelClose(got, upConv64(v, w, zero, [N, C, H, W], O, 3).grads(u).x, 1e-5);
  });

  it("its input gradient's own kernel gradient matches float64 (the backprop-input op's vjp)", () => {
    // L(w) = <d/dx <A_w x, dy>, v> = <A_w^T dy, v> = <dy, A_w v>: dL/dw is the filter gradient
    // of upsample + conv at input v for output gradient dy.
    const [N, C, H, W, O] = [2, 3, 8, 10, 16];
    const x = randomSigned(N * C * H * W, 15);
    const w = randomSigned(O * C * 9, 16);
    const v = randomSigned(N * C * H * W, 17);
    const dy = randomSigned(N * O * 4 * H * W, 18);
    const fusedGrad = vi.spyOn(s.tensor([0]).backend, "conv2dInterleavedInputGrad");
    const got = s.tidy(() => {
      const xt = s.tensor(x, [N, C, H, W]);
      const dyt = s.tensor(dy, [N, O, 2 * H, 2 * W]);
      const vt = s.tensor(v, [N, C, H, W]);
      const loss = (wt: Tensor) => {
        const up = (t: Tensor) => s.nearestUpsampleConv2d(t, wt, 2, { padding: "same" });
        const [g] = s.grads((z: Tensor) => s.sum(s.mul(up(z), dyt)))([xt]);
        return s.sum(s.mul(g, vt));
      };
      const [gw] = s.grads(loss)([s.tensor(w, [O, C, 3, 3])]);
      return Float32Array.from(gw.dataSync() as Float32Array);
    });
    expect(fusedGrad).toHaveBeenCalled();
    fusedGrad.mockRestore();
    const ref = upConv64(v, w, new Float32Array(O), [N, C, H, W], O, 3);
    expectRelClose(got, ref.grads(dy).w, 1e-5);
  });

  it("is passed through by the ReLU rule sets; LRP refuses it, so nearestUpsampleConv2d never records it there", () => {
    for (const set of [guidedBackpropRules, deconvnetRules]) {
      const table = coverageTable(set);
      for (const op of ["interleavedConv2d", "interleavedConv2dBackpropInput"] as const) {
        expect(table.passThrough).toContain(op);
      }
    }
    const lrp = lrpEpsilonRules();
    expect(coverageTable(lrp).fails).toContain("interleavedConv2d");
    // Under LRP the conv2d rule must see the conv: the upsample + conv runs as written.
    const fused = vi.spyOn(s.tensor([0]).backend, "conv2dInterleaved");
    const [N, C, H, W, O] = [1, 3, 8, 8, 16];
    const x = randomSigned(N * C * H * W, 19);
    const w = randomSigned(O * C * 9, 20);
    const lrpGrad = (merged: boolean) =>
      withRules(lrp, () =>
        s.tidy(() => {
          const wt = s.tensor(w, [O, C, 3, 3]);
          const up = (t: Tensor) =>
            merged
              ? s.nearestUpsampleConv2d(t, wt, 2, { padding: "same" })
              : s.conv2d(s.upsample(t, 2, "nearest"), wt, { padding: "same" });
          const [g] = s.grads((t: Tensor) => s.sum(up(t)))([s.tensor(x, [N, C, H, W])]);
          return Array.from(g.dataSync() as Float32Array);
        }),
      );
    const underLrp = lrpGrad(true);
    expect(fused).not.toHaveBeenCalled();
    fused.mockRestore();
    // The same as LRP on the composed ops.
    const composed = lrpGrad(false);
    expect(underLrp).toEqual(composed);
  });

  it("names what is wrong with its arguments", () => {
    s.tidy(() => {
      const x = s.ones([1, 2, 4, 4]);
      const w = s.ones([3, 2, 2, 2]);
      const pad = [1, 0, 1, 0] as const;
      expect(() => interleavedConv2d(x, [w, w, w], [pad, pad, pad])).toThrow(
        /expected 4 kernels and 4 pads .* got 3 and 3/,
      );
      const other = [0, 1, 0, 1] as const;
      expect(() => interleavedConv2d(x, [w, w, w, w], [pad, pad, pad, [0, 0, 0, 0]])).toThrow(
        /the phases' outputs differ/,
      );
      expect(interleavedConv2d(x, [w, w, w, w], [pad, pad, other, other]).shape).toEqual([
        1, 3, 8, 8,
      ]);
    });
  });
});
