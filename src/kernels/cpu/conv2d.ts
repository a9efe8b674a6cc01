/**
 * Generalised 2-D convolution on the CPU as GEMM over an implicit im2col matrix (see
 * conv-geometry.ts for the geometry: NCHW input, OIHW weight, groups, stride, kernel dilation,
 * input dilation, pads that may be negative).
 *
 * With col[t, q] the dilated, padded input seen by kernel tap t = (c, ky, kx) at output pixel
 * q = (oy, ox), per batch item and group
 *   forward:     out_g [O/g x P] = W_g [O/g x K] * col [K x P]       (NCHW output directly)
 *   filter grad: dW_g [O/g x K] += dy_g [O/g x P] * col^T [P x K]
 * with K = C/g * kh * kw and P = outH * outW. col is never stored: the GEMM asks for packed
 * panels of col (forward) or col^T (filter gradient), and both packers read the input through
 * the same ColMatrix, so neither the dilated input nor the column matrix is materialised.
 *
 * This module picks the path (pointwise GEMM, direct wasm kernel, phase splitting, packed GEMM);
 * conv2d-col-matrix.ts, conv2d-packers.ts and conv2d-phases.ts hold the pieces.
 */

import { type Conv2dGeometry, isPlainWindow } from "../conv-geometry.ts";
import { allocF32, allocF32Unset, recycle } from "./buffers.ts";
import { colMatrix, imagesPerGemm } from "./conv2d-col-matrix.ts";
import { col2imInputGradPays, conv2dInputGradCol2im } from "./conv2d-col2im.ts";
import { ColPacker, ColTPacker } from "./conv2d-packers.ts";
import { forwardPhases } from "./conv2d-phases.ts";
import { conv2dWinograd, winogradPays } from "./conv2d-winograd.ts";
import { activeGemmImpl, gemm, gemmPackB } from "./gemm.ts";
import { directConv, directConvUsable } from "./wasm/direct-conv.ts";
import { elementwiseSimd } from "./wasm/elementwise-simd.ts";

/**
 * The GEMM sizes of a conv per batch item and group: P output pixels, cg input and og output
 * channels per group, kDim = cg * kh * kw taps, inPlane input pixels per channel.
 */
function gemmDims(g: Conv2dGeometry) {
  const { batch: N, inChannels: C, outChannels: O, groups } = g;
  const cg = C / groups;
  return {
    N,
    C,
    O,
    groups,
    P: g.outHeight * g.outWidth,
    cg,
    og: O / groups,
    kDim: cg * g.kernelH * g.kernelW,
    inPlane: g.inHeight * g.inWidth,
  };
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

/**
 * Few output channels per group, stride 1, no dilation, pads >= 0: the direct wasm kernel beats
 * GEMM there, whose im2col packing costs as much as 2*O flops per packed value.
 */
function useDirect(g: Conv2dGeometry): boolean {
  return g.outChannels / g.groups <= 8 && isPlainWindow(g) && directConvUsable();
}

/**
 * Whether conv2dFlippedKernel computes `g` without a flipped copy of the kernel: where the
 * Winograd path takes it (stride 1, one group), which reads the kernel flipped as it transforms
 * it, and where col2im computes a strided conv's input gradient from the kernel as it is.
 */
export function flippedKernelPays(g: Conv2dGeometry): boolean {
  return winogradPays(g) || col2imInputGradPays(g);
}

/**
 * out = conv(x, w') for w [C, O, kh, kw] and w'[o, c, i, j] = w[c, o, kh-1-i, kw-1-j] (the
 * input-gradient kernel of a conv with weights w), one group, no bias. Without copying w' where
 * flippedKernelPays(g); else (and when Winograd hands back a non-finite result) w' is built.
 */
export function conv2dFlippedKernel(
  x: Float32Array,
  w: Float32Array,
  g: Conv2dGeometry,
): Float32Array {
  if (winogradPays(g)) {
    const out = allocF32Unset(g.batch * g.outChannels * g.outHeight * g.outWidth);
    if (conv2dWinograd(x, w, g, null, out, false, true)) return out;
    recycle(out);
  }
  if (col2imInputGradPays(g)) return conv2dInputGradCol2im(x, w, g);
  const { inChannels: C, outChannels: O, kernelH: kh, kernelW: kw } = g;
  const taps = kh * kw;
  const flipped = allocF32Unset(O * C * taps);
  for (let c = 0; c < C; c++)
    for (let o = 0; o < O; o++) {
      const src = (c * O + o) * taps;
      const dst = (o * C + c) * taps;
      for (let t = 0; t < taps; t++) flipped[dst + t] = w[src + taps - 1 - t];
    }
  const out = conv2dForward(x, flipped, g, null, false);
  recycle(flipped);
  return out;
}

/**
 * out [N, O, outH, outW] = conv(x [N, C, H, W], w [O, C/groups, kh, kw]) + bias[o] (when given),
 * then max(0, .) when relu (NaN stays NaN).
 */
export function conv2dForward(
  x: Float32Array,
  w: Float32Array,
  g: Conv2dGeometry,
  bias: Float32Array | null,
  relu: boolean,
): Float32Array {
  const { N, C, O, groups, P, cg, og, kDim, inPlane } = gemmDims(g);
  const [idh, idw] = g.inputDilation;
  const phases = (idh > 1 || idw > 1) && g.stride[0] === 1 && g.stride[1] === 1;
  // The phase split leaves the outputs no tap reaches at zero; the direct and GEMM paths write
  // every output, so they take a recycled buffer without zeroing it first.
  const out = phases ? allocF32(N * O * P) : allocF32Unset(N * O * P);
  let epilogueBias = bias;
  if (phases) {
    forwardPhases(x, w, g, out);
  } else if (winogradPays(g) && conv2dWinograd(x, w, g, bias, out, relu)) {
    // (false: a non-finite output; the paths below redo it with direct-sum Inf/NaN semantics)
    return out;
  } else if (useDirect(g)) {
    const { inHeight: H, inWidth: W, kernelH: kh, kernelW: kw, outHeight, outWidth } = g;
    for (let n = 0; n < N; n++) {
      for (let grp = 0; grp < groups; grp++) {
        const xOff = (n * C + grp * cg) * inPlane;
        const outOff = (n * O + grp * og) * P;
        const wOff = grp * og * kDim;
        directConv(
          x,
          xOff,
          cg,
          H,
          W,
          w,
          wOff,
          og,
          kh,
          kw,
          g.pad[0],
          g.pad[2],
          outHeight,
          outWidth,
          out,
          outOff,
        );
      }
    }
  } else {
    // Pointwise convs too go through the column packer on the wasm GEMM: its wasm packer
    // beats packing the input planes as a dense B in JS.
    const cols = isPointwise(g) && activeGemmImpl() !== "wasm" ? null : colMatrix(x, g);
    const packer = cols === null ? null : new ColPacker(cols);
    // The GEMM starts each output row from its bias (gemmPackB's rowBias: in the wasm GEMM its C
    // block is filled in wasm memory, so the output is written once); the plain gemm path (no
    // packer) gets the bias filled in first and adds to it.
    const acc = bias !== null && packer === null;
    if (acc) {
      for (let plane = 0; plane < N * O; plane++) {
        out.fill(bias[plane % O], plane * P, (plane + 1) * P);
      }
    }
    const rowBias = (grp: number) =>
      bias === null || acc ? undefined : bias.subarray(grp * og, (grp + 1) * og);
    const plain = g.inputDilation[0] === 1 && g.inputDilation[1] === 1;
    const per = cols !== null && plain ? imagesPerGemm(N, groups, P) : 1;
    if (cols !== null && packer !== null && per > 1) {
      // Several batch items per GEMM: B's columns run image after image, C's land in NCHW.
      for (let n0 = 0; n0 < N; n0 += per) {
        const images = Math.min(per, N - n0);
        cols.setInput(n0 * C * inPlane, images);
        const cImages = { cols: P, stride: O * P };
        gemmPackB(
          O,
          images * P,
          kDim,
          w,
          0,
          kDim,
          false,
          packer,
          out,
          n0 * O * P,
          P,
          acc,
          n0 > 0,
          cImages,
          rowBias(0),
        );
      }
      return epilogue(out, g, null, relu);
    }
    // Batch items inner: each group's weights are packed once for all of them (sameA).
    for (let grp = 0; grp < groups; grp++) {
      for (let n = 0; n < N; n++) {
        const xOff = (n * C + grp * cg) * inPlane;
        const outOff = (n * O + grp * og) * P;
        const wOff = grp * og * kDim;
        if (cols === null || packer === null) {
          gemm(og, P, cg, w, wOff, kDim, false, x, xOff, inPlane, false, out, outOff, P, acc);
        } else {
          cols.setInput(xOff);
          gemmPackB(
            og,
            P,
            kDim,
            w,
            wOff,
            kDim,
            false,
            packer,
            out,
            outOff,
            P,
            acc,
            n > 0,
            undefined,
            rowBias(grp),
          );
        }
      }
    }
    epilogueBias = null;
  }
  return epilogue(out, g, epilogueBias, relu);
}

/** Adds the bias (when not added by the GEMM) and applies relu, in place. */
function epilogue(
  out: Float32Array,
  g: Conv2dGeometry,
  bias: Float32Array | null,
  relu: boolean,
): Float32Array {
  if (bias === null && !relu) return out;
  // ReLU alone (the GEMM added the bias): the wasm SIMD loop, in place.
  if (bias === null && out.length >= 1024 && elementwiseSimd("relu", out, null, out)) return out;
  const O = g.outChannels;
  const P = g.outHeight * g.outWidth;
  for (let plane = 0; plane < g.batch * O; plane++) {
    const bv = bias === null ? 0 : bias[plane % O];
    const start = plane * P;
    const end = start + P;
    if (relu) {
      for (let i = start; i < end; i++) out[i] = Math.max(out[i] + bv, 0);
    } else {
      for (let i = start; i < end; i++) out[i] += bv;
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
  const { N, C, O, groups, P, cg, og, kDim, inPlane } = gemmDims(g);
  const dW = allocF32(O * kDim);
  const cols = isPointwise(g) ? null : colMatrix(x, g);
  const packer = cols === null ? null : new ColTPacker(cols);
  for (let grp = 0; grp < groups; grp++) {
    const wOff = grp * og * kDim;
    for (let n = 0; n < N; n++) {
      const xOff = (n * C + grp * cg) * inPlane;
      const dyOff = (n * O + grp * og) * P;
      const acc = n > 0;
      if (cols === null || packer === null) {
        gemm(og, kDim, P, dy, dyOff, P, false, x, xOff, inPlane, true, dW, wOff, kDim, acc);
      } else {
        cols.setInput(xOff);
        gemmPackB(og, kDim, P, dy, dyOff, P, false, packer, dW, wOff, kDim, acc);
      }
    }
  }
  return dW;
}
