/**
 * PSNR as SR papers report it: on the luma channel Y of ITU-R BT.601 (the MATLAB rgb2ycbcr used
 * by EDSR/RCAN/BasicSR), with `shave` border pixels ignored, for images in [0, 255].
 */
export interface PsnrOptions {
  /** Border pixels to ignore on each side (SR convention: the scale factor). */
  shave?: number;
  /** Compare luma only (default) or all RGB channels. */
  luma?: boolean;
}

/** Y in [16, 235] from RGB in [0, 255], as MATLAB's rgb2ycbcr. */
function luma(r: number, g: number, b: number): number {
  return 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
}

/** a and b are [3, H, W] planar RGB arrays in [0, 255]. */
export function psnr(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  height: number,
  width: number,
  o: PsnrOptions = {},
): number {
  const px = height * width;
  if (a.length !== 3 * px || b.length !== 3 * px) {
    throw new Error(
      `psnr: expected two [3, ${height}, ${width}] images, got ${a.length} and ${b.length} values`,
    );
  }
  const shave = o.shave ?? 0;
  if (2 * shave >= Math.min(height, width))
    throw new Error(`psnr: shave ${shave} leaves nothing of a ${width}x${height} image`);
  let se = 0;
  let n = 0;
  for (let y = shave; y < height - shave; y++) {
    for (let x = shave; x < width - shave; x++) {
      const p = y * width + x;
      if (o.luma ?? true) {
        const d = luma(a[p], a[px + p], a[2 * px + p]) - luma(b[p], b[px + p], b[2 * px + p]);
        se += d * d;
        n++;
      } else {
        for (let c = 0; c < 3; c++) {
          const d = a[c * px + p] - b[c * px + p];
          se += d * d;
          n++;
        }
      }
    }
  }
  const mse = se / n;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}
