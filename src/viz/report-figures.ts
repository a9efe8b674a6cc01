/**
 * Labelled figures for HTML reports: a picture with its title, an optional colour bar with the
 * values at its ends (and zero in the middle of a diverging one), and a short note (a timing).
 */
import type { ColorScale } from "./colorbar.ts";
import { tickLabel } from "./colorbar.ts";
import { escapeHtml } from "./html.ts";
import type { RgbImage } from "./overlay.ts";

export interface ReportFigure {
  title: string;
  /** The picture's URL (a file next to the page, or a data: URL). */
  src: string;
  width: number;
  height: number;
  /** Shown under the picture in small type (a timing, a caption). */
  note?: string;
  /** The colour bar: its scale and the URL of its picture. */
  bar?: { scale: ColorScale; src: string };
  /** Alternative text for the picture (the title when absent). */
  alt?: string;
  /** A link the title opens (the same view in the explorer). */
  href?: string;
}

/** The bar's tick labels: both ends, and zero in the middle of a diverging scale. */
export function barTicks(s: ColorScale): string[] {
  return s.diverging
    ? [tickLabel(s.min), "0", tickLabel(s.max)]
    : [tickLabel(s.min), tickLabel(s.max)];
}

/** One `<figure>`: title above, picture, colour bar with ticks, note. */
export function figureHtml(f: ReportFigure): string {
  const bar = f.bar
    ? `<div class="bar"><img src="${escapeHtml(f.bar.src)}" width="${f.width}" height="10" alt="colour bar"><div class="ticks">${barTicks(
        f.bar.scale,
      )
        .map((t) => `<span>${escapeHtml(t)}</span>`)
        .join("")}</div></div>`
    : "";
  const note = f.note ? `<small>${escapeHtml(f.note)}</small>` : "";
  const title = f.href
    ? `<a href="${escapeHtml(f.href)}">${escapeHtml(f.title)}</a>`
    : escapeHtml(f.title);
  return `<figure style="width:${f.width}px"><figcaption>${title}</figcaption><img src="${escapeHtml(f.src)}" width="${f.width}" height="${f.height}" alt="${escapeHtml(f.alt ?? f.title)}">${bar}${note}</figure>`;
}

/** The CSS the figures need (pixelated enlargement, ticks spread under the bar). */
export const FIGURE_CSS =
  "figure{display:inline-block;margin:0 8px 12px 0;vertical-align:top}" +
  "figcaption{font-size:14px;margin-bottom:4px;white-space:nowrap}" +
  "figure img{display:block;image-rendering:pixelated}" +
  ".bar{margin-top:4px}.ticks{display:flex;justify-content:space-between;font-size:12px}" +
  "figure small{display:block;color:#555;margin-top:2px}";

/** A copy of the rows y0..y0+h and columns x0..x0+w of an image (the region must lie inside it). */
export function crop(img: RgbImage, x0: number, y0: number, w: number, h: number): RgbImage {
  if (x0 < 0 || y0 < 0 || w < 1 || h < 1 || x0 + w > img.width || y0 + h > img.height)
    throw new Error(
      `crop: the region ${w}x${h} at (${x0}, ${y0}) is not inside the ${img.width}x${img.height} image`,
    );
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    data.set(
      img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + w) * 3),
      y * w * 3,
    );
  return { width: w, height: h, data };
}

/** Seconds as text a reader compares at a glance: milliseconds under one second. */
export function formatSeconds(s: number): string {
  if (!(s >= 0)) throw new Error(`formatSeconds: expected a duration >= 0, got ${s}`);
  return s < 1 ? `${Number((s * 1000).toPrecision(2))} ms` : `${s.toFixed(2)} s`;
}
