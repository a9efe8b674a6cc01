/**
 * Colour scales and bars against values worked out by hand: percentiles of maps with a known
 * distribution (numpy's linear interpolation: the q-th percentile of 0..n-1 is q (n - 1) / 100),
 * the colormap entry of a value read straight from the hex tables, and the sign-based choice.
 */
import { describe, expect, test } from "vitest";
import {
  type ColorScale,
  colorbar,
  colorize,
  colormapPosition,
  robustScale,
  tickLabel,
} from "../../src/viz/colorbar.ts";
import { COLORMAP_TABLES } from "../../src/viz/colormap-data.ts";
import { barTicks, crop, figureHtml } from "../../src/viz/report-figures.ts";

/** Entry k of a colormap, decoded from its hex table here (not through colormap.ts). */
function entry(name: string, k: number): number[] {
  const hex = COLORMAP_TABLES[name].slice(6 * k, 6 * k + 6);
  return [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
}
/** matplotlib's lookup of a float t in [0, 1]: entry min(255, floor(256 t)). */
const at = (name: string, t: number) => entry(name, Math.min(255, Math.floor(256 * t)));
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe("robustScale", () => {
  test("a non-negative map gets viridis from its 1st to its 99th percentile", () => {
    // 0..100: the q-th percentile is exactly q.
    expect(robustScale(range(0, 100))).toEqual({
      colormap: "viridis",
      min: 1,
      max: 99,
      diverging: false,
    });
  });

  test("a map with negative values gets seismic, symmetric about zero", () => {
    // -100..100 (201 values): the 1st percentile is v[2] = -98, the 99th v[198] = 98.
    expect(robustScale(range(-100, 100))).toEqual({
      colormap: "seismic",
      min: -98,
      max: 98,
      diverging: true,
    });
    // -10..90 (101 values): percentiles -9 and 89; the larger magnitude sets both ends.
    const s = robustScale(range(-10, 90));
    expect([s.colormap, s.min, s.max]).toEqual(["seismic", -89, 89]);
  });

  test("a few negatives whose percentiles are zero still get a diverging scale up to the maximum", () => {
    // 200 values, one negative and one positive: both percentiles fall on zeros.
    const v = [-2, ...new Array(198).fill(0), 3];
    expect(robustScale(v)).toMatchObject({ colormap: "seismic", min: -3, max: 3, diverging: true });
  });

  test("an offset map (RISE-like scores near 0.45) spans the colormap instead of one colour", () => {
    // 0.400, 0.401, ..., 0.500: percentiles 0.401 and 0.499; 0.45 sits in the middle.
    const v = range(0, 100).map((k) => 0.4 + 0.001 * k);
    const s = robustScale(v);
    expect(s.min).toBeCloseTo(0.401, 12);
    expect(s.max).toBeCloseTo(0.499, 12);
    expect(colormapPosition(s, 0.45)).toBeCloseTo(0.5, 12);
    expect(Array.from(colorize([0.401, 0.45, 0.499], s))).toEqual([
      ...entry("viridis", 0),
      ...at("viridis", 0.5),
      ...entry("viridis", 255),
    ]);
  });

  test("a constant map gets a range of width one; bad maps are refused with the reason", () => {
    expect(robustScale([2, 2, 2])).toMatchObject({ min: 2, max: 3 });
    expect(() => robustScale([])).toThrow("no values");
    expect(() => robustScale([1, Number.NaN])).toThrow("contains NaN at 1");
    expect(() => robustScale([1, 2], { q: 20 })).toThrow("must be in [50, 100], got 20");
  });
});

describe("colorbar", () => {
  test("column i shows the colour of the value min + (max - min) i / (width - 1)", () => {
    const s: ColorScale = { colormap: "viridis", min: -3, max: 5, diverging: false };
    const bar = colorbar(s, 128, 3);
    expect([bar.width, bar.height]).toEqual([128, 3]);
    for (let y = 0; y < 3; y++)
      for (let i = 0; i < 128; i++)
        expect(Array.from(bar.data.subarray((y * 128 + i) * 3, (y * 128 + i) * 3 + 3))).toEqual(
          at("viridis", i / 127),
        );
  });

  test("a diverging bar is white-ish at zero in the middle, and a span uses part of the colormap", () => {
    const div: ColorScale = { colormap: "seismic", min: -2, max: 2, diverging: true };
    const bar = colorbar(div, 129, 1);
    expect(Array.from(bar.data.subarray(64 * 3, 65 * 3))).toEqual(at("seismic", 0.5));
    expect(Array.from(bar.data.subarray(0, 3))).toEqual([0, 0, 0x4d]);
    // LAM_Demo's white-to-red: the upper half of seismic.
    const half: ColorScale = { ...div, min: 0, max: 1, span: [0.5, 1], diverging: false };
    const h = colorbar(half, 65, 1);
    for (let i = 0; i < 65; i++)
      expect(Array.from(h.data.subarray(i * 3, i * 3 + 3))).toEqual(
        at("seismic", 0.5 + 0.5 * (i / 64)),
      );
  });

  test("values outside the scale clip to its ends; bad sizes are refused", () => {
    const s: ColorScale = { colormap: "viridis", min: 0, max: 1, diverging: false };
    expect([colormapPosition(s, -5), colormapPosition(s, 7)]).toEqual([0, 1]);
    expect(() => colorbar(s, 1, 4)).toThrow("width must be an integer >= 2");
  });
});

describe("labels and figures", () => {
  test("tick labels have two significant digits and a true minus sign", () => {
    expect(tickLabel(0.4567)).toBe("0.46");
    expect(tickLabel(-6.31)).toBe("−6.3");
    expect(tickLabel(0)).toBe("0");
    expect(tickLabel(2e-16)).toBe("2.0e−16");
    expect(barTicks({ colormap: "seismic", min: -0.5, max: 0.5, diverging: true })).toEqual([
      "−0.5",
      "0",
      "0.5",
    ]);
    expect(barTicks({ colormap: "viridis", min: 0.41, max: 0.52, diverging: false })).toEqual([
      "0.41",
      "0.52",
    ]);
  });

  test("a figure escapes its title and link and shows the bar's ticks", () => {
    const html = figureHtml({
      title: "a<b",
      src: "x.png",
      width: 10,
      height: 10,
      href: "http://h/?a=1&b=2",
      bar: { scale: { colormap: "viridis", min: 1, max: 2, diverging: false }, src: "bar.png" },
      note: "3 ms",
    });
    expect(html).toContain('<a href="http://h/?a=1&amp;b=2">a&lt;b</a>');
    expect(html).toContain("<span>1</span><span>2</span>");
    expect(html).toContain("<small>3 ms</small>");
  });

  test("crop copies the region and refuses one outside the image", () => {
    // A 3x2 image whose pixel (x, y) is (x, y, 7).
    const img = {
      width: 3,
      height: 2,
      data: Uint8Array.from([0, 0, 7, 1, 0, 7, 2, 0, 7, 0, 1, 7, 1, 1, 7, 2, 1, 7]),
    };
    expect(Array.from(crop(img, 1, 1, 2, 1).data)).toEqual([1, 1, 7, 2, 1, 7]);
    expect(() => crop(img, 2, 0, 2, 1)).toThrow("not inside the 3x2 image");
  });
});
