/**
 * The conv GEMM's B packers: panels of col (forward) and of col^T (filter gradient), read from
 * the ColMatrix, in the TS kernel's layout or straight into wasm memory.
 */
import type { ColMatrix } from "./conv2d-col-matrix.ts";
import { type BPacker, NR, type WasmPanels } from "./gemm.ts";
import type { PanelBuffer } from "./gemm-pack-a.ts";
import type { GemmSimd } from "./wasm/gemm-simd.ts";
import { gemmSimd } from "./wasm/gemm-wasm.ts";

if (NR !== 4) throw new Error("conv2d packers write 4-wide panels; update them with gemm's NR");

/** Forward: op(B) = col; a panel is 4 consecutive output pixels, its rows are taps. */
export class ColPacker implements BPacker {
  constructor(readonly m: ColMatrix) {}

  wasmEnd(): number {
    return this.m.wasmTaps >= 0 ? this.m.wasmEnd : 0;
  }

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
    const { xpOff, tapLinP, outW, sw, imgPix, imgStride } = m;
    const rowStep = m.sh * m.Wp;
    /** Where pixel q's taps start in xp (q counts over all images setInput padded). */
    const base = (q: number) => {
      const img = Math.floor(q / imgPix);
      const r = q - img * imgPix;
      const y = Math.floor(r / outW);
      return xpOff + img * imgStride + y * rowStep + (r - y * outW) * sw;
    };
    for (let jr = jr0; jr < nc; jr += 4) {
      const q = jc + jr;
      const nr = Math.min(4, nc - jr);
      const ox = (q % imgPix) % outW;
      if (nr === 4) {
        const b0 = base(q);
        let b1 = b0 + sw;
        let b2 = b1 + sw;
        let b3 = b2 + sw;
        // Panels crossing a row end: recompute the bases of the pixels on the next rows.
        if (ox + 3 >= outW) {
          b1 = base(q + 1);
          b2 = base(q + 2);
          b3 = base(q + 3);
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
            const b = base(q + j);
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
      imgPix: m.imgPix,
      imgStride: m.imgStride,
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
        simd.packcols(
          4 * o,
          w.xp,
          w.taps,
          kc,
          jc,
          w.full,
          outW,
          w.rowStep,
          w.sw,
          w.imgPix,
          w.imgStride,
        );
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
export class ColTPacker implements BPacker {
  constructor(readonly m: ColMatrix) {}

  wasmEnd(): number {
    return this.m.wasmTaps >= 0 ? this.m.wasmEnd : 0;
  }

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
