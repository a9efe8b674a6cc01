/**
 * The input gradient of strided convs as GEMM + col2im (conv2d-col2im.ts) against a float64
 * reference written from the forward conv's definition (every output pixel's taps sent back to
 * the input pixels they read), and through the conv2dBackpropInput op and its own gradients.
 */
import { beforeAll, describe, expect, it, vi } from "vitest";
import * as s from "../../src/index.ts";
import { conv2dGeometry } from "../../src/kernels/conv-geometry.ts";
import * as col2im from "../../src/kernels/cpu/conv2d-col2im.ts";
import { setGemmImpl } from "../../src/kernels/cpu/gemm.ts";
import { helperReady } from "../../src/kernels/cpu/wasm/gemm-threads.ts";
import { gemmSimd } from "../../src/kernels/cpu/wasm/gemm-wasm.ts";
import { convInputGrad } from "../../src/ops/conv.ts";
import { expectRelClose, randomSigned } from "../helpers/float-arrays.ts";
import { nd } from "../reference/nd.ts";
import { conv2dTransposeRef } from "../reference/nn.ts";

const available = gemmSimd() !== null;

beforeAll(async () => {
  setGemmImpl("auto");
  await helperReady(gemmSimd());
});

/** A forward conv x [N, C, H, W] -> O channels, kernel kh x kw, stride, dilation, pads. */
interface Forward {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  kh: number;
  kw: number;
  stride: [number, number];
  dilation: [number, number];
  pad: [number, number, number, number];
}

const outSize = (f: Forward) => [
  Math.floor((f.H + f.pad[0] + f.pad[1] - f.dilation[0] * (f.kh - 1) - 1) / f.stride[0]) + 1,
  Math.floor((f.W + f.pad[2] + f.pad[3] - f.dilation[1] * (f.kw - 1) - 1) / f.stride[1]) + 1,
];

/** Float64 dx [N, C, H, W] for dy [N, O, Ho, Wo] and w [O, C, kh, kw], from the forward sums. */
function inputGrad64(f: Forward, dy: Float32Array, w: Float32Array): Float64Array {
  const [Ho, Wo] = outSize(f);
  const dx = new Float64Array(f.N * f.C * f.H * f.W);
  for (let n = 0; n < f.N; n++)
    for (let o = 0; o < f.O; o++)
      for (let oy = 0; oy < Ho; oy++)
        for (let ox = 0; ox < Wo; ox++) {
          const d = dy[((n * f.O + o) * Ho + oy) * Wo + ox];
          for (let c = 0; c < f.C; c++)
            for (let ky = 0; ky < f.kh; ky++) {
              const iy = oy * f.stride[0] + ky * f.dilation[0] - f.pad[0];
              if (iy < 0 || iy >= f.H) continue;
              for (let kx = 0; kx < f.kw; kx++) {
                const ix = ox * f.stride[1] + kx * f.dilation[1] - f.pad[2];
                if (ix < 0 || ix >= f.W) continue;
                dx[((n * f.C + c) * f.H + iy) * f.W + ix] +=
                  d * w[((o * f.C + c) * f.kh + ky) * f.kw + kx];
              }
            }
        }
  return dx;
}

/** The geometry conv2dFlippedKernel gets for f's input gradient (as ops/conv.ts builds it). */
function flippedGeometry(f: Forward) {
  const [Ho, Wo] = outSize(f);
  const [sh, sw] = f.stride;
  const [dh, dw] = f.dilation;
  const [pt, , pl] = f.pad;
  return conv2dGeometry([f.N, f.O, Ho, Wo], [f.C, f.O, f.kh, f.kw], {
    stride: [1, 1],
    dilation: [dh, dw],
    inputDilation: [sh, sw],
    pad: [
      dh * (f.kh - 1) - pt,
      f.H - 1 - (Ho - 1) * sh + pt,
      dw * (f.kw - 1) - pl,
      f.W - 1 - (Wo - 1) * sw + pl,
    ],
    groups: 1,
  });
}

/** A forward conv: batch, channels, input size, output channels, kernel, stride, dilation, pads. */
const conv = (
  N: number,
  C: number,
  [H, W]: [number, number],
  O: number,
  [kh, kw]: [number, number],
  stride: [number, number],
  dilation: [number, number],
  pad: [number, number, number, number],
): Forward => ({ N, C, H, W, O, kh, kw, stride, dilation, pad });

const cases: [string, Forward][] = [
  [
    "3x3 stride 2, pad 1 (ResNet's downsampling conv)",
    conv(2, 5, [14, 14], 12, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1]),
  ],
  [
    "7x7 stride 2, pad 3, odd input (ResNet's stem)",
    conv(1, 3, [23, 21], 8, [7, 7], [2, 2], [1, 1], [3, 3, 3, 3]),
  ],
  [
    "1x1 stride 2 (untouched pixels stay 0)",
    conv(3, 6, [9, 10], 7, [1, 1], [2, 2], [1, 1], [0, 0, 0, 0]),
  ],
  [
    "3x2 kernel, strides 3 and 2, dilation 2, uneven pads",
    conv(2, 4, [17, 12], 9, [3, 2], [3, 2], [2, 2], [2, 0, 1, 3]),
  ],
  [
    "2x2 stride 4 (stride beyond the kernel: rows and columns no tap reads)",
    conv(2, 3, [13, 11], 5, [2, 2], [4, 4], [1, 1], [1, 0, 0, 1]),
  ],
  [
    "45x45 outputs over several C blocks (images cut mid-row) and 81 rows (two row blocks)",
    conv(2, 9, [90, 89], 4, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1]),
  ],
  [
    "300 forward channels (two k blocks, each block's product added separately)",
    conv(2, 3, [12, 12], 300, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1]),
  ],
];

describe.skipIf(!available)("conv2dInputGradCol2im", () => {
  it.each(cases)("matches the float64 input gradient: %s", (_, f) => {
    const [Ho, Wo] = outSize(f);
    const dy = randomSigned(f.N * f.O * Ho * Wo, 3);
    const w = randomSigned(f.O * f.C * f.kh * f.kw, 4);
    const g = flippedGeometry(f);
    expect([g.outHeight, g.outWidth]).toEqual([f.H, f.W]);
    const want = inputGrad64(f, dy, w);
    expectRelClose(col2im.conv2dInputGradCol2im(dy, w, g), want, 2e-6);
    // Groups of one and of two images (fewer than N staged at once).
    const perImage = f.O * Ho * Wo;
    expectRelClose(col2im.conv2dInputGradCol2im(dy, w, g, perImage), want, 2e-6);
    expectRelClose(col2im.conv2dInputGradCol2im(dy, w, g, 2 * perImage), want, 2e-6);
  });

  it("propagates Inf and NaN in dy to exactly the input pixels the sums reach", () => {
    const f = cases[0][1];
    const [Ho, Wo] = outSize(f);
    const dy = randomSigned(f.N * f.O * Ho * Wo, 5);
    dy[3] = Number.POSITIVE_INFINITY;
    dy[f.O * Ho * Wo + 20] = Number.NaN;
    const w = randomSigned(f.O * f.C * f.kh * f.kw, 6);
    const got = col2im.conv2dInputGradCol2im(dy, w, flippedGeometry(f));
    const want = inputGrad64(f, dy, w);
    let nonFinite = 0;
    for (let i = 0; i < want.length; i++) {
      if (Number.isFinite(want[i])) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4);
      else {
        nonFinite++;
        expect(got[i]).toBe(Math.fround(want[i]));
      }
    }
    expect(nonFinite).toBeGreaterThan(0);
  });

  it("is what conv2dBackpropInput computes, and its own gradients match float64", () => {
    const f = conv(2, 6, [10, 10], 8, [3, 3], [2, 2], [1, 1], [1, 1, 1, 1]);
    const prev = col2im.setCol2imMinDepth(1);
    const spy = vi.spyOn(col2im, "conv2dInputGradCol2im");
    try {
      const [Ho, Wo] = outSize(f);
      const dyData = randomSigned(f.N * f.O * Ho * Wo, 7);
      const wData = randomSigned(f.O * f.C * f.kh * f.kw, 8);
      const v = randomSigned(f.N * f.C * f.H * f.W, 9);
      const dy = s.tensor(dyData, [f.N, f.O, Ho, Wo]);
      const w = s.tensor(wData, [f.O, f.C, f.kh, f.kw]);
      const params = {
        stride: f.stride,
        dilation: f.dilation,
        inputDilation: [1, 1] as [number, number],
        pad: f.pad,
        groups: 1,
      };
      const dx = convInputGrad(dy, w, params, [f.N, f.C, f.H, f.W]);
      expect(spy).toHaveBeenCalled();
      expectRelClose(dx.dataSync() as Float32Array, inputGrad64(f, dyData, wData), 2e-6);
      // L = <dx(dy, w), v> is bilinear: dL/ddy = conv(v, w) (the forward conv), and
      // dL/dw[o, c, ky, kx] = sum dy[n, o, oy, ox] v[n, c, iy, ix] (the filter gradient).
      const vt = s.tensor(v, [f.N, f.C, f.H, f.W]);
      const loss = (a: Tensor, b: Tensor) =>
        s.sum(s.mul(convInputGrad(a, b, params, [f.N, f.C, f.H, f.W]), vt));
      const [gdy, gw] = s.grads(loss)([dy, w]);
      const wantDy = new Float64Array(dyData.length);
      const wantW = new Float64Array(wData.length);
      for (let i = 0; i < dyData.length; i++) {
        const e = new Float32Array(dyData.length);
        e[i] = 1;
        const col = inputGrad64(f, e, wData);
        let acc = 0;
        for (let j = 0; j < v.length; j++) acc += col[j] * v[j];
        wantDy[i] = acc;
      }
      for (let i = 0; i < wData.length; i++) {
        const e = new Float32Array(wData.length);
        e[i] = 1;
        const col = inputGrad64(f, dyData, e);
        let acc = 0;
        for (let j = 0; j < v.length; j++) acc += col[j] * v[j];
        wantW[i] = acc;
      }
      expectRelClose(gdy.dataSync() as Float32Array, wantDy, 2e-6);
      expectRelClose(gw.dataSync() as Float32Array, wantW, 2e-6);
    } finally {
      spy.mockRestore();
      col2im.setCol2imMinDepth(prev);
    }
  });

  it("leaves out transposed convs whose output padding reaches the stride, and their gradients match float64", () => {
    // Axis 0: stride 1, dilation 2, output padding 1. The forward conv of the transposed conv's
    // output would be a row longer than its input, so the fused op's own gradients (that conv,
    // its filter gradient) would not meet dy; the unfused path is taken instead.
    const p = {
      stride: [1, 2] as [number, number],
      padding: [1, 1] as [number, number],
      outputPadding: [1, 1] as [number, number],
      dilation: [2, 2] as [number, number],
      groups: 1,
    };
    const [xShape, wShape] = [
      [2, 3, 4, 5],
      [3, 4, 3, 3],
    ];
    const xData = randomSigned(120, 10);
    const wData = randomSigned(108, 11);
    const y64 = (xs: ArrayLike<number>, ws: ArrayLike<number>) =>
      conv2dTransposeRef(nd(xShape, xs), nd(wShape, ws), p, null);
    const yShape = y64(xData, wData).shape;
    const v = randomSigned(
      yShape.reduce((a, b) => a * b),
      12,
    );
    // L = <convT(x, w), v> is bilinear: each gradient entry is L at a unit vector.
    const dot = (y: { data: Float64Array }) => y.data.reduce((acc, e, i) => acc + e * v[i], 0);
    const unit = (n: number, i: number) => Float32Array.from({ length: n }, (_, j) => +(j === i));
    const wantX = Float64Array.from(xData, (_, i) => dot(y64(unit(120, i), wData)));
    const wantW = Float64Array.from(wData, (_, i) => dot(y64(xData, unit(108, i))));
    const prev = col2im.setCol2imMinDepth(1);
    const spy = vi.spyOn(col2im, "conv2dInputGradCol2im");
    try {
      const vt = s.tensor(v, yShape);
      const loss = (a: Tensor, b: Tensor) => s.sum(s.mul(s.conv2dTranspose(a, b, p), vt));
      const [gx, gw] = s.grads(loss)([s.tensor(xData, xShape), s.tensor(wData, wShape)]);
      expectRelClose(gx.dataSync() as Float32Array, wantX, 2e-6);
      expectRelClose(gw.dataSync() as Float32Array, wantW, 2e-6);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      col2im.setCol2imMinDepth(prev);
    }
  });

  it("is taken for strided convs' gradients from the set depth on, on the wasm GEMM only", () => {
    const deep = flippedGeometry({ ...cases[0][1], O: 256 });
    const shallow = flippedGeometry({ ...cases[0][1], O: 128 });
    expect(col2im.col2imInputGradPays(shallow)).toBe(true);
    const prev = col2im.setCol2imMinDepth(256);
    try {
      expect(col2im.col2imInputGradPays(deep)).toBe(true);
      expect(col2im.col2imInputGradPays(shallow)).toBe(false);
    } finally {
      col2im.setCol2imMinDepth(prev);
    }
    const unstrided = flippedGeometry({ ...cases[0][1], stride: [1, 1] });
    expect(col2im.col2imInputGradPays(unstrided)).toBe(false);
    setGemmImpl("ts");
    try {
      expect(col2im.col2imInputGradPays(deep)).toBe(false);
    } finally {
      setGemmImpl("auto");
    }
  });
});

type Tensor = s.Tensor;
