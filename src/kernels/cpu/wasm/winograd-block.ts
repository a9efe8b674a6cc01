/**
 * Winograd F(2x2, 3x3), F(2x2, 2x2), F(4x4, 3x3) and F(4x4, 2x2) for one block of output tiles,
 * in wasm SIMD (exports of the GEMM module, on its memory): `winoblock` / `winoblock2` /
 * `winoblock4` / `winoblock42(xp, C,
 * planeBytes, rowBytes, tH, tWg, g0, ng, u, mp, v, m, out, K, outPlaneBytes, outRowBytes, bias,
 * flag, relu, ngAll, stages)`, addresses and strides in bytes. Below, alpha = r + 1 (4 for 3x3
 * kernels, 3 for 2x2; 6 for F(4x4, 3x3) and 5 for F(4x4, 2x2), winograd-f4x4.ts) and P = alpha^2
 * points.
 *
 * `stages` (bits 1, 2, 4) picks the steps below to run. With ngAll = 0, V and M are the block's
 * own (ng groups, group g0 + q in panel q); else they hold ngAll groups, group g0 + q in panel
 * g0 + q, so that blocks of groups can fill one V (step 1) and read one M (step 3) between
 * which the GEMMs are split by output channels instead (winograd-chunks.ts).
 *
 * Tiles are 2x2 output pixels; a group is 4 tiles side by side (8 output columns), the SIMD lanes.
 * Groups are numbered image by image, row of tiles by row (tH tile rows, tWg groups per row);
 * the block is groups g0 .. g0 + ng - 1. For the alpha x alpha input patch d of each tile it
 *   1. writes V = B^T d B per channel into P B operands laid out as gebp's packed panels (one
 *      4-column panel per group, C k steps): V_xi at v + xi * (ng * C * 16 + WINO_XI_SKEW);
 *   2. multiplies each by the transformed kernel U_xi (gebp's packed A: mp panels of 4 output
 *      channels by C, at u + xi * (mp * C * 16 + WINO_XI_SKEW)) into M_xi (mp * 4 rows, ng * 16
 *      bytes a row, at m + xi * (mp * 4 * ng * 16 + WINO_XI_SKEW)), calling gebp;
 *   3. writes Y = A^T M A + bias[k] (then max(Y, 0) when relu is not 0) for output channels
 *      k < K into the output planes, and i32 1 at flag when any of them is not finite.
 * The padded input planes (C per image, planeBytes apart, rowBytes a row) must hold every
 * patch: 2 * tH + 2 rows of 8 * tWg + 2 floats. Output planes (K per image) hold 2 * tH rows of
 * 8 * tWg floats; the caller crops them. B^T and A^T (SPECS below) hold only 0 and +-1, so the
 * transforms are adds and subtracts; U = G g G^T is computed by the caller.
 */
import { codeWriter, functionBody } from "./wasm-encode.ts";
import {
  emitF4Constants,
  emitF4InputChannel,
  emitF4OutputChannel,
  emitF4Store,
  F4_VECTOR_LOCALS,
  f4Locals,
  laneBytes,
} from "./winograd-f4x4.ts";

export const WINO_BLOCK_PARAMS = 21;

/**
 * Bytes added to the stride between consecutive transform points' blocks of U, V and M. Without
 * it those strides are often multiples of 4 KiB, so the 16 (or 9) streams a transform reads or
 * writes at once share one set of the L1 cache and evict each other (4K aliasing): writing U for
 * 512 x 512 kernels took 10.3 ms unskewed, 2.4 ms skewed by 64 bytes.
 */
export const WINO_XI_SKEW = 64;

const I32 = { add: 0x6a, sub: 0x6b, mul: 0x6c, divU: 0x6e, remU: 0x70, shl: 0x74 } as const;
const V = {
  load: 0x00,
  loadSplat: 0x09,
  shuffle: 0x0d,
  store: 0x0b,
  add: 0xe4,
  sub: 0xe5,
  max: 0xe9,
  const: 0x0c,
  bitselect: 0x52,
  i32Splat: 0x11,
};

const EVENS = laneBytes([0, 2, 4, 6]);
const ODDS = laneBytes([1, 3, 5, 7]);
const ZIP_LO = laneBytes([0, 4, 1, 5]);
const ZIP_HI = laneBytes([2, 6, 3, 7]);

/** A transform row: d[a] op d[b], or d[a] alone (op null). */
type Combo = [a: number, op: number | null, b: number];
/** Output rows of A^T: sums of +-M rows, as [index, +1 | -1] terms. */
type Terms = [number, 1 | -1][];

/**
 * F(2x2, r x r): alpha = r + 1 points per axis; B^T's rows (the input transform) and A^T's rows
 * (the output transform). r = 3: B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], A^T = [1 1 1 0;
 * 0 1 -1 -1]. r = 2 (points 0, 1, infinity): B^T = [1 -1 0; 0 1 0; 0 -1 1], A^T = [1 1 0; 0 1 1].
 */
const SPECS: Record<2 | 3, { alpha: number; bt: Combo[]; at: Terms[] }> = {
  3: {
    alpha: 4,
    bt: [
      [0, V.sub, 2],
      [1, V.add, 2],
      [2, V.sub, 1],
      [1, V.sub, 3],
    ],
    at: [
      [
        [0, 1],
        [1, 1],
        [2, 1],
      ],
      [
        [1, 1],
        [2, -1],
        [3, -1],
      ],
    ],
  },
  2: {
    alpha: 3,
    bt: [
      [0, V.sub, 1],
      [1, null, 1],
      [2, V.sub, 1],
    ],
    at: [
      [
        [0, 1],
        [1, 1],
      ],
      [
        [1, 1],
        [2, 1],
      ],
    ],
  },
};

/**
 * The function body of winoblock for r x r kernels (r = 3; r = 2 for winoblock2, the same with
 * 3x3 patches and 9 transform points), or with m = 4 of winoblock4 (F(4x4, 3x3), 36 points) and
 * winoblock42 (F(4x4, 2x2), 25 points), a group being 2x2 tiles of 4x4 outputs (winograd-
 * f4x4.ts); `gebpIndex` is gebp's function index in the module.
 */
export function emitWinoBlock(gebpIndex: number, r: 2 | 3 = 3, m: 2 | 4 = 2): number[] {
  const { alpha, bt, at } = m === 4 ? { ...SPECS[3], alpha: r + 3 } : SPECS[r];
  const points = alpha * alpha;
  const P = {
    xp: 0,
    C: 1,
    planeBytes: 2,
    rowBytes: 3,
    tH: 4,
    tWg: 5,
    g0: 6,
    ng: 7,
    u: 8,
    mp: 9,
    v: 10,
    m: 11,
    out: 12,
    K: 13,
    outPlaneBytes: 14,
    outRowBytes: 15,
    bias: 16,
    flag: 17,
    relu: 18,
    ngAll: 19,
    stages: 20,
  };
  let n = WINO_BLOCK_PARAMS;
  const L = {
    q: n++,
    gi: n++,
    rem: n++,
    base: n++,
    c: n++,
    row: n++,
    addr: n++,
    vc: n++,
    k: n++,
    ldc: n++,
    vXi: n++,
    mXi: n++,
    uXi: n++,
    xi: n++,
    perImg: n++,
    ua: n++,
    va: n++,
    ma: n++,
    row4: n++,
    /** The group whose panel is V's and M's first: 0 when ngAll is 0, else g0. */
    qb: n++,
    /** Groups V's and M's strides are sized for: ng, or ngAll when it is not 0. */
    ngs: n++,
  };
  const nI32 = n - WINO_BLOCK_PARAMS;
  const vec = (() => {
    let next = n;
    const take = (count: number) => Array.from({ length: count }, () => next++);
    return {
      ld: take(4),
      d: take(4),
      e: take(16),
      s: take(8),
      y: take(4),
      bias: take(1)[0],
      bad: take(1)[0],
      floor: take(1)[0],
    };
  })();
  const f4 = f4Locals(n + 39);
  const nV128 = 39 + (m === 4 ? F4_VECTOR_LOCALS : 0);
  /** Pushes e[a] op e[b] (or e[a]) for a combo over locals `of`. */
  const combo = ([a, op, b]: Combo, of: (i: number) => number) => {
    if (op === null) get(of(a));
    else bin(of(a), op, of(b));
  };
  /** Pushes the sum of +-of(i) over `terms`. */
  const sumTerms = (terms: Terms, of: (i: number) => number) => {
    terms.forEach(([i, sign], n) => {
      get(of(i));
      if (n > 0) simd(sign > 0 ? V.add : V.sub);
    });
  };
  const w = codeWriter();
  const { code, e, get, set, c32, simd, whileBelow, addTo } = w;
  const bin = (a: number, op: number, b: number) => {
    get(a);
    get(b);
    simd(op);
  };
  const shuffle = (a: number, b: number, lanes: number[]) => {
    get(a);
    get(b);
    simd(V.shuffle);
    e(...lanes);
  };
  const mulParams = (a: number, b: number) => {
    get(a);
    get(b);
    e(I32.mul);
  };
  /**
   * base = start + image * imgBytes + groupRow * (2 or 8 for m = 4) * rowB + groupInRow * 32
   * for group g0 + q (imgBytes = channels * plane).
   */
  const tileBase = (start: number, channels: number, plane: number, rowB: number) => {
    get(P.g0);
    get(L.q);
    e(I32.add);
    set(L.gi);
    get(L.gi);
    get(L.perImg);
    e(I32.remU);
    set(L.rem);
    get(start);
    get(L.gi);
    get(L.perImg);
    e(I32.divU);
    mulParams(channels, plane);
    e(I32.mul, I32.add);
    get(L.rem);
    get(P.tWg);
    e(I32.divU);
    get(rowB);
    e(I32.mul);
    c32(m === 4 ? 3 : 1);
    e(I32.shl, I32.add);
    get(L.rem);
    get(P.tWg);
    e(I32.remU);
    c32(5);
    e(I32.shl, I32.add);
    set(L.base);
  };

  // floor = relu ? 0 : -Infinity; every output is max(y, floor) (wasm's max keeps NaN, and
  // max(-0, 0) = +0, as the elementwise ReLU).
  simd(V.const);
  e(...new Uint8Array(new Float32Array([0, 0, 0, 0]).buffer));
  simd(V.const);
  e(...new Uint8Array(new Float32Array(4).fill(Number.NEGATIVE_INFINITY).buffer));
  c32(0);
  get(P.relu);
  e(0x45, 0x45, I32.sub); // 0 - (relu != 0): an all-ones lane mask when set
  simd(V.i32Splat);
  simd(V.bitselect);
  set(vec.floor);
  if (m === 4) emitF4Constants(w, f4, r);
  // ngs = ngAll or ng; qb = ngAll ? g0 : 0.
  get(P.ngAll);
  get(P.ng);
  get(P.ngAll);
  e(0x1b); // select: ngAll != 0 ? ngAll : ng
  set(L.ngs);
  get(P.g0);
  c32(0);
  get(P.ngAll);
  e(0x1b);
  set(L.qb);
  // Strides: ldc = ngs * 16 (an M row), vXi = ngs * C * 16 + SKEW, mXi = mp * 4 * ldc + SKEW,
  // uXi = mp * C * 16 + SKEW.
  get(L.ngs);
  c32(4);
  e(I32.shl);
  set(L.ldc);
  get(L.ldc);
  get(P.C);
  e(I32.mul);
  c32(WINO_XI_SKEW);
  e(I32.add);
  set(L.vXi);
  get(P.mp);
  get(L.ldc);
  e(I32.mul);
  c32(2);
  e(I32.shl);
  c32(WINO_XI_SKEW);
  e(I32.add);
  set(L.mXi);
  get(P.mp);
  get(P.C);
  e(I32.mul);
  c32(4);
  e(I32.shl);
  c32(WINO_XI_SKEW);
  e(I32.add);
  set(L.uXi);
  mulParams(P.tH, P.tWg);
  set(L.perImg);

  /** if (stages & bit) { body } */
  const stage = (bit: number, body: () => void) => {
    get(P.stages);
    c32(bit);
    e(0x71, 0x04, 0x40); // i32.and, if
    body();
    e(0x0b);
  };

  /** F(2x2, .): one channel's input transform (patch rows from L.row, V at L.vc). */
  const f2InputChannel = () => {
    for (let row = 0; row < alpha; row++) {
      if (row > 0) addTo(L.row, () => get(P.rowBytes));
      // Columns 0-3, 4-7, 2-5, 6-9 of the patch row; d_j = column j of the 4 tiles.
      [0, 16, 8, 24].forEach((off, i) => {
        get(L.row);
        simd(V.load, 2, off);
        set(vec.ld[i]);
      });
      const lanes = [EVENS, ODDS, EVENS, ODDS];
      for (let j = 0; j < alpha; j++) {
        shuffle(vec.ld[j < 2 ? 0 : 2], vec.ld[j < 2 ? 1 : 3], lanes[j]);
        set(vec.d[j]);
      }
      // Row `row` of d B.
      bt.forEach((cb, j) => {
        combo(cb, (i) => vec.d[i]);
        set(vec.e[alpha * row + j]);
      });
    }
    // V[i][j] = row i of B^T (d B), stored at V_(alpha i + j).
    get(L.vc);
    set(L.addr);
    bt.forEach((cb, i) => {
      for (let j = 0; j < alpha; j++) {
        get(L.addr);
        combo(cb, (a) => vec.e[alpha * a + j]);
        simd(V.store, 2, 0);
        if (alpha * i + j < points - 1) addTo(L.addr, () => get(L.vXi));
      }
    });
  };
  /** F(2x2, .): loads M_xi from L.addr and leaves Y + bias in vec.y. */
  const f2OutputChannel = () => {
    for (let xi = 0; xi < points; xi++) {
      get(L.addr);
      simd(V.load, 2, 0);
      set(vec.e[xi]);
      if (xi < points - 1) addTo(L.addr, () => get(L.mXi));
    }
    // A^T M: s_(alpha h + j) = row h of A^T applied to column j of M.
    at.forEach((terms, h) => {
      for (let j = 0; j < alpha; j++) {
        sumTerms(terms, (i) => vec.e[alpha * i + j]);
        set(vec.s[alpha * h + j]);
      }
    });
    // (A^T M) A + bias: y0, y1 the output's row 0 (even, odd columns), y2, y3 its row 1.
    at.forEach((_, h) => {
      at.forEach((terms, col) => {
        sumTerms(terms, (i) => vec.s[alpha * h + i]);
        get(vec.bias);
        simd(V.add);
        set(vec.y[2 * h + col]);
      });
    });
  };
  /** F(2x2, .): stores vec.y (even and odd columns interleaved) at L.base. */
  const f2Store = () => {
    // Interleave even and odd columns: 8 floats per output row.
    for (let h = 0; h < 2; h++) {
      get(L.base);
      if (h === 1) {
        get(P.outRowBytes);
        e(I32.add);
      }
      set(L.addr);
      get(L.addr);
      shuffle(vec.y[2 * h], vec.y[2 * h + 1], ZIP_LO);
      simd(V.store, 2, 0);
      get(L.addr);
      shuffle(vec.y[2 * h], vec.y[2 * h + 1], ZIP_HI);
      simd(V.store, 2, 16);
    }
  };

  // 1. Input transform, group by group, channel by channel.
  stage(1, () =>
    whileBelow(
      L.q,
      () => get(P.ng),
      () => {
        tileBase(P.xp, P.C, P.planeBytes, P.rowBytes);
        // vc = v + (qb + q) * C * 16: this group's panel, channel 0
        get(P.v);
        get(L.qb);
        get(L.q);
        e(I32.add);
        get(P.C);
        e(I32.mul);
        c32(4);
        e(I32.shl, I32.add);
        set(L.vc);
        whileBelow(
          L.c,
          () => get(P.C),
          () => {
            get(L.base);
            set(L.row);
            if (m === 4) {
              // row4 = base + 4 rows: the group's second row of tiles.
              get(L.base);
              get(P.rowBytes);
              c32(2);
              e(I32.shl, I32.add);
              set(L.row4);
              emitF4InputChannel(w, f4, r, {
                row: L.row,
                row4: L.row4,
                rowBytes: P.rowBytes,
                vc: L.vc,
                vXi: L.vXi,
              });
            } else f2InputChannel();
            addTo(L.base, () => get(P.planeBytes));
            addTo(L.vc, () => c32(16));
            addTo(L.c, () => c32(1));
          },
        );
        addTo(L.q, () => c32(1));
      },
    ),
  );

  // 2. M_xi = U_xi V_xi, xi = 0 .. points - 1.
  stage(2, () => {
    get(P.u);
    set(L.ua);
    get(P.v);
    set(L.va);
    get(P.m);
    set(L.ma);
    emitPointGemms(w, gebpIndex, points, {
      kc: P.C,
      np: P.ng,
      mp: P.mp,
      ...L,
    });
  });

  // 3. Output transform, group by group, output channel by channel.
  stage(4, () =>
    whileBelow(
      L.q,
      () => get(P.ng),
      () => {
        tileBase(P.out, P.K, P.outPlaneBytes, P.outRowBytes);
        // row = m + (qb + q) * 16: this group's columns of M, output channel 0
        get(P.m);
        get(L.qb);
        get(L.q);
        e(I32.add);
        c32(4);
        e(I32.shl, I32.add);
        set(L.row);
        whileBelow(
          L.k,
          () => get(P.K),
          () => {
            get(P.bias);
            get(L.k);
            c32(2);
            e(I32.shl, I32.add);
            simd(V.loadSplat, 2, 0);
            set(vec.bias);
            get(L.row);
            set(L.addr);
            if (m === 4)
              emitF4OutputChannel(w, f4, r, { addr: L.addr, mXi: L.mXi, bias: vec.bias });
            else f2OutputChannel();
            const ys = m === 4 ? f4.y : vec.y;
            // bad += y - y: stays 0 while every output is finite, NaN from the first that is not.
            for (const y of ys) {
              get(vec.bad);
              bin(y, V.sub, y);
              simd(V.add);
              set(vec.bad);
            }
            // The ReLU (or max(y, -Infinity) = y) after the check, which must see the conv's
            // own values: a -Infinity from an Inf input would pass as 0.
            for (const y of ys) {
              get(y);
              get(vec.floor);
              simd(V.max);
              set(y);
            }
            if (m === 4) emitF4Store(w, f4, { base: L.base, outRowBytes: P.outRowBytes });
            else f2Store();
            addTo(L.base, () => get(P.outPlaneBytes));
            addTo(L.row, () => get(L.ldc));
            addTo(L.k, () => c32(1));
          },
        );
        addTo(L.q, () => c32(1));
      },
    ),
  );
  // A non-finite output: i32 1 at flag (the caller recomputes the conv the direct way, whose
  // Inf and NaN propagation Winograd's cancelling transforms do not reproduce).
  get(vec.bad);
  get(vec.bad);
  simd(0x42); // f32x4.ne: true in NaN lanes
  simd(0x53); // v128.any_true
  e(0x04, 0x40); // if
  get(P.flag);
  c32(1);
  e(0x36, 2, 0); // i32.store
  e(0x0b);
  return functionBody(nI32, code, nV128);
}

/**
 * gebp(kc, np, mp, ua, va, ma, ldc, 0) for each of `points` points, ua, va and ma stepping by
 * uXi, vXi and mXi (locals; xi counts): M_xi = U_xi V_xi, as winoblock step 2 and winochunk
 * (winograd-chunks.ts) run them.
 */
export function emitPointGemms(
  w: ReturnType<typeof codeWriter>,
  gebpIndex: number,
  points: number,
  l: {
    kc: number;
    np: number;
    mp: number;
    ua: number;
    va: number;
    ma: number;
    ldc: number;
    uXi: number;
    vXi: number;
    mXi: number;
    xi: number;
  },
): void {
  w.whileBelow(
    l.xi,
    () => w.c32(points),
    () => {
      for (const v of [l.kc, l.np, l.mp, l.ua, l.va, l.ma, l.ldc]) w.get(v);
      w.c32(0);
      w.e(0x10, gebpIndex); // call gebp (index < 128: one LEB byte)
      w.addTo(l.ua, () => w.get(l.uXi));
      w.addTo(l.va, () => w.get(l.vXi));
      w.addTo(l.ma, () => w.get(l.mXi));
      w.addTo(l.xi, () => w.c32(1));
    },
  );
}
