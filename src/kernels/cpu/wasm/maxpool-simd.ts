/**
 * 3x3 max pooling at stride 2 (ResNet's stem pool) in wasm SIMD, four windows a vector, for the
 * windows that lie wholly inside one input plane; maxPool2d does the border windows. The same
 * comparisons as its plain loop, lane by lane: taps in row-major window order, a tap wins when
 * it is greater than the best so far or NaN (PyTorch's `val > max || isnan(val)`: ties keep the
 * first maximum, a later NaN beats an earlier one), so values and argmax are identical.
 *
 * A plane is copied into the module's memory, one call per output row pools it into rows laid
 * out as the output plane's, and the values and in-plane argmax indices are copied out, one copy
 * each (V8 runs a typed-array loop over arguments at several ns per element here, the copies at
 * well under one; two copies per row cost [10, 64, 112, 112] 24.7 ms against 15.3).
 */
import {
  codeWriter,
  exportSection,
  functionBody,
  instantiateGenerated,
  section,
  uleb,
} from "./wasm-encode.ts";

const I32 = 0x7f;
const V = {
  load: 0x00,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  i32Splat: 0x11,
  f32Ne: 0x42,
  f32Gt: 0x44,
  or: 0x50,
  bitselect: 0x52,
  i32Add: 0xae,
};
const I = { add: 0x6a, mul: 0x6c, shl: 0x74 };

/** Module memory in 64 KiB pages: the plane, then the values and the indices out. */
const PAGES = 16;
const MEMORY_BYTES = PAGES * 65536;

/** i8x16.shuffle byte indices for the f32 lanes `l` of the pair (a, b) (b's lanes are 4..7). */
const lanes = (l: number[]) => l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);
const EVENS = lanes([0, 2, 4, 6]);
const ODDS = lanes([1, 3, 5, 7]);
const NEXT_EVENS = lanes([1, 2, 3, 4]);

/**
 * pool3s2(x, W, rows, groups, outV, outA, idx0): output row r, window group g (4 windows) has its
 * first window's top-left pixel at byte x + (2 r W + 8 g) * 4 of a plane W floats wide; values go
 * to outV and in-plane argmax indices (idx0 + 2 r W + 8 g + 2 lane + tap offset) to outA, each
 * groups * 4 a row. Reads up to 3 floats past each row's last window.
 */
function poolBody(): number[] {
  const P = { x: 0, W: 1, rows: 2, groups: 3, outV: 4, outA: 5, idx0: 6 };
  let n = 7;
  const L = { r: n++, g: n++, a: n++, rowA: n++, ov: n++, oa: n++, idxRow: n++, rowBytes: n++ };
  const i32Locals = n - 7;
  let vn = n;
  const off = Array.from({ length: 9 }, () => vn++);
  const v = { v0: vn++, v1: vn++, v2: vn++, t0: vn++, t1: vn++, t2: vn++, best: vn++, at: vn++ };
  const mask = vn++;
  const v128Locals = vn - n;
  const w = codeWriter();
  const { e, get, set, c32, simd, whileBelow, addTo } = w;
  const i32Splat = (push: () => void, to: number) => {
    push();
    simd(V.i32Splat);
    set(to);
  };
  // Tap offsets within a window, row-major: 0 1 2, W W+1 W+2, 2W 2W+1 2W+2.
  for (let t = 0; t < 9; t++) {
    const row = Math.floor(t / 3);
    i32Splat(() => {
      get(P.W);
      c32(row);
      e(I.mul);
      c32(t % 3);
      e(I.add);
    }, off[t]);
  }
  get(P.W);
  c32(2);
  e(I.shl);
  set(L.rowBytes);
  get(P.x);
  set(L.rowA);
  get(P.outV);
  set(L.ov);
  get(P.outA);
  set(L.oa);
  get(P.idx0);
  set(L.idxRow);
  whileBelow(
    L.r,
    () => get(P.rows),
    () => {
      get(L.rowA);
      set(L.a);
      whileBelow(
        L.g,
        () => get(P.groups),
        () => {
          // Taps row by row: columns 0 2 4 6, 1 3 5 7, 2 4 6 8 of the group's 9 columns.
          for (let row = 0; row < 3; row++) {
            for (const [k, to] of [
              [0, v.v0],
              [16, v.v1],
              [32, v.v2],
            ]) {
              get(L.a);
              if (row > 0) {
                get(L.rowBytes);
                if (row === 2) {
                  c32(1);
                  e(I.shl);
                }
                e(I.add);
              }
              simd(V.load, 0, k);
              set(to);
            }
            const shuffle = (a: number, b: number, l: number[], to: number) => {
              get(a);
              get(b);
              simd(V.shuffle);
              e(...l);
              set(to);
            };
            shuffle(v.v0, v.v1, EVENS, v.t0);
            shuffle(v.v0, v.v1, ODDS, v.t1);
            shuffle(v.t0, v.v2, NEXT_EVENS, v.t2);
            [v.t0, v.t1, v.t2].forEach((tap, col) => {
              const t = 3 * row + col;
              if (t === 0) {
                get(tap);
                set(v.best);
                get(off[0]);
                set(v.at);
                return;
              }
              // mask = tap > best | tap != tap; best, at = mask ? tap, offset : best, at
              get(tap);
              get(v.best);
              simd(V.f32Gt);
              get(tap);
              get(tap);
              simd(V.f32Ne);
              simd(V.or);
              set(mask);
              get(tap);
              get(v.best);
              get(mask);
              simd(V.bitselect);
              set(v.best);
              get(off[t]);
              get(v.at);
              get(mask);
              simd(V.bitselect);
              set(v.at);
            });
          }
          get(L.ov);
          get(v.best);
          simd(V.store, 0, 0);
          // at + idxRow + 8 g + [0, 2, 4, 6]
          get(L.oa);
          get(v.at);
          get(L.idxRow);
          get(L.g);
          c32(3);
          e(I.shl);
          e(I.add);
          simd(V.i32Splat);
          simd(V.i32Add);
          simd(V.const);
          e(...new Uint8Array(new Int32Array([0, 2, 4, 6]).buffer));
          simd(V.i32Add);
          simd(V.store, 0, 0);
          addTo(L.a, () => c32(32));
          addTo(L.ov, () => c32(16));
          addTo(L.oa, () => c32(16));
          addTo(L.g, () => c32(1));
        },
      );
      // Next output row: two input rows down.
      addTo(L.rowA, () => {
        get(L.rowBytes);
        c32(1);
        e(I.shl);
      });
      addTo(L.idxRow, () => {
        get(P.W);
        c32(1);
        e(I.shl);
      });
      addTo(L.r, () => c32(1));
    },
  );
  return functionBody(i32Locals, w.code, v128Locals);
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  section(1, [1, 0x60, 7, I32, I32, I32, I32, I32, I32, I32, 0], out);
  section(3, [1, 0], out);
  section(5, [1, 0x00, PAGES], out);
  exportSection(
    [
      ["mem", 2, 0],
      ["pool3s2", 0, 0],
    ],
    out,
  );
  const body = poolBody();
  const code: number[] = [1];
  uleb(body.length, code);
  code.push(...body);
  section(10, code, out);
  return new Uint8Array(out);
}

type Pool = (
  x: number,
  W: number,
  rows: number,
  groups: number,
  outV: number,
  outA: number,
  idx0: number,
) => void;
let inst: { pool: Pool; f: Float32Array; i: Int32Array } | null | undefined;

function instance() {
  if (inst === undefined) {
    const i = instantiateGenerated(moduleBytes());
    const x = i?.exports as { pool3s2: Pool; mem: WebAssembly.Memory } | undefined;
    inst = x
      ? { pool: x.pool3s2, f: new Float32Array(x.mem.buffer), i: new Int32Array(x.mem.buffer) }
      : null;
  }
  return inst;
}

/**
 * Pools output rows oh0 .. oh0 + rows - 1, columns ow0 .. ow0 + 4 * groups - 1 of one plane
 * (x[base ..], H x W; output plane at out[q ..], OW wide) with 3x3 windows at stride 2 whose
 * top-left pixel is (2 oh - padTop, 2 ow - padLeft), all inside the plane. The other columns
 * of those rows get stale values, which the caller overwrites. False (nothing written) when
 * wasm SIMD is missing or the plane does not fit the module's memory.
 */
export function maxPool3x3s2Simd(
  x: Float32Array,
  base: number,
  H: number,
  W: number,
  out: Float32Array,
  argmax: Int32Array,
  q: number,
  OW: number,
  oh0: number,
  rows: number,
  ow0: number,
  groups: number,
  padTop: number,
  padLeft: number,
): boolean {
  const s = instance();
  // Output rows keep the plane's width here, so each block goes out in one copy (the border
  // columns it carries are stale: maxPool2d overwrites them after this call).
  const outFloats = rows * OW;
  if (s === null || 4 * (H * W + 4 + 2 * outFloats) > MEMORY_BYTES) return false;
  s.f.set(x.subarray(base, base + H * W));
  const vAt = H * W + 4;
  const aAt = vAt + outFloats;
  const top = 2 * oh0 - padTop;
  const left = 2 * ow0 - padLeft;
  for (let r = 0; r < rows; r++) {
    const first = (top + 2 * r) * W + left;
    const o = r * OW + ow0;
    s.pool(4 * first, W, 1, groups, 4 * (vAt + o), 4 * (aAt + o), first);
  }
  const to = q + oh0 * OW;
  out.set(s.f.subarray(vAt, vAt + outFloats), to);
  argmax.set(s.i.subarray(aAt, aAt + outFloats), to);
  return true;
}
