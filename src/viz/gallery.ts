/**
 * Side-by-side galleries: several panels (input, overlays of different methods) placed in one row
 * with white gaps, and an HTML page showing the PNG-encoded panels with their captions.
 */
import { base64 } from "../base64.ts";
import { escapeHtml } from "./html.ts";
import type { RgbImage } from "./overlay.ts";

/** One picture of a gallery with its caption. */
export interface Panel {
  title: string;
  image: RgbImage;
}

/** Panels left to right, top-aligned, separated by `gap` white pixels. */
export function galleryStrip(panels: readonly Panel[], gap = 4): RgbImage {
  if (panels.length === 0) throw new Error("galleryStrip: no panels");
  const height = Math.max(...panels.map((p) => p.image.height));
  const width = panels.reduce((a, p) => a + p.image.width, 0) + gap * (panels.length - 1);
  const data = new Uint8Array(width * height * 3).fill(255);
  let x0 = 0;
  for (const { image } of panels) {
    for (let y = 0; y < image.height; y++) {
      data.set(
        image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3),
        (y * width + x0) * 3,
      );
    }
    x0 += image.width + gap;
  }
  return { width, height, data };
}

/** A self-contained HTML page: one figure per panel (PNG bytes inlined), pixelated upscaling. */
export function galleryHtml(
  title: string,
  panels: readonly { title: string; png: Uint8Array; note?: string }[],
  scale = 4,
): string {
  const figs = panels
    .map(
      (p) =>
        `<figure><img src="data:image/png;base64,${base64(p.png)}" style="zoom:${scale}"><figcaption>${escapeHtml(p.title)}${p.note ? `<br><small>${escapeHtml(p.note)}</small>` : ""}</figcaption></figure>`,
    )
    .join("\n");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;margin:1em}figure{display:inline-block;margin:0.5em;text-align:center;vertical-align:top}img{image-rendering:pixelated}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${figs}
</body></html>
`;
}
