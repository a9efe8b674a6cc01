/**
 * Direct (unpacked) convolution for layers with few output channels (RGB output layers such as
 * RDN's 48 -> 3, RDB growth convs 64 -> 4, ResNet's stem input gradient 64 -> 3). As GEMM these
 * pack every im2col element for only 2*O flops, so packing dominates (1.1-1.3 GFLOP/s at O = 3);
 * the kernel (direct-conv-kernel.ts, in the GEMM module) reads the zero-padded input directly.
 * Output rows are shared with the GEMM's helper thread (dconvSplit) when there are enough.
 */
import { activeGemmImpl } from "../gemm.ts";
import { dconvSplit } from "./gemm-threads.ts";
import { GEMM_WORKSPACE_FLOATS, gemmSimd, packScratch } from "./gemm-wasm.ts";

export function directConvAvailable(): boolean {
  return gemmSimd() !== null;
}

/**
 * Whether the conv paths may take the direct kernel: it is there and the wasm GEMM is in use
 * (SALIENT_CPU_GEMM=ts forces every conv onto the TypeScript kernels).
 */
export function directConvUsable(): boolean {
  return activeGemmImpl() === "wasm" && directConvAvailable();
}

/**
 * out[o, oy, ox] (+ nothing else) for one batch item and group: og output channels from cg input
 * channels, stride 1, no dilation, pads >= 0. x at xOff is [cg][H][W]; w at wOff is
 * [og][cg][kh][kw]; writes out at outOff as [og][outH][outW].
 */
export function directConv(
  x: Float32Array,
  xOff: number,
  cg: number,
  H: number,
  W: number,
  w: Float32Array,
  wOff: number,
  og: number,
  kh: number,
  kw: number,
  padTop: number,
  padLeft: number,
  outH: number,
  outW: number,
  out: Float32Array,
  outOff: number,
): void {
  const s = gemmSimd();
  if (s === null) throw new Error("directConv: wasm SIMD unavailable");
  const cols = Math.ceil(outW / 8) * 8;
  const Wp = cols + kw - 1;
  const Hp = outH + kh - 1;
  const plane = Hp * Wp;
  const wBase = Math.ceil((cg * plane) / 16) * 16;
  const oBase = wBase + Math.ceil((cg * kh * kw * 4) / 16) * 16;
  const oPlane = outH * cols;
  const stage = oBase + Math.ceil((4 * oPlane) / 16) * 16;
  // After the GEMM's workspace (floats from `at`; byte addresses for the kernel).
  const at = GEMM_WORKSPACE_FLOATS;
  const f = packScratch(s, stage + cg * H * W);
  const b = (floats: number) => 4 * (at + floats);
  const rowsIn = Math.min(H, Hp - padTop);
  const colsIn = Math.min(W, Wp - padLeft);
  if (rowsIn === H && colsIn === W) {
    // The input in one copy, then zero-padded in wasm: a copy per row costs a builtin call and
    // a subarray each.
    f.set(x.subarray(xOff, xOff + cg * H * W), at + stage);
    s.padplanes(b(0), b(stage), cg, H, W, Hp, Wp, padTop, padLeft);
  } else {
    // The window ends before the input does (a phase of a strided conv's gradient): row by row.
    f.fill(0, at, at + cg * plane);
    for (let c = 0; c < cg; c++) {
      for (let iy = 0; iy < rowsIn; iy++) {
        const src = xOff + (c * H + iy) * W;
        f.set(x.subarray(src, src + colsIn), at + c * plane + (iy + padTop) * Wp + padLeft);
      }
    }
  }
  for (let o0 = 0; o0 < og; o0 += 4) {
    const on = Math.min(4, og - o0);
    // Weights [c][ky][kx][4 outputs].
    let d = at + wBase;
    for (let c = 0; c < cg; c++)
      for (let t = 0; t < kh * kw; t++, d += 4)
        for (let j = 0; j < 4; j++)
          f[d + j] = j < on ? w[wOff + ((o0 + j) * cg + c) * kh * kw + t] : 0;
    dconvSplit(s, [cg, kh, kw, Wp, plane, outH, cols, b(0), b(wBase), b(oBase), oPlane]);
    for (let j = 0; j < on; j++) {
      const src = at + oBase + j * oPlane;
      const dst = outOff + (o0 + j) * outH * outW;
      if (cols === outW) out.set(f.subarray(src, src + oPlane), dst);
      else
        for (let oy = 0; oy < outH; oy++) {
          out.set(f.subarray(src + oy * cols, src + oy * cols + outW), dst + oy * outW);
        }
    }
  }
}
