/** Canvas and SVG helpers of the page: pictures, colour bars, curves. */
import { applyColormap, type ColormapName } from "../../src/index.ts";
import type { Picture } from "./protocol.ts";

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

export function pictureCanvas(p: Picture, cls = ""): HTMLCanvasElement {
  const c = el("canvas", { class: cls, width: String(p.width), height: String(p.height) });
  drawPicture(c, p);
  return c;
}

export function drawPicture(c: HTMLCanvasElement, p: Picture): void {
  c.width = p.width;
  c.height = p.height;
  c.getContext("2d")!.putImageData(
    new ImageData(new Uint8ClampedArray(p.data), p.width, p.height),
    0,
    0,
  );
}

/** RGB bytes to a Picture. */
export function rgbPicture(width: number, height: number, rgb: Uint8Array): Picture {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[4 * i] = rgb[3 * i];
    data[4 * i + 1] = rgb[3 * i + 1];
    data[4 * i + 2] = rgb[3 * i + 2];
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}

/** A horizontal colour bar with its end labels. */
export function colourBar(cmap: ColormapName, low: string, high: string): HTMLElement {
  const ramp = applyColormap(
    Float64Array.from({ length: 256 }, (_, i) => i / 255),
    cmap,
  );
  const c = pictureCanvas(rgbPicture(256, 1, ramp), "bar");
  return el("div", { class: "colour-bar" }, el("span", {}, low), c, el("span", {}, high));
}

/** Score curves (deletion, insertion) over the fraction of pixels, as an SVG line plot. */
export function curvesSvg(
  curves: { name: string; values: number[]; colour: string }[],
): SVGElement {
  const W = 260;
  const H = 150;
  const pad = 28;
  const all = curves.flatMap((c) => c.values);
  const lo = Math.min(0, ...all);
  const hi = Math.max(...all, lo + 1e-9);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "curves");
  const add = (tag: string, attrs: Record<string, string>, text?: string) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text) e.textContent = text;
    svg.append(e);
  };
  const x = (i: number, n: number) => pad + ((W - pad - 8) * i) / Math.max(1, n - 1);
  const y = (v: number) => H - pad - ((H - pad - 8) * (v - lo)) / (hi - lo);
  add("line", {
    x1: String(pad),
    y1: String(H - pad),
    x2: String(W - 8),
    y2: String(H - pad),
    class: "axis",
  });
  add("line", { x1: String(pad), y1: "8", x2: String(pad), y2: String(H - pad), class: "axis" });
  add("text", { x: String(pad), y: String(H - 8) }, "0");
  add("text", { x: String(W - 40), y: String(H - 8) }, "all pixels");
  add("text", { x: "2", y: "14" }, hi.toPrecision(2));
  add("text", { x: "2", y: String(H - pad) }, lo.toPrecision(2));
  curves.forEach((c, k) => {
    const pts = c.values.map((v, i) => `${x(i, c.values.length).toFixed(1)},${y(v).toFixed(1)}`);
    add("polyline", { points: pts.join(" "), fill: "none", stroke: c.colour, "stroke-width": "2" });
    add("text", { x: String(W - 90), y: String(20 + 14 * k), style: `fill: ${c.colour}` }, c.name);
  });
  return svg;
}
