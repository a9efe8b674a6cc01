/**
 * The pointing game (Zhang et al. 2016; TorchRay pointing_game.py): a hit when the ground-truth
 * mask has a pixel strictly closer than `tolerance` (default 15 px) to the map's maximum (the
 * first one in raster order, like np.argmax). With tolerance 0 the maximum itself must be in the mask.
 */

export interface PointingResult {
  hit: boolean;
  /** [row, column] of the maximum. */
  point: [number, number];
}

/**
 * The pointing game on one [height, width] map: a hit when the mask has a pixel closer than
 * `tolerance` (default 15 px) to the map's maximum.
 */
export function pointingGame(
  saliency: ArrayLike<number>,
  mask: ArrayLike<number | boolean>,
  height: number,
  width: number,
  o: { tolerance?: number } = {},
): PointingResult {
  const n = height * width;
  if (saliency.length !== n || mask.length !== n) {
    throw new Error(
      `pointingGame: the map (${saliency.length} values) and the mask (${mask.length}) must both be ${height} x ${width}`,
    );
  }
  const tol = o.tolerance ?? 15;
  if (!(tol >= 0)) throw new Error(`pointingGame: tolerance must be >= 0, got ${tol}`);
  let best = 0;
  for (let p = 1; p < n; p++) if (saliency[p] > saliency[best]) best = p;
  const py = Math.floor(best / width);
  const px = best % width;
  let hit = false;
  if (tol === 0) hit = Boolean(mask[best]);
  else {
    const r = Math.ceil(tol);
    for (let y = Math.max(0, py - r); y <= Math.min(height - 1, py + r) && !hit; y++) {
      for (let x = Math.max(0, px - r); x <= Math.min(width - 1, px + r); x++) {
        if (mask[y * width + x] && (y - py) ** 2 + (x - px) ** 2 < tol * tol) {
          hit = true;
          break;
        }
      }
    }
  }
  return { hit, point: [py, px] };
}
