/**
 * The tile grid of the CPU Winograd paths (conv2d-winograd.ts, conv2d-winograd-chunked.ts): groups
 * of 8 output columns by 2 rows (F(2x2, .): 4 tiles of 2x2 side by side) or by 8 rows (F(4x4,
 * 3x3): 2x2 tiles of 4x4), the padded input planes holding every group's patches, and the
 * padded output planes the groups write.
 */
import type { Conv2dGeometry } from "../conv-geometry.ts";
import type { GemmSimd, WinoBlockArgs } from "./wasm/gemm-simd.ts";

export interface WinoTiles {
  /** Group rows and groups per row of an image. */
  tH: number;
  tWg: number;
  perImage: number;
  /** Padded input plane (every patch inside) and padded output plane. */
  Hp: number;
  Wp: number;
  Ho2: number;
  Wo2: number;
}

/** The tile grid of `g` for output tile m (2 or 4). */
export function winoTiles(g: Conv2dGeometry, m: 2 | 4): WinoTiles {
  const groupRows = m === 4 ? 8 : 2;
  const tH = Math.ceil(g.outHeight / groupRows);
  const tWg = Math.ceil(g.outWidth / 8);
  // Patches reach 2 rows and columns past their group; F(4x4)'s loads 2 columns more.
  return {
    tH,
    tWg,
    perImage: tH * tWg,
    Hp: groupRows * tH + 2,
    Wp: 8 * tWg + (m === 4 ? 4 : 2),
    Ho2: groupRows * tH,
    Wo2: 8 * tWg,
  };
}

/**
 * Copies the top-left rows x cols of `planes` padded pH x pW planes at f[at] (float index in the
 * GEMM module's memory) into dst from dstAt: cropped in place in wasm (cropplanes), then one
 * bulk copy.
 */
export function copyOutPlanes(
  s: GemmSimd,
  f: Float32Array,
  at: number,
  pH: number,
  pW: number,
  dst: Float32Array,
  dstAt: number,
  planes: number,
  rows: number,
  cols: number,
): void {
  if (pH !== rows || pW !== cols) s.cropplanes(4 * at, 4 * at, planes, pH, pW, rows, cols);
  dst.set(f.subarray(at, at + planes * rows * cols), dstAt);
}

/** Where winoblock's operands lie: float offsets after `base` in the GEMM module's memory. */
export interface WinoLayout {
  base: number;
  xp: number;
  io: number;
  bias: number;
  flag: number;
  /** U (tile blocks) or none (split by output channels); V and M when shared by blocks. */
  u: number | null;
  v: number | null;
  m: number | null;
}

/**
 * The tiles of a band of nb group rows of `t` (wherever it starts in the image): its padded
 * input holds the band's patches (t.Hp - rows * t.tH rows past its last group row, as t's), its
 * padded output the band's rows. `rows` is the output rows of a group row (8 for F(4x4), else 2).
 */
export function bandTiles(t: WinoTiles, rows: number, nb: number): WinoTiles {
  return {
    ...t,
    tH: nb,
    perImage: nb * t.tWg,
    Hp: t.Hp - rows * (t.tH - nb),
    Ho2: rows * nb,
  };
}

/** A piece of the input winoblock computes at once: `count` whole images, or a band of one. */
export interface WinoPiece {
  n0: number;
  count: number;
  /** The piece's first padded input row in its image's padded planes (0: whole images). */
  row0: number;
}

/**
 * Stages images n0 .. n0 + count - 1 of x [N, C, H, W] (or the band of image n0 whose padded
 * rows start at row0, t being the band's tiles) for winoblock: copied to io and zero-padded by
 * padplanes into xp (or by `pad`, given xp's and io's byte addresses, whole images only); returns
 * winoblock's arguments for them (bytes; g0 and ng 0, and v and m 0 where the caller's blocks
 * set them), outputs to the padded planes at io.
 */
export function stageImages(
  s: GemmSimd,
  f: Float32Array,
  x: Float32Array,
  g: Conv2dGeometry,
  t: WinoTiles,
  at: WinoLayout,
  piece: WinoPiece,
  o: { mp: number; relu: boolean; ngAll: number; stages: number },
  pad?: (xp: number, io: number, count: number) => void,
): WinoBlockArgs {
  const { inChannels: C, inHeight: H, inWidth: W, outChannels: K } = g;
  const plane = C * H * W;
  const bytes = (floats: number | null) => (floats === null ? 0 : 4 * (at.base + floats));
  const { n0, count, row0 } = piece;
  // Input rows r0 .. r1 - 1 land at padded rows top .. of the piece's planes.
  const y0 = row0 - g.pad[0];
  const r0 = Math.max(0, y0);
  const r1 = Math.min(H, y0 + t.Hp);
  const rows = r1 - r0;
  if (rows === H) {
    f.set(x.subarray(n0 * plane, (n0 + count) * plane), at.base + at.io);
  } else {
    for (let c = 0; c < C; c++) {
      const from = (n0 * C + c) * H * W + r0 * W;
      f.set(x.subarray(from, from + rows * W), at.base + at.io + c * rows * W);
    }
  }
  if (pad !== undefined) pad(bytes(at.xp), bytes(at.io), count);
  else s.padplanes(bytes(at.xp), bytes(at.io), count * C, rows, W, t.Hp, t.Wp, r0 - y0, g.pad[2]);
  return [
    bytes(at.xp),
    C,
    t.Hp * t.Wp * 4,
    t.Wp * 4,
    t.tH,
    t.tWg,
    0,
    0,
    bytes(at.u),
    o.mp,
    bytes(at.v),
    bytes(at.m),
    bytes(at.io),
    K,
    t.Ho2 * t.Wo2 * 4,
    t.Wo2 * 4,
    bytes(at.bias),
    bytes(at.flag),
    o.relu ? 1 : 0,
    o.ngAll,
    o.stages,
  ];
}
