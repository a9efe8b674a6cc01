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
 */

import type { Conv2dGeometry } from "../conv-geometry.ts";
import { allocF32 } from "./buffers.ts";
import { activeGemmImpl, type BPacker, gemm, gemmPackB, NR, type WasmPanels } from "./gemm.ts";
import type { PanelBuffer } from "./gemm-pack-a.ts";
import { directConv, directConvAvailable } from "./wasm/direct-conv.ts";
import type { GemmSimd } from "./wasm/gemm-simd.ts";
import { GEMM_WORKSPACE_FLOATS, gemmSimd, packScratch } from "./wasm/gemm-wasm.ts";

if (NR !== 4) throw new Error("conv2d packers write 4-wide panels; update them with gemm's NR");

/**
 * col[t, q] of one batch item and group (`xOff`), described by per-tap tables: tap t reads input
 * channel offset tapC[t] at dilated-input coordinates (oy*sh + tapY[t], ox*sw + tapX[t]) for
 * output pixel q = (oy, ox), zero on padding and on the zeros inserted by input dilation.
 */
/** Zero-padded input planes of the current batch item and group, reused across calls. */
let padBuf: Float32Array = new Float32Array(0);

class ColMatrix {
  xOff = 0;
  /**
   * No input dilation: the group's input planes copied into padBuf with enough zero border that
   * every tap of every output pixel lies inside; col[t, q] = xp[pixBase(q) + tapLinP[t]] with
   * pixBase(oy, ox) = oy*sh*Wp + ox*sw. Set by setInput; all packers then run branch-free.
   */
  xp: Float32Array = padBuf;
  /** Where the padded planes start in xp (0 in padBuf; past the GEMM workspace in wasm memory). */
  xpOff = 0;
  /**
   * With the wasm GEMM the padded planes live in its memory, after a table of the taps' byte
   * offsets at wasm float index `wasmTaps`, and the wasm packer reads them there; -1 otherwise.
   */
  wasmTaps = -1;
  readonly Wp: number = 0;
  readonly tapLinP: Int32Array;
  /** Flat input offset of each tap relative to pixel (oy*sh, ox*sw); used where `fast`. */
  readonly tapLin: Int32Array;
  /** Largest dilated-input coordinate (coordinates beyond are padding). */
  readonly yMax: number;
  readonly xMax: number;
  /**
   * No input dilation: pixels with oy in [rowLo, rowHi) and ox in [colLo, colHi) read every tap
   * inside the input, at x[xOff + oy*sh*W + ox*sw + tapLin[t]].
   */
  readonly fast: boolean;
  readonly rowLo: number;
  readonly rowHi: number;
  readonly colLo: number;
  readonly colHi: number;

  constructor(
    readonly x: Float32Array,
    H: number,
    readonly W: number,
    outH: number,
    readonly outW: number,
    readonly sh: number,
    readonly sw: number,
    readonly idh: number,
    readonly idw: number,
    readonly tapC: Int32Array,
    readonly tapY: Int32Array,
    readonly tapX: Int32Array,
  ) {
    this.yMax = (H - 1) * idh;
    this.xMax = (W - 1) * idw;
    this.tapLin = new Int32Array(tapC.length);
    let minY = 0;
    let maxY = 0;
    let minX = 0;
    let maxX = 0;
    for (let t = 0; t < tapC.length; t++) {
      this.tapLin[t] = tapC[t] + tapY[t] * W + tapX[t];
      minY = t === 0 ? tapY[t] : Math.min(minY, tapY[t]);
      maxY = t === 0 ? tapY[t] : Math.max(maxY, tapY[t]);
      minX = t === 0 ? tapX[t] : Math.min(minX, tapX[t]);
      maxX = t === 0 ? tapX[t] : Math.max(maxX, tapX[t]);
    }
    this.fast = idh === 1 && idw === 1;
    // oy*sh + minY >= 0 and oy*sh + maxY <= H - 1 for every tap; likewise for columns.
    this.rowLo = Math.max(0, Math.ceil(-minY / sh));
    this.rowHi = Math.min(outH, Math.floor((H - 1 - maxY) / sh) + 1);
    this.colLo = Math.max(0, Math.ceil(-minX / sw));
    this.colHi = Math.min(outW, Math.floor((W - 1 - maxX) / sw) + 1);
    // Padded geometry: rows -minY .. (outH-1)*sh + maxY and likewise columns must exist.
    this.offY = Math.max(0, -minY);
    this.offX = Math.max(0, -minX);
    this.Hp = Math.max(H, (outH - 1) * sh + maxY + 1) + this.offY;
    this.Wp = Math.max(W, (outW - 1) * sw + maxX + 1) + this.offX;
    this.H = H;
    this.channels = 0;
    this.tapLinP = new Int32Array(tapC.length);
    for (let t = 0; t < tapC.length; t++) {
      const c = Math.round(tapC[t] / (H * W));
      this.channels = Math.max(this.channels, c + 1);
      this.tapLinP[t] =
        c * this.Hp * this.Wp + (tapY[t] + this.offY) * this.Wp + tapX[t] + this.offX;
    }
  }
  readonly offY: number;
  readonly offX: number;
  readonly Hp: number;
  readonly H: number;
  readonly channels: number;

  /** Selects the batch item and group at x[xOff..] and, without input dilation, pads it. */
  setInput(xOff: number): void {
    this.xOff = xOff;
    if (!this.fast) return;
    const { H, W, Hp, Wp, offY, offX, channels } = this;
    const need = channels * Hp * Wp;
    const simd = activeGemmImpl() === "wasm" ? gemmSimd() : null;
    let xp: Float32Array;
    let base = 0;
    if (simd !== null) {
      const taps = this.tapLinP.length;
      const tapFloats = Math.ceil(taps / 16) * 16;
      xp = packScratch(simd, tapFloats + need);
      this.wasmTaps = GEMM_WORKSPACE_FLOATS;
      const ti = new Int32Array(xp.buffer, this.wasmTaps * 4, taps);
      for (let t = 0; t < taps; t++) ti[t] = this.tapLinP[t] * 4;
      base = this.wasmTaps + tapFloats;
    } else {
      if (padBuf.length < need) padBuf = new Float32Array(need);
      xp = padBuf;
      this.wasmTaps = -1;
    }
    // Only the border is zeroed; rows are copied with a loop when short (a subarray per row
    // costs more than copying 32 floats).
    const x = this.x;
    const below = Hp - offY - H;
    const right = Wp - offX - W;
    for (let c = 0; c < channels; c++) {
      const plane = base + c * Hp * Wp;
      xp.fill(0, plane, plane + offY * Wp);
      xp.fill(0, plane + (offY + H) * Wp, plane + (offY + H + below) * Wp);
      for (let y = 0; y < H; y++) {
        const src = xOff + (c * H + y) * W;
        let d = plane + (y + offY) * Wp;
        if (W >= 64) {
          xp.fill(0, d, d + offX);
          xp.set(x.subarray(src, src + W), d + offX);
          xp.fill(0, d + offX + W, d + Wp);
          continue;
        }
        // Short rows: one pass of plain stores (each fill / subarray call costs ~30 copies).
        for (let i = 0; i < offX; i++) xp[d++] = 0;
        for (let i = 0; i < W; i++) xp[d++] = x[src + i];
        for (let i = 0; i < right; i++) xp[d++] = 0;
      }
    }
    this.xp = xp;
    this.xpOff = base;
  }

  value(t: number, oy: number, ox: number): number {
    let y = oy * this.sh + this.tapY[t];
    let x = ox * this.sw + this.tapX[t];
    if (y < 0 || y > this.yMax || x < 0 || x > this.xMax) return 0;
    if (this.idh > 1) {
      if (y % this.idh !== 0) return 0;
      y /= this.idh;
    }
    if (this.idw > 1) {
      if (x % this.idw !== 0) return 0;
      x /= this.idw;
    }
    return this.x[this.xOff + this.tapC[t] + y * this.W + x];
  }

  /** True when pixel (oy, ox) reads all taps from inside the input (fast path applies). */
  interior(oy: number, ox: number): boolean {
    return this.fast && oy >= this.rowLo && oy < this.rowHi && ox >= this.colLo && ox < this.colHi;
  }
}

/** The column matrix of the whole geometry: taps t = (c * kh + ky) * kw + kx. */
function colMatrix(x: Float32Array, g: Conv2dGeometry): ColMatrix {
  const { inHeight: H, inWidth: W, kernelH: kh, kernelW: kw } = g;
  const k = (g.inChannels / g.groups) * kh * kw;
  const tapC = new Int32Array(k);
  const tapY = new Int32Array(k);
  const tapX = new Int32Array(k);
  for (let t = 0; t < k; t++) {
    const kx = t % kw;
    const ky = Math.floor(t / kw) % kh;
    tapC[t] = Math.floor(t / (kw * kh)) * H * W;
    tapY[t] = ky * g.dilation[0] - g.pad[0];
    tapX[t] = kx * g.dilation[1] - g.pad[2];
  }
  const [sh, sw] = g.stride;
  const [idh, idw] = g.inputDilation;
  return new ColMatrix(x, H, W, g.outHeight, g.outWidth, sh, sw, idh, idw, tapC, tapY, tapX);
}

/** Forward: op(B) = col; a panel is 4 consecutive output pixels, its rows are taps. */
class ColPacker implements BPacker {
  constructor(readonly m: ColMatrix) {}

  /**
   * Panels from jr0 on, from the zero-padded input xp (padBuf, or the wasm memory `s` itself):
   * every pixel reads in bounds, so row ends and borders need no checks.
   */
  private packPadded(
    s: PanelBuffer,
    xp: Float32Array,
    o: number,
    pc: number,
    kc: number,
    jc: number,
    nc: number,
    jr0: number,
  ): void {
    const m = this.m;
    const { xpOff, tapLinP, outW, sw } = m;
    const rowStep = m.sh * m.Wp;
    for (let jr = jr0; jr < nc; jr += 4) {
      const q = jc + jr;
      const nr = Math.min(4, nc - jr);
      const oy = Math.floor(q / outW);
      const ox = q - oy * outW;
      if (nr === 4) {
        const b0 = xpOff + oy * rowStep + ox * sw;
        let b1 = b0 + sw;
        let b2 = b1 + sw;
        let b3 = b2 + sw;
        // Panels crossing a row end: recompute the bases of the pixels on the next rows.
        if (ox + 3 >= outW) {
          const base = (j: number) => {
            const y = Math.floor((q + j) / outW);
            return xpOff + y * rowStep + (q + j - y * outW) * sw;
          };
          b1 = base(1);
          b2 = base(2);
          b3 = base(3);
        }
        for (let t = pc; t < pc + kc; t = (t + 1) | 0) {
          const l = tapLinP[t];
          s[o] = xp[(b0 + l) | 0];
          s[(o + 1) | 0] = xp[(b1 + l) | 0];
          s[(o + 2) | 0] = xp[(b2 + l) | 0];
          s[(o + 3) | 0] = xp[(b3 + l) | 0];
          o = (o + 4) | 0;
        }
      } else {
        for (let j = 0; j < 4; j++) {
          let d = o + j;
          if (j < nr) {
            const y = Math.floor((q + j) / outW);
            const b = xpOff + y * rowStep + (q + j - y * outW) * sw;
            for (let t = pc; t < pc + kc; t++, d += 4) s[d] = xp[b + tapLinP[t]];
          } else {
            for (let t = pc; t < pc + kc; t++, d += 4) s[d] = 0;
          }
        }
        o += 4 * kc;
      }
    }
  }

  wasmPanels(
    s: PanelBuffer,
    o: number,
    pc: number,
    kc: number,
    jc: number,
    nc: number,
  ): WasmPanels | null {
    const m = this.m;
    if (!m.fast || m.wasmTaps < 0 || !(s instanceof Float32Array)) return null;
    const simd = gemmSimd();
    if (simd === null || s.buffer !== simd.memory.buffer) return null;
    const full = nc >> 2;
    // The padded input is in the same wasm memory: a last partial panel is packed from there.
    if (4 * full < nc) this.packPadded(s, s, o + 4 * kc * full, pc, kc, jc, nc, 4 * full);
    const rowStep = m.sh * m.Wp;
    return {
      xp: 4 * m.xpOff,
      taps: 4 * (m.wasmTaps + pc),
      q0: jc,
      full,
      outW: m.outW,
      rowStep,
      sw: m.sw,
    };
  }

  pack(s: PanelBuffer, o: number, pc: number, kc: number, jc: number, nc: number): void {
    const m = this.m;
    const { x, outW, sw, tapLin } = m;
    const W = m.W;
    if (m.fast) {
      const w = this.wasmPanels(s, o, pc, kc, jc, nc);
      if (w !== null) {
        const simd = gemmSimd() as GemmSimd;
        simd.packcols(4 * o, w.xp, w.taps, kc, jc, w.full, outW, w.rowStep, w.sw);
      } else this.packPadded(s, m.xp, o, pc, kc, jc, nc, 0);
      return;
    }
    for (let jr = 0; jr < nc; jr += 4) {
      const q = jc + jr;
      const nr = Math.min(4, nc - jr);
      const oy = Math.floor(q / outW);
      const ox = q - oy * outW;
      if (nr === 4 && ox + 3 < outW && m.interior(oy, ox) && m.interior(oy, ox + 3)) {
        const base = m.xOff + oy * m.sh * W + ox * sw;
        const sw2 = 2 * sw;
        const sw3 = 3 * sw;
        // `| 0` keeps V8 from emitting an overflow check per index.
        for (let t = pc; t < pc + kc; t = (t + 1) | 0) {
          const b = (base + tapLin[t]) | 0;
          s[o] = x[b];
          s[(o + 1) | 0] = x[(b + sw) | 0];
          s[(o + 2) | 0] = x[(b + sw2) | 0];
          s[(o + 3) | 0] = x[(b + sw3) | 0];
          o = (o + 4) | 0;
        }
      } else {
        for (let j = 0; j < 4; j++) {
          let d = o + j;
          if (j < nr) {
            const pyj = Math.floor((q + j) / outW);
            const pxj = q + j - pyj * outW;
            for (let t = pc; t < pc + kc; t++, d += 4) s[d] = m.value(t, pyj, pxj);
          } else {
            for (let t = pc; t < pc + kc; t++, d += 4) s[d] = 0;
          }
        }
        o += 4 * kc;
      }
    }
  }
}

/** Filter gradient: op(B) = col^T; a panel is 4 consecutive taps, its rows are output pixels. */
class ColTPacker implements BPacker {
  constructor(readonly m: ColMatrix) {}

  pack(s: PanelBuffer, o: number, pc: number, kc: number, jc: number, nc: number): void {
    const m = this.m;
    const { x, outW, sw, tapLin } = m;
    const rowStep = m.sh * m.W;
    const oy0 = Math.floor(pc / outW);
    const ox0 = pc - oy0 * outW;
    if (m.fast) {
      const { xp, xpOff, tapLinP } = m;
      const rowStepP = m.sh * m.Wp;
      for (let jr = 0; jr < nc; jr += 4) {
        const t0 = jc + jr;
        const nr = Math.min(4, nc - jr);
        // Taps past nc read tap t0 again and are then zeroed below (keeps the loop branch-free).
        const l0 = tapLinP[t0];
        const l1 = nr > 1 ? tapLinP[t0 + 1] : l0;
        const l2 = nr > 2 ? tapLinP[t0 + 2] : l0;
        const l3 = nr > 3 ? tapLinP[t0 + 3] : l0;
        const start = o;
        let oy = oy0;
        let ox = ox0;
        for (let left = kc; left > 0; ) {
          const run = Math.min(left, outW - ox);
          let b = xpOff + oy * rowStepP + ox * sw;
          for (let px = 0; px < run; px++, o += 4, b += sw) {
            s[o] = xp[b + l0];
            s[o + 1] = xp[b + l1];
            s[o + 2] = xp[b + l2];
            s[o + 3] = xp[b + l3];
          }
          left -= run;
          ox = 0;
          oy++;
        }
        if (nr < 4)
          for (let p = 0; p < kc; p++) for (let j = nr; j < 4; j++) s[start + p * 4 + j] = 0;
      }
      return;
    }
    for (let jr = 0; jr < nc; jr += 4) {
      const t0 = jc + jr;
      const nr = Math.min(4, nc - jr);
      if (nr === 4 && m.fast) {
        const l0 = tapLin[t0];
        const l1 = tapLin[t0 + 1];
        const l2 = tapLin[t0 + 2];
        const l3 = tapLin[t0 + 3];
        // Walk the pixels row by row; the interior run of each row takes the unchecked path.
        let oy = oy0;
        let ox = ox0;
        for (let left = kc; left > 0; ) {
          const run = Math.min(left, outW - ox);
          const rowIn = oy >= m.rowLo && oy < m.rowHi;
          const lo = rowIn ? Math.min(Math.max(ox, m.colLo), ox + run) : ox + run;
          const hi = rowIn ? Math.max(lo, Math.min(ox + run, m.colHi)) : ox + run;
          for (let px = ox; px < lo; px++, o += 4) this.edge(s, o, t0, oy, px);
          let b = m.xOff + oy * rowStep + lo * sw;
          for (let px = lo; px < hi; px++, o += 4, b += sw) {
            s[o] = x[b + l0];
            s[o + 1] = x[b + l1];
            s[o + 2] = x[b + l2];
            s[o + 3] = x[b + l3];
          }
          for (let px = hi; px < ox + run; px++, o += 4) this.edge(s, o, t0, oy, px);
          left -= run;
          ox = 0;
          oy++;
        }
      } else {
        let oy = oy0;
        let ox = ox0;
        for (let p = 0; p < kc; p++, o += 4) {
          for (let j = 0; j < 4; j++) s[o + j] = j < nr ? m.value(t0 + j, oy, ox) : 0;
          if (++ox === outW) {
            ox = 0;
            oy++;
          }
        }
      }
    }
  }

  private edge(s: PanelBuffer, o: number, t0: number, oy: number, ox: number): void {
    const m = this.m;
    s[o] = m.value(t0, oy, ox);
    s[o + 1] = m.value(t0 + 1, oy, ox);
    s[o + 2] = m.value(t0 + 2, oy, ox);
    s[o + 3] = m.value(t0 + 3, oy, ox);
  }
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
  return (
    g.outChannels / g.groups <= 8 &&
    g.stride[0] === 1 &&
    g.stride[1] === 1 &&
    g.dilation[0] === 1 &&
    g.dilation[1] === 1 &&
    g.inputDilation[0] === 1 &&
    g.inputDilation[1] === 1 &&
    g.pad.every((p) => p >= 0) &&
    activeGemmImpl() === "wasm" &&
    directConvAvailable()
  );
}

/** Reused across calls so repeated convolutions do not churn the GC. */
let phaseOut = new Float32Array(0);

/**
 * Stride 1 with input dilation (transposed convs, input gradients of strided convs): output
 * pixels with oy = ry (mod idh), ox = rx (mod idw) only meet kernel taps that land on real
 * input pixels for one residue of ky*dh (and of kx*dw), so each of the idh*idw phases is a
 * plain convolution of the undilated input with that subset of taps. This skips the
 * structural zeros entirely: (idh*idw)x fewer multiply-adds than correlating the dilated input.
 * Writes out without bias or relu.
 */
function forwardPhases(x: Float32Array, w: Float32Array, g: Conv2dGeometry, out: Float32Array) {
  const { batch: N, inChannels: C, outChannels: O, groups, kernelH: kh, kernelW: kw } = g;
  const { inHeight: H, inWidth: W, outHeight: outH, outWidth: outW } = g;
  const [idh, idw] = g.inputDilation;
  const [dh, dw] = g.dilation;
  const cg = C / groups;
  const og = O / groups;
  const P = outH * outW;
  const inPlane = H * W;
  for (let ry = 0; ry < Math.min(idh, outH); ry++) {
    // Dilated row ry + ky*dh - padTop must be a multiple of idh; it then is input row
    // i + (ry + ky*dh - padTop) / idh for the phase's i-th output row.
    const kys: number[] = [];
    for (let ky = 0; ky < kh; ky++) if ((ry + ky * dh - g.pad[0]) % idh === 0) kys.push(ky);
    for (let rx = 0; rx < Math.min(idw, outW); rx++) {
      const kxs: number[] = [];
      for (let kx = 0; kx < kw; kx++) if ((rx + kx * dw - g.pad[2]) % idw === 0) kxs.push(kx);
      const ni = Math.ceil((outH - ry) / idh);
      const nj = Math.ceil((outW - rx) / idw);
      const ks = cg * kys.length * kxs.length;
      if (ks === 0) continue;
      const tapC = new Int32Array(ks);
      const tapY = new Int32Array(ks);
      const tapX = new Int32Array(ks);
      // wSub [O x ks]: each output channel's weights at the phase's taps, in tap order.
      const wSub = new Float32Array(O * ks);
      let t = 0;
      for (let c = 0; c < cg; c++) {
        for (const ky of kys) {
          for (const kx of kxs) {
            tapC[t] = c * inPlane;
            tapY[t] = (ry + ky * dh - g.pad[0]) / idh;
            tapX[t] = (rx + kx * dw - g.pad[2]) / idw;
            for (let o = 0; o < O; o++) wSub[o * ks + t] = w[((o * cg + c) * kh + ky) * kw + kx];
            t++;
          }
        }
      }
      const cols = new ColMatrix(x, H, W, ni, nj, 1, 1, 1, 1, tapC, tapY, tapX);
      const packer = new ColPacker(cols);
      const pp = ni * nj;
      if (phaseOut.length < og * pp) phaseOut = new Float32Array(og * pp);
      const tmp = phaseOut;
      for (let n = 0; n < N; n++) {
        for (let grp = 0; grp < groups; grp++) {
          cols.setInput((n * C + grp * cg) * inPlane);
          gemmPackB(og, pp, ks, wSub, grp * og * ks, ks, false, packer, tmp, 0, pp, false);
          for (let o = 0; o < og; o++) {
            const plane = (n * O + grp * og + o) * P;
            for (let i = 0; i < ni; i++) {
              let dst = plane + (ry + i * idh) * outW + rx;
              let src = o * pp + i * nj;
              for (let j = 0; j < nj; j++, dst += idw) out[dst] = tmp[src++];
            }
          }
        }
      }
    }
  }
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
  const { batch: N, inChannels: C, outChannels: O, groups } = g;
  const P = g.outHeight * g.outWidth;
  const cg = C / groups;
  const og = O / groups;
  const kDim = cg * g.kernelH * g.kernelW;
  const inPlane = g.inHeight * g.inWidth;
  const out = allocF32(N * O * P);
  let epilogueBias = bias;
  const [idh, idw] = g.inputDilation;
  if ((idh > 1 || idw > 1) && g.stride[0] === 1 && g.stride[1] === 1) {
    forwardPhases(x, w, g, out);
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
    const cols = isPointwise(g) ? null : colMatrix(x, g);
    const packer = cols === null ? null : new ColPacker(cols);
    // The bias is written first and the GEMM adds to it (a fill and, in the wasm GEMM, a copy
    // into its C block, rather than a separate pass adding it afterwards).
    const acc = bias !== null;
    if (bias !== null) {
      for (let plane = 0; plane < N * O; plane++) {
        out.fill(bias[plane % O], plane * P, (plane + 1) * P);
      }
    }
    for (let n = 0; n < N; n++) {
      for (let grp = 0; grp < groups; grp++) {
        const xOff = (n * C + grp * cg) * inPlane;
        const outOff = (n * O + grp * og) * P;
        const wOff = grp * og * kDim;
        if (cols === null || packer === null) {
          gemm(og, P, cg, w, wOff, kDim, false, x, xOff, inPlane, false, out, outOff, P, acc);
        } else {
          cols.setInput(xOff);
          gemmPackB(og, P, kDim, w, wOff, kDim, false, packer, out, outOff, P, acc);
        }
      }
    }
    epilogueBias = null;
  }
  if (epilogueBias !== null || relu) {
    for (let plane = 0; plane < N * O; plane++) {
      const bv = epilogueBias === null ? 0 : epilogueBias[plane % O];
      const start = plane * P;
      const end = start + P;
      if (relu) {
        for (let i = start; i < end; i++) out[i] = Math.max(out[i] + bv, 0);
      } else {
        for (let i = start; i < end; i++) out[i] += bv;
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
  const P = g.outHeight * g.outWidth;
  const cg = C / groups;
  const og = O / groups;
  const kDim = cg * g.kernelH * g.kernelW;
  const inPlane = g.inHeight * g.inWidth;
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
