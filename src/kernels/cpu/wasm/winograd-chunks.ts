/**
 * Winograd GEMMs split by output channels, for 3x3 convs whose transformed kernel U is large next
 * to their tile count (many channels, small images: ResNet's later stages). There the tile-block
 * path (winoblock) writes all of U to memory first (16 MB for 512 x 512 kernels in F(2x2), 38 MB
 * in F(4x4)) and reads it back for every block; this transforms a few output channels' kernels
 * at a time into a buffer that stays in cache and runs every point's GEMM on them at once.
 *
 * `winochunk` (F(2x2, 3x3)) and `winochunk4` (F(4x4, 3x3)) (w, u, C, K, p0, np, flipped, v, m,
 * ngAll), addresses in bytes, exports of the GEMM module:
 *   1. for output panels p = p0 .. p0 + np - 1 (output channels 4p .. 4p + 3; lanes of
 *      channels >= K read whatever follows the kernels, into rows of M step 3 never reads) and
 *      input channels c < C, U_xi = (G g G^T)[i][j] of the 3x3 kernel g into u, laid out as
 *      gebp's packed A: U_xi at u + xi * (np * C * 16 + WINO_XI_SKEW), panel p - p0 at
 *      + (p - p0) * C * 16. g is w[k, c] (w [K, C, 3, 3]) or, with flipped, w[c, k] rotated 180
 *      degrees (w [C, K, 3, 3]: the kernel of the conv whose input gradient this is). w must be
 *      followed by 3 C 9 floats of wasm memory (the last panel's extra lanes read them);
 *   2. M_xi rows 4 p0 .. = U_xi V_xi for every point xi, calling gebp, over V and M as winoblock
 *      step 1 writes and step 3 reads them with ngAll groups (winograd-block.ts).
 * G is computed in float32 here (the tile-block path's U is computed in float64 and rounded
 * once), so the two paths' results differ in the last bits; conv2d-winograd.ts picks one per
 * geometry, never per batch.
 */
import { codeWriter, functionBody } from "./wasm-encode.ts";
import { emitPointGemms, WINO_XI_SKEW } from "./winograd-block.ts";

export const WINO_CHUNK_PARAMS = 10;

/** G (alpha x 3) of F(2x2, 3x3) (points 0, 1, -1, infinity) and F(4x4, 3x3) (winograd-f4x4.ts). */
const G: Record<2 | 4, number[][]> = {
  2: [
    [1, 0, 0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0, 0, 1],
  ],
  4: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
};

const V = {
  load32Zero: 0x5c,
  load32Lane: 0x56,
  store: 0x0b,
  const: 0x0c,
  add: 0xe4,
  sub: 0xe5,
  mul: 0xe6,
};
const I32 = { add: 0x6a, sub: 0x6b, mul: 0x6c, shl: 0x74, shrU: 0x76 } as const;

/** The function body of winochunk (m = 2) or winochunk4 (m = 4); gebp is function `gebpIndex`. */
export function emitWinoChunk(gebpIndex: number, m: 2 | 4): number[] {
  const g = G[m];
  const alpha = m + 2;
  const points = alpha * alpha;
  const P = { w: 0, u: 1, C: 2, K: 3, p0: 4, np: 5, flipped: 6, v: 7, m: 8, ngAll: 9 };
  let n = WINO_CHUNK_PARAMS;
  const L = {
    p: n++,
    c: n++,
    base: n++,
    a1: n++,
    a2: n++,
    a3: n++,
    ls: n++,
    cs: n++,
    uc: n++,
    addr: n++,
    xi: n++,
    uXi: n++,
    vXi: n++,
    mXi: n++,
    ldc: n++,
    ua: n++,
    va: n++,
    ma: n++,
  };
  const nI32 = n - WINO_CHUNK_PARAMS;
  const taps = Array.from({ length: 9 }, () => n++);
  const gg = Array.from({ length: alpha * 3 }, () => n++);
  const nV128 = n - WINO_CHUNK_PARAMS - nI32;
  const w = codeWriter();
  const { code, e, get, set, c32, simd, whileBelow, addTo } = w;
  const f32x4 = (value: number) => {
    simd(V.const);
    e(...new Uint8Array(new Float32Array(4).fill(value).buffer));
  };
  /** Pushes sum_j coef[j] * x(j): one product when the nonzero coefficients share a magnitude. */
  const combine = (coef: number[], x: (j: number) => number) => {
    const terms = coef.map((v, j) => [v, j]).filter(([v]) => v !== 0);
    const f = terms[0][0];
    const shared = terms.every(([v]) => Math.abs(v) === Math.abs(f));
    terms.forEach(([v, j], i) => {
      get(x(j));
      if (!shared) {
        f32x4(v);
        simd(V.mul);
      }
      if (i > 0) simd((shared ? v / f : 1) > 0 || !shared ? V.add : V.sub);
    });
    if (shared && f !== 1) {
      f32x4(f);
      simd(V.mul);
    }
  };
  const ifFlipped = (then: () => void, otherwise: () => void) => {
    get(P.flipped);
    e(0x04, 0x40);
    then();
    e(0x05);
    otherwise();
    e(0x0b);
  };

  // Strides: uXi = np C 16 + SKEW, ldc = ngAll 16, vXi = ldc C + SKEW, mXi = 4 mp ldc + SKEW
  // (mp = ceil(K / 4)); kernel lanes ls and channels cs apart (bytes).
  get(P.np);
  get(P.C);
  e(I32.mul);
  c32(4);
  e(I32.shl);
  c32(WINO_XI_SKEW);
  e(I32.add);
  set(L.uXi);
  get(P.ngAll);
  c32(4);
  e(I32.shl);
  set(L.ldc);
  get(L.ldc);
  get(P.C);
  e(I32.mul);
  c32(WINO_XI_SKEW);
  e(I32.add);
  set(L.vXi);
  get(P.K);
  c32(3);
  e(I32.add);
  c32(2);
  e(I32.shrU);
  get(L.ldc);
  e(I32.mul);
  c32(2);
  e(I32.shl);
  c32(WINO_XI_SKEW);
  e(I32.add);
  set(L.mXi);
  ifFlipped(
    () => {
      c32(36);
      set(L.ls);
      get(P.K);
      c32(36);
      e(I32.mul);
      set(L.cs);
    },
    () => {
      get(P.C);
      c32(36);
      e(I32.mul);
      set(L.ls);
      c32(36);
      set(L.cs);
    },
  );

  // 1. U for the chunk's panels.
  get(P.p0);
  set(L.p);
  get(P.u);
  set(L.uc);
  e(0x02, 0x40, 0x03, 0x40); // block loop: while (p < p0 + np)
  get(L.p);
  get(P.p0);
  get(P.np);
  e(I32.add);
  e(0x4f, 0x0d, 1); // i32.ge_u, br_if 1
  // base = w + 4 p ls: the first kernel of the panel, channel 0.
  get(P.w);
  get(L.p);
  c32(2);
  e(I32.shl);
  get(L.ls);
  e(I32.mul, I32.add);
  set(L.base);
  whileBelow(
    L.c,
    () => get(P.C),
    () => {
      get(L.base);
      get(L.ls);
      e(I32.add);
      set(L.a1);
      get(L.a1);
      get(L.ls);
      e(I32.add);
      set(L.a2);
      get(L.a2);
      get(L.ls);
      e(I32.add);
      set(L.a3);
      // Tap t of the 4 kernels, at byte offset 4 t (or 4 (8 - t) flipped) from each.
      const load = (offset: (t: number) => number) => () => {
        for (let t = 0; t < 9; t++) {
          get(L.base);
          simd(V.load32Zero, 2, offset(t));
          [L.a1, L.a2, L.a3].forEach((a, lane) => {
            set(taps[t]);
            get(a);
            get(taps[t]);
            simd(V.load32Lane, 2, offset(t));
            e(lane + 1);
          });
          set(taps[t]);
        }
      };
      ifFlipped(
        load((t) => 4 * (8 - t)),
        load((t) => 4 * t),
      );
      // gg[3 i + b] = (G g)[i][b].
      for (let i = 0; i < alpha; i++)
        for (let b = 0; b < 3; b++) {
          combine(g[i], (a) => taps[3 * a + b]);
          set(gg[3 * i + b]);
        }
      // U_(alpha i + j) = (G g)[i] . G[j], stored uXi apart.
      get(L.uc);
      set(L.addr);
      for (let i = 0; i < alpha; i++)
        for (let j = 0; j < alpha; j++) {
          get(L.addr);
          combine(g[j], (b) => gg[3 * i + b]);
          simd(V.store, 2, 0);
          if (alpha * i + j < points - 1) addTo(L.addr, () => get(L.uXi));
        }
      addTo(L.base, () => get(L.cs));
      addTo(L.uc, () => c32(16));
      addTo(L.c, () => c32(1));
    },
  );
  addTo(L.p, () => c32(1));
  e(0x0c, 0, 0x0b, 0x0b); // br 0, end loop, end block

  // 2. M_xi (rows 4 p0 ..) = U_xi V_xi for every point.
  get(P.u);
  set(L.ua);
  get(P.v);
  set(L.va);
  // ma = m + 4 p0 ldc
  get(P.m);
  get(P.p0);
  c32(2);
  e(I32.shl);
  get(L.ldc);
  e(I32.mul, I32.add);
  set(L.ma);
  emitPointGemms(w, gebpIndex, points, { kc: P.C, np: P.ngAll, mp: P.np, ...L });
  return functionBody(nI32, code, nV128);
}
