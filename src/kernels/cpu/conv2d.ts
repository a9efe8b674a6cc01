/**
 * Generalised 2-D convolution on the CPU as im2col + GEMM (see conv-geometry.ts for the
 * geometry: NCHW input, OIHW weight, groups, stride, kernel dilation, input dilation, pads that
 * may be negative).
 *
 * Per batch item and group, out_g [O/g x outH*outW] = W_g [O/g x K] * col [K x outH*outW] with
 * K = C/g * kh * kw, which is NCHW output directly; the filter gradient is
 * dW_g [O/g x K] += dy_g [O/g x outH*outW] * col^T. Both build col with the same im2col, which
 * reads the dilated, padded input implicitly (the dilated input is never materialised).
 */
import type { Conv2dGeometry } from "../conv-geometry.ts";
import { gemm } from "./gemm.ts";

/**
 * Upper bound on the im2col buffer (floats) before output rows are processed in chunks: keeps
 * the buffer in L2/L3 for large images and bounds its memory (a 256x256 64-channel 3x3 conv
 * would otherwise need a 150 MB column matrix).
 */
const COL_BUDGET = 1 << 20;

/** Reused across calls so repeated convolutions do not churn the GC. */
let colBuf = new Float32Array(0);

function colScratch(size: number): Float32Array {
  if (colBuf.length < size) colBuf = new Float32Array(size);
  return colBuf;
}

/** 1x1, stride 1, no padding, no input dilation: the input plane already is the column matrix. */
function isPointwise(g: Conv2dGeometry): boolean {
  return (
    g.kernelH === 1 &&
    g.kernelW === 1 &&
    g.stride[0] === 1 &&
    g.stride[1] === 1 &&
    g.inputDilation[0] === 1 &&
    g.inputDilation[1] === 1 &&
    g.pad[0] === 0 &&
    g.pad[1] === 0 &&
    g.pad[2] === 0 &&
    g.pad[3] === 0
  );
}

/** Output rows per im2col chunk. */
function chunkRows(g: Conv2dGeometry, kDim: number): number {
  return Math.max(1, Math.min(g.outHeight, Math.floor(COL_BUDGET / (kDim * g.outWidth))));
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * col[r, (oy - oy0) * outW + ox] for r = (c * kh + ky) * kw + kx, c < C/g, oy in [oy0, oy1):
 * the dilated, padded input of channels xOff.. at (oy * sh + ky * dh - padTop,
 * ox * sw + kx * dw - padLeft), zero where that lands on padding or on an inserted zero.
 */
function im2col(
  x: Float32Array,
  xOff: number,
  g: Conv2dGeometry,
  oy0: number,
  oy1: number,
  col: Float32Array,
): void {
  const { inHeight: H, inWidth: W, kernelH: kh, kernelW: kw, outWidth: outW } = g;
  const [sh, sw] = g.stride;
  const [dh, dw] = g.dilation;
  const [idh, idw] = g.inputDilation;
  const padTop = g.pad[0];
  const padLeft = g.pad[2];
  const cg = g.inChannels / g.groups;
  const yMax = (H - 1) * idh;
  const xMax = (W - 1) * idw;
  // Along a row, X = off + ox * sw hits a real pixel every `q` steps of ox when idw > 1.
  const q = idw / gcd(sw, idw);
  let d = 0;
  for (let c = 0; c < cg; c++) {
    const xc = xOff + c * H * W;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const off = kx * dw - padLeft;
        // ox range whose X lies inside the dilated input [0, xMax].
        const lo = off >= 0 ? 0 : Math.ceil(-off / sw);
        const hi = xMax - off < 0 ? 0 : Math.min(outW, Math.floor((xMax - off) / sw) + 1);
        let first = lo;
        if (idw > 1) {
          while (first < hi && first < lo + q && (off + first * sw) % idw !== 0) first++;
          if (first >= lo + q) first = hi;
        }
        for (let oy = oy0; oy < oy1; oy++, d += outW) {
          const y = oy * sh + ky * dh - padTop;
          if (y < 0 || y > yMax || y % idh !== 0 || lo >= hi) {
            col.fill(0, d, d + outW);
            continue;
          }
          const row = xc + (y / idh) * W;
          if (idw === 1) {
            if (lo > 0) col.fill(0, d, d + lo);
            if (sw === 1) {
              const src = row + off;
              for (let ox = lo; ox < hi; ox++) col[d + ox] = x[src + ox];
            } else {
              let src = row + off + lo * sw;
              for (let ox = lo; ox < hi; ox++, src += sw) col[d + ox] = x[src];
            }
            if (hi < outW) col.fill(0, d + hi, d + outW);
          } else {
            col.fill(0, d, d + outW);
            const step = (q * sw) / idw;
            let src = row + (off + first * sw) / idw;
            for (let ox = first; ox < hi; ox += q, src += step) col[d + ox] = x[src];
          }
        }
      }
    }
  }
}

/**
 * out [N, O, outH, outW] = conv(x [N, C, H, W], w [O, C/groups, kh, kw]) + bias[o] (when given),
 * then max(0, .) when relu. Applied per chunk of output rows while it is still in cache.
 */
export function conv2dForward(
  x: Float32Array,
  w: Float32Array,
  g: Conv2dGeometry,
  bias: Float32Array | null,
  relu: boolean,
): Float32Array {
  const { batch: N, inChannels: C, outChannels: O, groups } = g;
  const outW = g.outWidth;
  const P = g.outHeight * outW;
  const cg = C / groups;
  const og = O / groups;
  const kDim = cg * g.kernelH * g.kernelW;
  const inPlane = g.inHeight * g.inWidth;
  const out = new Float32Array(N * O * P);
  const pointwise = isPointwise(g);
  const rows = pointwise ? g.outHeight : chunkRows(g, kDim);
  const col = pointwise ? null : colScratch(kDim * rows * outW);
  for (let n = 0; n < N; n++) {
    for (let grp = 0; grp < groups; grp++) {
      const xOff = (n * C + grp * cg) * inPlane;
      const outOff = (n * O + grp * og) * P;
      const wOff = grp * og * kDim;
      for (let oy0 = 0; oy0 < g.outHeight; oy0 += rows) {
        const oy1 = Math.min(g.outHeight, oy0 + rows);
        const cols = (oy1 - oy0) * outW;
        const cOff = outOff + oy0 * outW;
        if (col === null) {
          gemm(og, P, cg, w, wOff, kDim, false, x, xOff, inPlane, false, out, cOff, P, false);
        } else {
          im2col(x, xOff, g, oy0, oy1, col);
          gemm(og, cols, kDim, w, wOff, kDim, false, col, 0, cols, false, out, cOff, P, false);
        }
        if (bias !== null || relu) {
          for (let o = 0; o < og; o++) {
            const bv = bias === null ? 0 : bias[grp * og + o];
            const start = cOff + o * P;
            const end = start + cols;
            if (relu) {
              for (let i = start; i < end; i++) {
                const v = out[i] + bv;
                out[i] = v > 0 ? v : 0;
              }
            } else {
              for (let i = start; i < end; i++) out[i] += bv;
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * dW [O, C/groups, kh, kw] = sum over n, oy, ox of dy[n, o, oy, ox] *
 * xDilatedPadded[n, c, oy * sh + ky * dh, ox * sw + kx * dw].
 */
export function conv2dBackpropFilter(
  x: Float32Array,
  dy: Float32Array,
  g: Conv2dGeometry,
): Float32Array {
  const { batch: N, inChannels: C, outChannels: O, groups } = g;
  const outW = g.outWidth;
  const P = g.outHeight * outW;
  const cg = C / groups;
  const og = O / groups;
  const kDim = cg * g.kernelH * g.kernelW;
  const inPlane = g.inHeight * g.inWidth;
  const dW = new Float32Array(O * kDim);
  const pointwise = isPointwise(g);
  const rows = pointwise ? g.outHeight : chunkRows(g, kDim);
  const col = pointwise ? null : colScratch(kDim * rows * outW);
  for (let grp = 0; grp < groups; grp++) {
    const wOff = grp * og * kDim;
    for (let n = 0; n < N; n++) {
      const xOff = (n * C + grp * cg) * inPlane;
      const dyOff = (n * O + grp * og) * P;
      for (let oy0 = 0; oy0 < g.outHeight; oy0 += rows) {
        const oy1 = Math.min(g.outHeight, oy0 + rows);
        const cols = (oy1 - oy0) * outW;
        const aOff = dyOff + oy0 * outW;
        const acc = n > 0 || oy0 > 0;
        if (col === null) {
          gemm(og, kDim, P, dy, dyOff, P, false, x, xOff, inPlane, true, dW, wOff, kDim, acc);
        } else {
          im2col(x, xOff, g, oy0, oy1, col);
          gemm(og, kDim, cols, dy, aOff, P, false, col, 0, cols, true, dW, wOff, kDim, acc);
        }
      }
    }
  }
  return dW;
}
