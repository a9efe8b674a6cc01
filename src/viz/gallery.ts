/**
 * Side-by-side galleries: several panels (input, overlays of different methods) placed in one row
 * with white gaps, and an HTML page showing the PNG-encoded panels with their captions.
 */
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

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard base64 (with padding) of bytes, e.g. for data: URLs. */
export function base64(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? B64[n & 63] : "=";
  }
  return out;
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

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
