/**
 * The implicit im2col matrix of a 2-D convolution: col[t, q] is the dilated, padded input seen by
 * kernel tap t at output pixel q, read through per-tap tables and never materialised.
 */
import type { Conv2dGeometry } from "../conv-geometry.ts";
import { activeGemmImpl } from "./gemm.ts";
import { GEMM_WORKSPACE_FLOATS, gemmSimd, packScratch } from "./wasm/gemm-wasm.ts";

/** Zero-padded input planes of the current batch item and group, reused across calls. */
let padBuf: Float32Array = new Float32Array(0);

/**
 * col[t, q] of one batch item and group (`xOff`), described by per-tap tables: tap t reads input
 * channel offset tapC[t] at dilated-input coordinates (oy*sh + tapY[t], ox*sw + tapX[t]) for
 * output pixel q = (oy, ox), zero on padding and on the zeros inserted by input dilation.
 */
export class ColMatrix {
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
    this.imgPix = outH * outW;
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
  /** Output pixels per image: col's columns for several images are image after image. */
  readonly imgPix: number;
  /** Floats per image in xp (its padded planes), where setInput padded several images. */
  imgStride = 0;
  /** With the wasm GEMM: the float index in its memory past everything setInput placed there. */
  wasmEnd = 0;

  /**
   * Selects the batch item and group at x[xOff..] and, without input dilation, pads it. With
   * `images` > 1 (the wasm GEMM only), pads that many images stored one after another from xOff
   * (a group's planes of consecutive images are adjacent only for one group), and col's columns
   * run over all of them.
   */
  setInput(xOff: number, images = 1): void {
    this.xOff = xOff;
    if (!this.fast) return;
    const { H, W, Hp, Wp, offY, offX, channels } = this;
    const need = channels * Hp * Wp * images;
    this.imgStride = channels * Hp * Wp;
    const simd = activeGemmImpl() === "wasm" ? gemmSimd() : null;
    if (images > 1 && simd === null) {
      throw new Error(`ColMatrix.setInput: ${images} images at once need the wasm GEMM`);
    }
    if (simd !== null) {
      // In wasm memory past the GEMM's blocks: the taps' byte offsets, the padded planes, then
      // the input planes staged for padplanes.
      const taps = this.tapLinP.length;
      const tapFloats = Math.ceil(taps / 16) * 16;
      const planes = channels * H * W * images;
      const xp = packScratch(simd, tapFloats + need + planes);
      this.wasmTaps = GEMM_WORKSPACE_FLOATS;
      const ti = new Int32Array(xp.buffer, this.wasmTaps * 4, taps);
      for (let t = 0; t < taps; t++) ti[t] = this.tapLinP[t] * 4;
      const base = this.wasmTaps + tapFloats;
      this.xp = xp;
      this.xpOff = base;
      if (Hp === H && Wp === W) {
        // No padding (a pointwise conv's planes): copied straight into place.
        xp.set(this.x.subarray(xOff, xOff + planes), base);
        this.wasmEnd = base + planes;
        return;
      }
      const stage = base + need;
      xp.set(this.x.subarray(xOff, xOff + planes), stage);
      simd.padplanes(4 * base, 4 * stage, channels * images, H, W, Hp, Wp, offY, offX);
      this.wasmEnd = stage + planes;
      return;
    }
    if (padBuf.length < need) padBuf = new Float32Array(need);
    const xp = padBuf;
    this.wasmTaps = -1;
    // Only the border is zeroed; rows are copied with a loop when short (a subarray per row
    // costs more than copying 32 floats).
    const x = this.x;
    const below = Hp - offY - H;
    const right = Wp - offX - W;
    for (let c = 0; c < channels; c++) {
      const plane = c * Hp * Wp;
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
    this.xpOff = 0;
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
export function colMatrix(x: Float32Array, g: Conv2dGeometry): ColMatrix {
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

/**
 * Output columns of one GEMM over several batch items. Small images (7x7: 49 columns each) make
 * per-item GEMMs too short for their fixed costs (packing setup, C copies, thread hand-offs):
 * 10 x 7x7 ran 1.08-1.11x faster by CPU time as one GEMM. Wider batched GEMMs overflow the 1 MiB
 * L2 with their packed B, C and padded input (8 x 16x16 ran ~5% slower as GEMMs of 1024
 * columns), so 16x16 images go two at a time and 32x32 ones alone.
 */
const BATCH_COLS = 512;

/**
 * Batch items per GEMM of P output columns each (ColMatrix.setInput with `images`): more than 1
 * only on the wasm GEMM with one group (a group's planes of consecutive images are adjacent
 * only then) and P <= BATCH_COLS / 2.
 */
export function imagesPerGemm(batch: number, groups: number, P: number): number {
  if (groups !== 1 || batch < 2 || activeGemmImpl() !== "wasm") return 1;
  return Math.max(1, Math.min(batch, Math.floor(BATCH_COLS / P)));
}
