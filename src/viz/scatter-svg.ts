/** A minimal labelled scatter plot as SVG text (for the zoo study's DI plots). */
import { escapeHtml } from "./html.ts";
import { paddedRange, plotScales, svgOpening } from "./plot-frame.ts";

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
  const [x0, x1] = paddedRange(xs, 0.08);
  const [y0, y1] = paddedRange(ys, 0.08);
  const { sx, sy } = plotScales(W, H, m, [x0, x1], [y0, y1]);
  const parts = [
    ...svgOpening(W, H, o.title, W / 2),
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
