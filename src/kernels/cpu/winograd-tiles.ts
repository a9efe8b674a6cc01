/**
 * The tile grid of the CPU Winograd paths (conv2d-winograd.ts, conv2d-winograd-chunked.ts): groups
 * of 8 output columns by 2 rows (F(2x2, .): 4 tiles of 2x2 side by side) or by 8 rows (F(4x4,
 * 3x3): 2x2 tiles of 4x4), the padded input planes holding every group's patches, and the
 * padded output planes the groups write.
 */
import type { Conv2dGeometry } from "../conv-geometry.ts";

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

export /** Copies the top-left rows x cols of `planes` padded planes (pH x pW floats at f[at]) into dst. */
function cropPlanes(
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
  for (let p = 0; p < planes; p++) {
    const src = at + p * pH * pW;
    const d = dstAt + p * rows * cols;
    if (pW === cols) {
      dst.set(f.subarray(src, src + rows * cols), d);
      continue;
    }
    for (let y = 0; y < rows; y++) {
      dst.set(f.subarray(src + y * pW, src + y * pW + cols), d + y * cols);
    }
  }
}
