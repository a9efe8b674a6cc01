/**
 * conv2d's input gradient with the flip-swapped kernel read in place (conv2dWinograd's flipped
 * read, conv2dFlippedKernel, the conv2dBackpropInput op) against an explicit flip-swap (bitwise)
 * and float64 references (the gradient and the op's own gradients).
 */
import { beforeAll, describe, expect, it, vi } from "vitest";
import { runOp } from "../../src/autodiff/op.ts";
import type { Tensor } from "../../src/index.ts";
import * as s from "../../src/index.ts";
import { conv2dGeometry } from "../../src/kernels/conv-geometry.ts";
import { conv2dFlippedKernel, conv2dForward } from "../../src/kernels/cpu/conv2d.ts";
import { conv2dWinograd, setWinograd4x4Min } from "../../src/kernels/cpu/conv2d-winograd.ts";
import { setWinogradChunkedMin } from "../../src/kernels/cpu/conv2d-winograd-chunked.ts";
import { setGemmImpl } from "../../src/kernels/cpu/gemm.ts";
import { helperReady } from "../../src/kernels/cpu/wasm/gemm-threads.ts";
import { gemmSimd } from "../../src/kernels/cpu/wasm/gemm-wasm.ts";
import { conv2dBackpropInputOp } from "../../src/ops/conv.ts";
import { coverageTable } from "../../src/rules/coverage-table.ts";
import { lrpEpsilonRules } from "../../src/rules/lrp.ts";
import { deconvnetRules, guidedBackpropRules } from "../../src/rules/relu-rules.ts";
import { expectRelClose, randomSigned } from "../helpers/float-arrays.ts";

const available = gemmSimd() !== null;

beforeAll(async () => {
  setGemmImpl("auto");
  await helperReady(gemmSimd());
});

/** w [C, O, k, k] -> [O, C, k, k] with each kernel reversed (rotated 180 degrees). */
function flipSwap(w: Float32Array, C: number, O: number, k: number): Float32Array {
  const taps = k * k;
  const out = new Float32Array(w.length);
  for (let c = 0; c < C; c++)
    for (let o = 0; o < O; o++)
      for (let t = 0; t < taps; t++)
        out[(o * C + c) * taps + t] = w[(c * O + o) * taps + taps - 1 - t];
  return out;
}

/** The geometry of a stride-1 conv x [N, C, H, W] -> O channels, k x k kernel, padding p. */
function geometry(N: number, C: number, H: number, W: number, O: number, k: number, p: number) {
  return conv2dGeometry([N, C, H, W], [O, C, k, k], {
    stride: [1, 1],
    pad: [p, p, p, p],
    dilation: [1, 1],
    inputDilation: [1, 1],
    groups: 1,
  });
}

/**
 * Float64: conv(x [N, C, H, W], w [O, C, k, k]) with padding p (stride 1), and its input and
 * filter gradients for upstream dy [N, O, Ho, Wo], straight from the sums' definitions.
 */
function conv64(x: Float32Array, w: Float32Array, N: number, C: number, H: number, W: number) {
  return (O: number, k: number, p: number) => {
    const Ho = H + 2 * p - k + 1;
    const Wo = W + 2 * p - k + 1;
    const each = (
      f: (n: number, o: number, c: number, y: number, xx: number, i: number, j: number) => void,
    ) => {
      for (let n = 0; n < N; n++)
        for (let o = 0; o < O; o++)
          for (let c = 0; c < C; c++)
            for (let y = 0; y < Ho; y++)
              for (let xx = 0; xx < Wo; xx++)
                for (let i = 0; i < k; i++)
                  for (let j = 0; j < k; j++) {
                    const iy = y + i - p;
                    const ix = xx + j - p;
                    if (iy >= 0 && iy < H && ix >= 0 && ix < W) f(n, o, c, y, xx, i, j);
                  }
    };
    const xi = (n: number, c: number, y: number, xx: number, i: number, j: number) =>
      ((n * C + c) * H + y + i - p) * W + xx + j - p;
    const yi = (n: number, o: number, y: number, xx: number) => ((n * O + o) * Ho + y) * Wo + xx;
    const wi = (o: number, c: number, i: number, j: number) => ((o * C + c) * k + i) * k + j;
    return {
      Ho,
      Wo,
      forward(): Float64Array {
        const out = new Float64Array(N * O * Ho * Wo);
        each((n, o, c, y, xx, i, j) => {
          out[yi(n, o, y, xx)] += x[xi(n, c, y, xx, i, j)] * w[wi(o, c, i, j)];
        });
        return out;
      },
      inputGrad(dy: Float32Array): Float64Array {
        const out = new Float64Array(x.length);
        each((n, o, c, y, xx, i, j) => {
          out[xi(n, c, y, xx, i, j)] += dy[yi(n, o, y, xx)] * w[wi(o, c, i, j)];
        });
        return out;
      },
      filterGrad(dy: Float32Array): Float64Array {
        const out = new Float64Array(w.length);
        each((n, o, c, y, xx, i, j) => {
          out[wi(o, c, i, j)] += dy[yi(n, o, y, xx)] * x[xi(n, c, y, xx, i, j)];
        });
        return out;
      },
    };
  };
}

describe.runIf(available)("conv with the flip-swapped kernel read in place", () => {
  it("Winograd's flipped read is bitwise its result on an explicit flip-swap (tiles and chunks, F(2x2) 3x3 and 2x2, F(4x4))", () => {
    for (const [k, tile, chunked] of [
      [3, 2, false],
      [3, 4, false],
      [2, 2, false],
      [3, 2, true],
      [3, 4, true],
    ] as const) {
      // 6 output channels: the chunked path's last panel is partial.
      const [N, C, H, W, O] = [2, 7, 13, 27, 6];
      const g = geometry(N, C, H, W, O, k, k === 3 ? 1 : 0);
      const x = randomSigned(N * C * H * W, 1);
      // The kernel of the conv whose input gradient this is: [C, O, k, k].
      const w = randomSigned(C * O * k * k, 2);
      const size = N * O * g.outHeight * g.outWidth;
      const prev = setWinograd4x4Min(tile === 4 ? 1 : Number.POSITIVE_INFINITY);
      const prevChunked = setWinogradChunkedMin(chunked ? 1 : Number.POSITIVE_INFINITY);
      try {
        const fused = new Float32Array(size).fill(Number.NaN);
        const plain = new Float32Array(size).fill(Number.NaN);
        expect(conv2dWinograd(x, w, g, null, fused, false, true)).toBe(true);
        expect(conv2dWinograd(x, flipSwap(w, C, O, k), g, null, plain, false)).toBe(true);
        expect(Array.from(fused)).toEqual(Array.from(plain));
      } finally {
        setWinograd4x4Min(prev);
        setWinogradChunkedMin(prevChunked);
      }
    }
  });

  it("falls back to an explicit flip-swap where Winograd hands a non-finite result back", () => {
    const [N, C, H, W, O] = [1, 4, 12, 12, 5];
    const g = geometry(N, C, H, W, O, 3, 1);
    const w = randomSigned(C * O * 9, 3);
    for (const bad of [Number.POSITIVE_INFINITY, Number.NaN]) {
      const x = randomSigned(N * C * H * W, 4);
      x[3 * 12 + 7] = bad;
      const got = conv2dFlippedKernel(x, w, g);
      const want = conv2dForward(x, flipSwap(w, C, O, 3), g, null, false);
      expect(Array.from(got)).toEqual(Array.from(want));
      expect(got.some((v) => !Number.isFinite(v))).toBe(true);
    }
  });

  it("is the op conv2d's gradient takes for a stride-1 3x3 conv, equal to the float64 input gradient", () => {
    const [N, C, H, W, O] = [2, 8, 12, 12, 16];
    const x = randomSigned(N * C * H * W, 5);
    const w = randomSigned(O * C * 9, 6);
    const dy = randomSigned(N * O * H * W, 7);
    const ref = conv64(x, w, N, C, H, W)(O, 3, 1);
    const backend = s.tensor([0]).backend;
    const fused = vi.spyOn(backend, "conv2dFlippedKernel");
    try {
      const inputGrad = (stride: number, d: Float32Array, ho: number) =>
        s.tidy(() => {
          const [gx] = s.grads((t: Tensor) =>
            s.conv2d(t, s.tensor(w, [O, C, 3, 3]), { padding: 1, stride }),
          )([s.tensor(x, [N, C, H, W])], s.tensor(d, [N, O, ho, ho]));
          return Float32Array.from(gx.dataSync() as Float32Array);
        });
      expectRelClose(inputGrad(1, dy, H), ref.inputGrad(dy), 1e-5);
      expect(fused).toHaveBeenCalledTimes(1);
      // Stride 2: the input dilation rules Winograd out; the fused op computes it by col2im
      // (conv2d-col2im.ts), which reads the kernel as it is.
      inputGrad(2, dy.subarray(0, N * O * 36), 6);
      expect(fused).toHaveBeenCalledTimes(2);
    } finally {
      fused.mockRestore();
    }
  });

  it("refuses, naming the shapes, a conv it has no fused path for (grouped)", () => {
    s.tidy(() => {
      const dy = s.ones([1, 4, 6, 6]);
      const w = s.ones([4, 2, 3, 3]);
      const attrs = {
        stride: [1, 1],
        dilation: [1, 1],
        inputDilation: [1, 1],
        pad: [1, 1, 1, 1],
        groups: 2,
        xShape: [1, 4, 6, 6],
      } as const;
      expect(() => runOp(conv2dBackpropInputOp, [dy, w], attrs)).toThrow(
        /conv2dBackpropInput: .*dy \[1,4,6,6\], w \[4,2,3,3\] \(groups 2/,
      );
    });
  });

  it("is passed through by the rule sets, as conv2dBackpropFilter is (recording it never fails)", () => {
    for (const set of [guidedBackpropRules, deconvnetRules, lrpEpsilonRules()]) {
      const table = coverageTable(set);
      for (const op of ["conv2dBackpropInput", "conv2dBackpropFilter"] as const) {
        expect(table.passThrough).toContain(op);
        expect(table.fails).not.toContain(op);
      }
    }
  });

  it("has the forward conv (w.r.t. dy) and the filter gradient (w.r.t. w) as its own gradients", () => {
    // L(dy, w) = sum(inputGrad(dy, w) * u): dL/ddy = conv(u, w), dL/dw = filterGrad(u, dy).
    const [N, C, H, W, O] = [1, 6, 10, 10, 9];
    const x = randomSigned(N * C * H * W, 8);
    const w = randomSigned(O * C * 9, 9);
    const dy = randomSigned(N * O * H * W, 10);
    const u = randomSigned(N * C * H * W, 11);
    const ref = conv64(u, w, N, C, H, W)(O, 3, 1);
    const fused = vi.spyOn(s.tensor([0]).backend, "conv2dFlippedKernel");
    const [gDy, gW] = s.tidy(() => {
      const xt = s.tensor(x, [N, C, H, W]);
      const ut = s.tensor(u, [N, C, H, W]);
      const loss = (d: Tensor, wt: Tensor) => {
        const [gx] = s.grads((t: Tensor) => s.conv2d(t, wt, { padding: 1 }))([xt], d);
        return s.sum(s.mul(gx, ut));
      };
      return s
        .grads(loss)([s.tensor(dy, [N, O, H, W]), s.tensor(w, [O, C, 3, 3])])
        .map((t) => Float32Array.from(t.dataSync() as Float32Array));
    });
    expect(fused).toHaveBeenCalled();
    fused.mockRestore();
    expectRelClose(gDy, ref.forward(), 1e-5);
    expectRelClose(gW, ref.filterGrad(dy), 1e-5);
  });
});
