/**
 * LAM's pictures as LAM_Demo draws them: the HR image with the red window, the normalised
 * |sum over channels| map through seismic(0.5 + 0.5 M) enlarged with nearest neighbours, the
 * 0.5 blend of that with the LR image upsampled by PIL's bicubic, and the weighted-KDE view
 * (bicubic-enlarged) blended the same way; all four side by side.
 */

import { weightedKde } from "../attribution/lam/kde.ts";
import { gradAbsNorm } from "../attribution/lam/normalize.ts";
import type { LamWindow } from "../attribution/lam/window.ts";
import { tidy } from "../autodiff/tidy.ts";
import { tensor } from "../ops/creation.ts";
import { resize } from "../ops/resize.ts";
import { applyColormap } from "./colormap.ts";
import { galleryStrip, type Panel } from "./gallery.ts";
import { blend, enlarge, type RgbImage, toRgb } from "./overlay.ts";

/** An [3, h, w] image in [0, 1] resized by PIL's bicubic (antialiased when shrinking). */
function pilBicubic(img: ArrayLike<number>, h: number, w: number, H: number, W: number): RgbImage {
  const up = tidy(() =>
    resize(tensor(Float32Array.from(img), [1, 3, h, w]), [H, W], {
      mode: "antialias-bicubic",
    }).dataSync(),
  );
  return toRgb(up, 3, H, W);
}

/** RGB bytes as a planar [3, h, w] image in [0, 1]. */
function planar(img: RgbImage): Float32Array {
  const hw = img.width * img.height;
  const out = new Float32Array(3 * hw);
  for (let p = 0; p < hw; p++)
    for (let c = 0; c < 3; c++) out[c * hw + p] = img.data[p * 3 + c] / 255;
  return out;
}

/** A copy of `img` with a red square outline, 2 pixels thick, around the window. */
export function drawWindow(img: RgbImage, w: LamWindow): RgbImage {
  const data = Uint8Array.from(img.data);
  const paint = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    data.set([255, 0, 0], (y * img.width + x) * 3);
  };
  const [x0, y0, x1, y1] = [w.x, w.y, w.x + w.size, w.y + w.size];
  for (let t = -1; t <= 0; t++) {
    for (let x = x0 - 1; x <= x1; x++) {
      paint(x, y0 + t);
      paint(x, y1 + t);
    }
    for (let y = y0 - 1; y <= y1; y++) {
      paint(x0 + t, y);
      paint(x1 + t, y);
    }
  }
  return { width: img.width, height: img.height, data };
}

/**
 * What lamPanels draws from: the HR (or SR) image, the LR image and LAM map, their sizes, the scale
 * and the window.
 */
export interface LamPanelsInput {
  /** The HR (or SR) image, RGB bytes, scale times the LR size. */
  hr: RgbImage;
  /** The LR image [3, h, w] in [0, 1]. */
  lr: ArrayLike<number>;
  /** The LAM map [3, h, w]. */
  map: ArrayLike<number>;
  height: number;
  width: number;
  scale: number;
  window: LamWindow;
  /** Weight of the upsampled LR image in the blends (LAM_Demo: 0.5). */
  alpha?: number;
}

/** The four panels side by side, each panel, and the normalised map (for the Gini index and DI). */
export interface LamPanels {
  grid: RgbImage;
  panels: Panel[];
  /** The normalised |sum over channels| map [h * w] the pictures and the Gini index use. */
  absNorm: Float64Array;
}

/**
 * LAM's four pictures as LAM_Demo draws them: HR with the window, the |sum over channels| map, the
 * map over the upsampled LR image, and the KDE view over it.
 */
export function lamPanels(p: LamPanelsInput): LamPanels {
  const { height: h, width: w, scale } = p;
  const H = h * scale;
  const W = w * scale;
  if (p.hr.width !== W || p.hr.height !== H) {
    throw new Error(
      `lamPanels: the HR image is ${p.hr.width}x${p.hr.height}, expected ${W}x${H} (${scale} x the LR size)`,
    );
  }
  const alpha = p.alpha ?? 0.5;
  const absNorm = gradAbsNorm(p.map, 3, h, w);
  const seismic = (m: ArrayLike<number>) =>
    applyColormap(
      Float64Array.from(m, (v) => 0.5 + 0.5 * v),
      "seismic",
    );
  const absSmall: RgbImage = { width: w, height: h, data: seismic(absNorm) };
  const absBig = enlarge(absSmall, scale);
  const lrUp = pilBicubic(p.lr, h, w, H, W);
  const kdeSmall: RgbImage = { width: w, height: h, data: seismic(weightedKde(absNorm, h, w)) };
  const kdeBig = pilBicubic(planar(kdeSmall), h, w, H, W);
  const panels: Panel[] = [
    { title: "HR with window", image: drawWindow(p.hr, p.window) },
    { title: "LAM |sum_c| (seismic)", image: absBig },
    { title: "LAM blended with LR", image: blend(absBig, lrUp, alpha) },
    { title: "LAM KDE blended with LR", image: blend(kdeBig, lrUp, alpha) },
  ];
  return { grid: galleryStrip(panels), panels, absNorm };
}
