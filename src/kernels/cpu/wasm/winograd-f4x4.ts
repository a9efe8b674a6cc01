/**
 * The transforms of Winograd F(4x4, 3x3) and F(4x4, 2x2) for winoblock4 and winoblock42
 * (winograd-block.ts emits the rest: the loops, the GEMMs, the finite check). F(4x4, 3x3): 36
 * multiply-adds per 4x4 output tile and channel pair instead of 144 (4x fewer; F(2x2, 3x3) saves
 * 2.25x); F(4x4, 2x2): 25 instead of 64 (2.56x; F(2x2, 2x2) saves 1.78x). Both round about 10x
 * more than F(2x2, .) (transform entries up to 8; see conv2d-winograd.ts for where they are used).
 *
 * A group is 2x2 tiles: an 8x8 block of outputs whose four 4x4 tiles are the SIMD lanes, lane
 * 2 * tr + tc for tile row tr and tile column tc. Its input patches (alpha x alpha each: 6 for
 * 3x3 kernels, 5 for 2x2) span alpha + 4 rows and columns of the padded input; the loads read
 * 12 columns.
 *
 * F(4x4, 3x3), points 0, 1, -1, 2, -2 and infinity (Lavin and Gray):
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 *   G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 * F(4x4, 2x2), points 0, 1, -1, 2 and infinity (Toom-Cook; checked exactly, and in float32 its
 * error relative to the sum of |terms| is F(4x4, 3x3)'s, ~1e-6 over 32 channels):
 *   B^T = [2 -1 -2 1 0; 0 -2 -1 1 0; 0 2 -3 1 0; 0 -1 0 1 0; 0 2 -1 -2 1]
 *   A^T = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 0; 0 1 -1 8 1]
 *   G = [1/2 0; -1/2 -1/2; -1/6 1/6; 1/6 1/3; 0 1]
 * B^T and A^T are applied with shared sums (below); G by the caller in float64.
 */
import type { codeWriter } from "./wasm-encode.ts";

const V = {
  load: 0x00,
  store: 0x0b,
  shuffle: 0x0d,
  const: 0x0c,
  add: 0xe4,
  sub: 0xe5,
  mul: 0xe6,
};

/** i8x16.shuffle's 16 byte indices for f32 lanes `l` of the pair (a, b) (b's lanes are 4..7). */
export function laneBytes(l: number[]): number[] {
  return l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);
}
const ZIP_LO = laneBytes([0, 4, 1, 5]);
const ZIP_HI = laneBytes([2, 6, 3, 7]);
const LOW_HALVES = laneBytes([0, 1, 4, 5]);
const HIGH_HALVES = laneBytes([2, 3, 6, 7]);

type Writer = ReturnType<typeof codeWriter>;

/** Pushes i8x16.shuffle(a, b) with the byte indices `lanes`. */
function shuffleLanes(w: Writer, a: number, b: number, lanes: number[]): void {
  w.get(a);
  w.get(b);
  w.simd(V.shuffle);
  w.e(...lanes);
}

/** Vector locals winoblock4's transforms use, besides those winograd-block.ts keeps. */
export const F4_VECTOR_LOCALS = 6 + 6 + 6 + 36 + 4 + 4 + 24 + 16 + 4;

/** Local indices of those vectors, from `first` on. */
export function f4Locals(first: number) {
  let next = first;
  const take = (count: number) => Array.from({ length: count }, () => next++);
  return {
    ld: take(6),
    z: take(6),
    d: take(6),
    e: take(36),
    t: take(4),
    /** Splats of 2, 4, 5 and 8. */
    k: take(4),
    s: take(24),
    y: take(16),
    tr: take(4),
  };
}
export type F4Locals = ReturnType<typeof f4Locals>;

/** Sets the constant locals (splats of 2, 4, 5, 8; 3 in place of 5 for 2x2 kernels); once. */
export function emitF4Constants(w: Writer, v: F4Locals, r: 2 | 3): void {
  [2, 4, r === 3 ? 5 : 3, 8].forEach((c, i) => {
    w.simd(V.const);
    w.e(...new Uint8Array(new Float32Array(4).fill(c).buffer));
    w.set(v.k[i]);
  });
}

/**
 * Pushes (or stores through `out`) the six entries of B^T d for d = locals `d`:
 *   v0 = (d4 - 5 d2) + 4 d0            v5 = (d5 - 5 d3) + 4 d1
 *   v1, v2 = (d4 - 4 d2) +- (d3 - 4 d1)
 *   v3, v4 = (d4 - d2) +- 2 (d3 - d1)
 * `out(i, push)` consumes entry i (push emits its value).
 */
function inputRow3(
  w: Writer,
  v: F4Locals,
  d: readonly number[],
  out: (i: number, push: () => void) => void,
): void {
  const [two, four, five] = v.k;
  const [ta, tb, tc, te] = v.t;
  const times = (a: number, k: number) => {
    w.get(a);
    w.get(k);
    w.simd(V.mul);
  };
  // ta = d4 - 4 d2, tb = d3 - 4 d1, tc = d4 - d2, te = 2 (d3 - d1)
  w.get(d[4]);
  times(d[2], four);
  w.simd(V.sub);
  w.set(ta);
  w.get(d[3]);
  times(d[1], four);
  w.simd(V.sub);
  w.set(tb);
  w.get(d[4]);
  w.get(d[2]);
  w.simd(V.sub);
  w.set(tc);
  w.get(d[3]);
  w.get(d[1]);
  w.simd(V.sub);
  w.get(two);
  w.simd(V.mul);
  w.set(te);
  const edge = (hi: number, mid: number, lo: number) => () => {
    w.get(hi);
    times(mid, five);
    w.simd(V.sub);
    times(lo, four);
    w.simd(V.add);
  };
  const pair = (a: number, op: number, b: number) => () => {
    w.get(a);
    w.get(b);
    w.simd(op);
  };
  out(0, edge(d[4], d[2], d[0]));
  out(1, pair(ta, V.add, tb));
  out(2, pair(ta, V.sub, tb));
  out(3, pair(tc, V.add, te));
  out(4, pair(tc, V.sub, te));
  out(5, edge(d[5], d[3], d[1]));
}

/**
 * The five entries of B^T d for 2x2 kernels (d = locals `d`), from a = d3 - d1:
 *   v0 = a + 2 (d0 - d2)   v1 = a - (d1 + d2)   v2 = a + 3 (d1 - d2)   v3 = a
 *   v4 = (d4 - d2) - 2 a
 */
function inputRow2(
  w: Writer,
  v: F4Locals,
  d: readonly number[],
  out: (i: number, push: () => void) => void,
): void {
  const [two, , three] = v.k;
  const [a, sum, diff] = v.t;
  const pair = (x: number, op: number, y: number) => {
    w.get(x);
    w.get(y);
    w.simd(op);
  };
  pair(d[3], V.sub, d[1]);
  w.set(a);
  pair(d[1], V.add, d[2]);
  w.set(sum);
  pair(d[1], V.sub, d[2]);
  w.set(diff);
  /** a + k * (x) for the value `x` pushes. */
  const plusTimes = (x: () => void, k: number) => () => {
    w.get(a);
    x();
    w.get(k);
    w.simd(V.mul);
    w.simd(V.add);
  };
  out(
    0,
    plusTimes(() => pair(d[0], V.sub, d[2]), two),
  );
  out(1, () => pair(a, V.sub, sum));
  out(
    2,
    plusTimes(() => w.get(diff), three),
  );
  out(3, () => w.get(a));
  out(4, () => {
    pair(d[4], V.sub, d[2]);
    w.get(a);
    w.get(two);
    w.simd(V.mul);
    w.simd(V.sub);
  });
}

/** B^T d for r x r kernels: entry i of alpha = r + 3 through out(i, push). */
function inputRow(
  w: Writer,
  v: F4Locals,
  r: 2 | 3,
  d: readonly number[],
  out: (i: number, push: () => void) => void,
): void {
  if (r === 3) inputRow3(w, v, d, out);
  else inputRow2(w, v, d, out);
}

/**
 * One channel's input transform: the patches of the group's four tiles, from padded input
 * rows at `row` (tile row 0) and `row4` (tile row 1, 4 rows down), `rowBytes` apart; V = B^T d B
 * stored at vAddr + xi * vXi for xi = 6 i + j. Advances neither `row` nor `row4` in the end
 * (each is stepped by rowBytes six times and stepped back).
 */
export function emitF4InputChannel(
  w: Writer,
  v: F4Locals,
  r: 2 | 3,
  at: { row: number; row4: number; rowBytes: number; vc: number; vXi: number },
): void {
  const alpha = r + 3;
  const shuffle = (a: number, b: number, lanes: number[]) => shuffleLanes(w, a, b, lanes);
  for (let i = 0; i < alpha; i++) {
    // Columns 0-3, 4-7, 8-11 of the patch row in tile rows 0 and 1.
    [at.row, at.row4].forEach((r, half) => {
      [0, 16, 32].forEach((off, c) => {
        w.get(r);
        w.simd(V.load, 2, off);
        w.set(v.ld[3 * half + c]);
      });
    });
    const [a, b, c, a4, b4, c4] = v.ld;
    const [zl, zh, zl4, zh4, wl, wl4] = v.z;
    // d_j = [col j, col 4 + j] of row 0 then of row 4: zip the column blocks, then join halves.
    shuffle(a, b, ZIP_LO);
    w.set(zl);
    shuffle(a, b, ZIP_HI);
    w.set(zh);
    shuffle(a4, b4, ZIP_LO);
    w.set(zl4);
    shuffle(a4, b4, ZIP_HI);
    w.set(zh4);
    shuffle(b, c, ZIP_LO);
    w.set(wl);
    shuffle(b4, c4, ZIP_LO);
    w.set(wl4);
    [
      [zl, zl4],
      [zh, zh4],
      [wl, wl4],
    ].forEach(([p, q], n) => {
      shuffle(p, q, LOW_HALVES);
      w.set(v.d[2 * n]);
      if (2 * n + 1 < alpha) {
        shuffle(p, q, HIGH_HALVES);
        w.set(v.d[2 * n + 1]);
      }
    });
    // Row i of d B.
    inputRow(w, v, r, v.d, (j, push) => {
      push();
      w.set(v.e[alpha * i + j]);
    });
    for (const row of [at.row, at.row4]) w.addTo(row, () => w.get(at.rowBytes));
  }
  for (const row of [at.row, at.row4]) {
    w.get(row);
    w.get(at.rowBytes);
    w.c32(alpha);
    w.e(0x6c, 0x6b); // i32.mul, i32.sub
    w.set(row);
  }
  // Column j of B^T (d B): V[i][j] for i < alpha, at vc + (alpha i + j) * vXi.
  for (let j = 0; j < alpha; j++) {
    const col = Array.from({ length: alpha }, (_, i) => v.e[alpha * i + j]);
    inputRow(w, v, r, col, (i, push) => {
      w.get(at.vc);
      w.get(at.vXi);
      w.c32(alpha * i + j);
      w.e(0x6c, 0x6a); // i32.mul, i32.add
      push();
      w.simd(V.store, 2, 0);
    });
  }
}

/**
 * Pushes entry `i` of A^T m for m = locals `m`, from the shared sums (in `t`, set by
 * outputSums) p = m1 + m2, q = m1 - m2 and, for 3x3 kernels, r = m3 + m4, s = m3 - m4:
 *   3x3: y0 = (m0 + p) + r, y1 = q + 2 s, y2 = p + 4 r, y3 = (q + 8 s) + m5;
 *   2x2: y0 = (m0 + p) + m3, y1 = q + 2 m3, y2 = p + 4 m3, y3 = (q + 8 m3) + m4.
 */
function outputEntry(w: Writer, v: F4Locals, kr: 2 | 3, m: readonly number[], i: number): void {
  const [p, q] = v.t;
  const [r, s] = kr === 3 ? [v.t[2], v.t[3]] : [m[3], m[3]];
  const [two, four, , eight] = v.k;
  const plusTimes = (a: number, b: number, k: number) => {
    w.get(a);
    w.get(b);
    w.get(k);
    w.simd(V.mul);
    w.simd(V.add);
  };
  if (i === 0) {
    w.get(m[0]);
    w.get(p);
    w.simd(V.add);
    w.get(r);
    w.simd(V.add);
  } else if (i === 1) plusTimes(q, s, two);
  else if (i === 2) plusTimes(p, r, four);
  else {
    plusTimes(q, s, eight);
    w.get(m[kr === 3 ? 5 : 4]);
    w.simd(V.add);
  }
}

function outputSums(w: Writer, v: F4Locals, kr: 2 | 3, m: readonly number[]): void {
  const sums = [
    [1, V.add, 2],
    [1, V.sub, 2],
    [3, V.add, 4],
    [3, V.sub, 4],
  ];
  sums.slice(0, kr === 3 ? 4 : 2).forEach(([a, op, b], n) => {
    w.get(m[a]);
    w.get(m[b]);
    w.simd(op);
    w.set(v.t[n]);
  });
}

/**
 * One output channel's transform for r x r kernels: loads M_xi (xi < alpha^2) from `addr`
 * stepping by mXi and leaves Y = A^T M A + bias in y[4 h + c] (row h, column c of each lane's
 * tile).
 */
export function emitF4OutputChannel(
  w: Writer,
  v: F4Locals,
  r: 2 | 3,
  at: { addr: number; mXi: number; bias: number },
): void {
  const alpha = r + 3;
  const points = alpha * alpha;
  for (let xi = 0; xi < points; xi++) {
    w.get(at.addr);
    w.simd(V.load, 2, 0);
    w.set(v.e[xi]);
    if (xi < points - 1) w.addTo(at.addr, () => w.get(at.mXi));
  }
  // s[alpha h + j] = row h of A^T applied to column j of M.
  for (let j = 0; j < alpha; j++) {
    const col = Array.from({ length: alpha }, (_, i) => v.e[alpha * i + j]);
    outputSums(w, v, r, col);
    for (let h = 0; h < 4; h++) {
      outputEntry(w, v, r, col, h);
      w.set(v.s[alpha * h + j]);
    }
  }
  // y[4 h + c] = (row h of A^T M) A^T's row c + bias.
  for (let h = 0; h < 4; h++) {
    const row = v.s.slice(alpha * h, alpha * h + alpha);
    outputSums(w, v, r, row);
    for (let c = 0; c < 4; c++) {
      outputEntry(w, v, r, row, c);
      w.get(at.bias);
      w.simd(V.add);
      w.set(v.y[4 * h + c]);
    }
  }
}

/**
 * Stores y (after the caller's check and ReLU) into the group's 8x8 output block at `base`:
 * row h of lane l's tile goes to output row h + 4 (l >> 1), columns 4 (l & 1) .. + 3. A 4x4
 * transpose of y[4 h .. 4 h + 3] per h.
 */
export function emitF4Store(
  w: Writer,
  v: F4Locals,
  at: { base: number; outRowBytes: number },
): void {
  const shuffle = (a: number, b: number, lanes: number[]) => shuffleLanes(w, a, b, lanes);
  const [t0, t1, t2, t3] = v.tr;
  for (let h = 0; h < 4; h++) {
    const [y0, y1, y2, y3] = v.y.slice(4 * h, 4 * h + 4);
    // t0 = [y0.l0 y1.l0 y0.l1 y1.l1], t1 the same of lanes 2, 3; t2, t3 of y2, y3.
    shuffle(y0, y1, ZIP_LO);
    w.set(t0);
    shuffle(y0, y1, ZIP_HI);
    w.set(t1);
    shuffle(y2, y3, ZIP_LO);
    w.set(t2);
    shuffle(y2, y3, ZIP_HI);
    w.set(t3);
    [
      [t0, t2, LOW_HALVES, h, 0],
      [t0, t2, HIGH_HALVES, h, 16],
      [t1, t3, LOW_HALVES, h + 4, 0],
      [t1, t3, HIGH_HALVES, h + 4, 16],
    ].forEach(([p, q, lanes, outRow, off]) => {
      w.get(at.base);
      w.get(at.outRowBytes);
      w.c32(outRow as number);
      w.e(0x6c, 0x6a); // i32.mul, i32.add
      shuffle(p as number, q as number, lanes as number[]);
      w.simd(V.store, 2, off as number);
    });
  }
}
