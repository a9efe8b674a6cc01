/**
 * 2-D max and average pooling over NCHW planes, with the window and divisor rules of PyTorch's
 * CPU kernels (aten/src/ATen/native/cpu/{Max,Avg}PoolKernel.cpp).
 */

import type { PoolGeometry } from "../pool-geometry.ts";
import { allocF32, allocI32 } from "./buffers.ts";
import { maxPool3x3s2Simd } from "./wasm/maxpool-simd.ts";

function checkLength(op: string, what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${op}: ${what} has length ${got}, expected ${want}`);
}

/**
 * Max pooling. argmax holds y * W + x of the chosen input pixel within its plane. Padding never
 * wins; ties keep the first maximum in row-major window order; a NaN wins over every number and a
 * later NaN over an earlier one (PyTorch's `val > max || isnan(val)`), so NaN propagates.
 */
export function maxPool2d(
  x: Float32Array,
  g: PoolGeometry,
): { out: Float32Array; argmax: Int32Array } {
  const { batch, channels, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW } = g;
  const [kh, kw] = g.kernel;
  const [sh, sw] = g.stride;
  const padTop = g.pad[0];
  const padLeft = g.pad[2];
  checkLength("maxPool2d", "x", x.length, batch * channels * H * W);
  const planes = batch * channels;
  const out = allocF32(planes * OH * OW);
  const argmax = allocI32(planes * OH * OW);
  if (kh === 2 && kw === 2 && sh === 2 && sw === 2 && padTop === 0 && padLeft === 0) {
    if (2 * OH <= H && 2 * OW <= W) {
      maxPool2x2(x, planes, H, W, OH, OW, out, argmax);
      return { out, argmax };
    }
  }
  // 3x3 windows at stride 2 wholly inside the input (ResNet's stem pool): rows ohA .. ohB - 1,
  // columns from inStart on, in groups of 4 by wasm SIMD (simdCols of them); the rest below.
  const inStart = Math.ceil(padLeft / sw);
  const simd3x3s2 = kh === 3 && kw === 3 && sh === 2 && sw === 2;
  const ohA = Math.ceil(padTop / 2);
  const ohB = Math.min(OH, Math.floor((H - 3 + padTop) / 2) + 1);
  const inCols = Math.min(OW, Math.floor((W - 3 + padLeft) / sw) + 1) - inStart;
  let simdCols = simd3x3s2 && ohB > ohA && inCols >= 4 ? 4 * Math.floor(inCols / 4) : 0;
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    let q = p * OH * OW;
    if (simdCols > 0) {
      const done = maxPool3x3s2Simd(
        x,
        base,
        H,
        W,
        out,
        argmax,
        q,
        OW,
        ohA,
        ohB - ohA,
        inStart,
        simdCols / 4,
        padTop,
        padLeft,
      );
      if (!done) simdCols = 0;
    }
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - padTop;
      const hs = Math.max(h0, 0);
      const he = Math.min(h0 + kh, H);
      // 3x3 windows wholly inside the input (ResNet's stem pool) take maxRow3x3: outputs
      // fastStart .. fastEnd - 1 of rows whose windows lie inside vertically.
      let fastStart = -1;
      let fastEnd = -1;
      if (kh === 3 && kw === 3 && h0 >= 0 && h0 + 3 <= H) {
        fastStart = Math.ceil(padLeft / sw);
        fastEnd = Math.min(OW, Math.floor((W - 3 + padLeft) / sw) + 1);
      }
      for (let ow = 0; ow < OW; ow++, q++) {
        if (ow === fastStart && fastEnd > fastStart) {
          // Windows the SIMD pass wrote are skipped.
          const skip = oh >= ohA && oh < ohB ? simdCols : 0;
          const n = fastEnd - fastStart - skip;
          const w0 = (ow + skip) * sw - padLeft;
          if (n > 0) maxRow3x3(x, base + h0 * W, W, h0 * W, sw, w0, n, out, argmax, q + skip);
          q += fastEnd - fastStart - 1;
          ow = fastEnd - 1;
          continue;
        }
        const w0 = ow * sw - padLeft;
        const ws = Math.max(w0, 0);
        const we = Math.min(w0 + kw, W);
        let best = Number.NEGATIVE_INFINITY;
        // PyTorch starts from the window's first in-bounds pixel, so an all -inf window points
        // there; an empty window (impossible with poolGeometry's padding rule) gets -1.
        let at = hs < he && ws < we ? hs * W + ws : -1;
        for (let ih = hs; ih < he; ih++) {
          const row = base + ih * W;
          for (let iw = ws; iw < we; iw++) {
            const v = x[row + iw];
            if (v > best || Number.isNaN(v)) {
              best = v;
              at = ih * W + iw;
            }
          }
        }
        out[q] = best;
        argmax[q] = at;
      }
    }
  }
  return { out, argmax };
}

/**
 * Max over the 3x3 windows of outputs 0 .. count - 1 of one output row, all inside the input:
 * window j's top-left pixel is row0 + w0 + j * sw (row0 its row's offset in x, rowIdx its
 * in-plane index). The same order of comparisons, ties and NaN rule as the general loop.
 */
function maxRow3x3(
  x: Float32Array,
  row0: number,
  W: number,
  rowIdx: number,
  sw: number,
  w0: number,
  count: number,
  out: Float32Array,
  argmax: Int32Array,
  q: number,
): void {
  const offs = [1, 2, W, W + 1, W + 2, 2 * W, 2 * W + 1, 2 * W + 2];
  for (let j = 0; j < count; j++) {
    const c = row0 + w0 + j * sw;
    let best = x[c];
    let at = 0;
    for (let t = 0; t < 8; t++) {
      const v = x[c + offs[t]];
      if (v > best || Number.isNaN(v)) {
        best = v;
        at = offs[t];
      }
    }
    out[q + j] = best;
    argmax[q + j] = rowIdx + w0 + j * sw + at;
  }
}

/**
 * maxPool2d for 2x2 windows at stride 2 that all lie inside the input (the common CNN case),
 * unrolled: the same order of comparisons, ties and NaN rule as the general loop, without its
 * per-window bounds and inner loops.
 */
function maxPool2x2(
  x: Float32Array,
  planes: number,
  H: number,
  W: number,
  OH: number,
  OW: number,
  out: Float32Array,
  argmax: Int32Array,
): void {
  let q = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const top = 2 * oh * W;
      for (let ow = 0; ow < OW; ow++, q++) {
        const i0 = top + 2 * ow;
        let at = i0;
        let best = x[base + i0];
        // The first pixel starts the search (as PyTorch; -inf or NaN there stays unless beaten).
        let v = x[base + i0 + 1];
        if (v > best || Number.isNaN(v)) {
          best = v;
          at = i0 + 1;
        }
        v = x[base + i0 + W];
        if (v > best || Number.isNaN(v)) {
          best = v;
          at = i0 + W;
        }
        v = x[base + i0 + W + 1];
        if (v > best || Number.isNaN(v)) {
          best = v;
          at = i0 + W + 1;
        }
        out[q] = best;
        argmax[q] = at;
      }
    }
  }
}

/** Gradient of maxPool2d: each dy goes to its window's argmax (overlapping windows add up). */
export function maxPool2dBackward(
  dy: Float32Array,
  argmax: Int32Array,
  g: PoolGeometry,
): Float32Array {
  const { batch, channels, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW } = g;
  const planes = batch * channels;
  checkLength("maxPool2dBackward", "dy", dy.length, planes * OH * OW);
  checkLength("maxPool2dBackward", "argmax", argmax.length, planes * OH * OW);
  const dx = allocF32(planes * H * W);
  const plane = H * W;
  for (let p = 0; p < planes; p++) {
    const base = p * plane;
    for (let q = p * OH * OW, e = q + OH * OW; q < e; q++) {
      const a = argmax[q];
      if (a >= 0 && a < plane) dx[base + a] += dy[q];
    }
  }
  return dx;
}

interface AvgWindows {
  /** Clipped-to-input window bounds per output row / column: [hs, he) and [ws, we). */
  hs: Int32Array;
  he: Int32Array;
  ws: Int32Array;
  we: Int32Array;
  /** The divisor factors per output row / column; the divisor is their product. */
  hDiv: Int32Array;
  wDiv: Int32Array;
}

/**
 * PyTorch's window and divisor per axis. With count_include_pad the divisor is the window clipped
 * to the *padded* input, measured before clipping to the input (so a ceil-mode window running
 * past the bottom/right padding counts only up to it); without it, the in-bounds pixel count.
 * Both are products of a row and a column factor.
 */
function avgWindows(g: PoolGeometry): AvgWindows {
  const axis = (n: number, k: number, s: number, padA: number, padB: number, outN: number) => {
    const start = new Int32Array(outN);
    const end = new Int32Array(outN);
    const div = new Int32Array(outN);
    for (let o = 0; o < outN; o++) {
      const i0 = o * s - padA;
      const i1 = Math.min(i0 + k, n + padB);
      start[o] = Math.max(i0, 0);
      end[o] = Math.min(i1, n);
      div[o] = g.countIncludePad ? i1 - i0 : end[o] - start[o];
    }
    return [start, end, div] as const;
  };
  const [hs, he, hDiv] = axis(
    g.inHeight,
    g.kernel[0],
    g.stride[0],
    g.pad[0],
    g.pad[1],
    g.outHeight,
  );
  const [ws, we, wDiv] = axis(g.inWidth, g.kernel[1], g.stride[1], g.pad[2], g.pad[3], g.outWidth);
  return { hs, he, ws, we, hDiv, wDiv };
}

/** Average pooling with PyTorch's divisor rules (see avgWindows); empty windows give 0. */
export function avgPool2d(x: Float32Array, g: PoolGeometry): Float32Array {
  const { batch, channels, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW } = g;
  checkLength("avgPool2d", "x", x.length, batch * channels * H * W);
  const { hs, he, ws, we, hDiv, wDiv } = avgWindows(g);
  const planes = batch * channels;
  const out = allocF32(planes * OH * OW);
  for (let p = 0, q = 0; p < planes; p++) {
    const base = p * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, q++) {
        if (hs[oh] >= he[oh] || ws[ow] >= we[ow]) continue;
        let sum = 0;
        for (let ih = hs[oh]; ih < he[oh]; ih++) {
          const row = base + ih * W;
          for (let iw = ws[ow]; iw < we[ow]; iw++) sum += x[row + iw];
        }
        out[q] = sum / (hDiv[oh] * wDiv[ow]);
      }
    }
  }
  return out;
}

/** Adjoint of avgPool2d: dy / divisor spread over each window's in-bounds pixels. */
export function avgPool2dBackward(dy: Float32Array, g: PoolGeometry): Float32Array {
  const { batch, channels, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW } = g;
  const planes = batch * channels;
  checkLength("avgPool2dBackward", "dy", dy.length, planes * OH * OW);
  const { hs, he, ws, we, hDiv, wDiv } = avgWindows(g);
  const dx = allocF32(planes * H * W);
  for (let p = 0, q = 0; p < planes; p++) {
    const base = p * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, q++) {
        if (hs[oh] >= he[oh] || ws[ow] >= we[ow]) continue;
        const v = dy[q] / (hDiv[oh] * wDiv[ow]);
        for (let ih = hs[oh]; ih < he[oh]; ih++) {
          const row = base + ih * W;
          for (let iw = ws[ow]; iw < we[ow]; iw++) dx[row + iw] += v;
        }
      }
    }
  }
  return dx;
}
