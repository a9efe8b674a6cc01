/** A scatter plot of unlabelled points coloured by group, with a legend (feature-space plots). */
import { escapeHtml } from "./html.ts";
import { paddedRange, plotScales, svgOpening } from "./plot-frame.ts";

export interface GroupedPoint {
  x: number;
  y: number;
  group: string;
}

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
];

/** Standalone SVG text: points coloured by group (in order of first appearance), axes, legend. */
export function groupedScatterSvg(
  points: readonly GroupedPoint[],
  o: { title: string; xLabel: string; yLabel: string; width?: number; height?: number },
): string {
  if (points.length === 0) throw new Error("groupedScatterSvg: no points");
  const W = o.width ?? 560;
  const H = o.height ?? 420;
  const m = { l: 56, r: 150, t: 36, b: 44 };
  const groups = [...new Set(points.map((p) => p.group))];
  const { sx, sy } = plotScales(
    W,
    H,
    m,
    paddedRange(
      points.map((p) => p.x),
      0.05,
    ),
    paddedRange(
      points.map((p) => p.y),
      0.05,
    ),
  );
  const parts = [
    ...svgOpening(W, H, o.title, (W - m.r + m.l) / 2),
    `<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="black"/>`,
    `<text x="${(W - m.r + m.l) / 2}" y="${H - 12}" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`,
    `<text transform="translate(14 ${H / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(o.yLabel)}</text>`,
  ];
  for (const p of points) {
    const colour = PALETTE[groups.indexOf(p.group) % PALETTE.length];
    parts.push(
      `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${colour}" fill-opacity="0.7"/>`,
    );
  }
  groups.forEach((g, i) => {
    const y = m.t + 10 + 16 * i;
    parts.push(
      `<circle cx="${W - m.r + 14}" cy="${y}" r="4" fill="${PALETTE[i % PALETTE.length]}"/>`,
    );
    parts.push(`<text x="${W - m.r + 24}" y="${y + 4}">${escapeHtml(g)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}
