/** A minimal labelled scatter plot as SVG text (for the zoo study's DI plots). */
import { escapeHtml } from "./html.ts";

/** One point of `scatterSvg`, in data units, drawn with its text label. */
export interface ScatterPoint {
  x: number;
  y: number;
  label: string;
}

function ticks(lo: number, hi: number, n = 5): number[] {
  const step = (hi - lo) / n;
  return Array.from({ length: n + 1 }, (_, i) => lo + i * step);
}

/**
 * A labelled scatter plot as standalone SVG text, with axes and ticks (x on a log scale if asked).
 */
export function scatterSvg(
  points: readonly ScatterPoint[],
  o: {
    title: string;
    xLabel: string;
    yLabel: string;
    logX?: boolean;
    width?: number;
    height?: number;
  },
): string {
  if (points.length === 0) throw new Error("scatterSvg: no points");
  const W = o.width ?? 560;
  const H = o.height ?? 380;
  const m = { l: 60, r: 20, t: 36, b: 48 };
  const fx = (v: number) => (o.logX ? Math.log10(Math.max(v, 1)) : v);
  const xs = points.map((p) => fx(p.x));
  const ys = points.map((p) => p.y);
  const pad = (lo: number, hi: number) =>
    hi > lo ? [lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo)] : [lo - 1, hi + 1];
  const [x0, x1] = pad(Math.min(...xs), Math.max(...xs));
  const [y0, y1] = pad(Math.min(...ys), Math.max(...ys));
  const sx = (v: number) => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (v: number) => H - m.b - ((v - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${escapeHtml(o.title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
    `<text x="${W / 2}" y="${H - 10}" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`,
    `<text transform="translate(14 ${H / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(o.yLabel)}</text>`,
  ];
  for (const t of ticks(x0, x1)) {
    const label = o.logX ? (10 ** t).toPrecision(2) : t.toPrecision(3);
    parts.push(`<text x="${sx(t)}" y="${H - m.b + 14}" text-anchor="middle">${label}</text>`);
  }
  for (const t of ticks(y0, y1))
    parts.push(
      `<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t.toPrecision(3)}</text>`,
    );
  points.forEach((p, i) => {
    const cx = sx(xs[i]);
    const cy = sy(ys[i]);
    parts.push(`<circle cx="${cx}" cy="${cy}" r="4" fill="#c0392b"/>`);
    parts.push(`<text x="${cx + 6}" y="${cy - 6}">${escapeHtml(p.label)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}
