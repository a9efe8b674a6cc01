/** The frame the SVG scatter plots share: padded data ranges, data-to-pixel scales, the opening. */
import { escapeHtml } from "./html.ts";

/** Space left around the plot area, in pixels: left, right, top, bottom. */
export interface Margins {
  l: number;
  r: number;
  t: number;
  b: number;
}

/** [min, max] of the values widened by `frac` of the span on each side; [v - 1, v + 1] when flat. */
export function paddedRange(values: readonly number[], frac: number): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return hi > lo ? [lo - frac * (hi - lo), hi + frac * (hi - lo)] : [lo - 1, hi + 1];
}

/** Linear maps of data x and y onto the area inside the margins of a W x H picture (y up). */
export function plotScales(
  width: number,
  height: number,
  m: Margins,
  [x0, x1]: readonly [number, number],
  [y0, y1]: readonly [number, number],
): { sx: (v: number) => number; sy: (v: number) => number } {
  return {
    sx: (v) => m.l + ((v - x0) / (x1 - x0)) * (width - m.l - m.r),
    sy: (v) => height - m.b - ((v - y0) / (y1 - y0)) * (height - m.t - m.b),
  };
}

/** The opening lines of a standalone SVG: the root element, a white background, the title at `titleX`. */
export function svgOpening(width: number, height: number, title: string, titleX: number): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${titleX}" y="18" text-anchor="middle" font-size="13">${escapeHtml(title)}</text>`,
  ];
}
