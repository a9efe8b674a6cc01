/** The scatter plots' frame: padded ranges, the data-to-pixel scales and the SVG opening. */
import { describe, expect, test } from "vitest";
import { paddedRange, plotScales, svgOpening } from "../../src/viz/plot-frame.ts";

describe("plot frame", () => {
  test("paddedRange widens [min, max] by the fraction of its span, and a flat range by 1", () => {
    // min 2, max 12, span 10: 10% of it on each side.
    expect(paddedRange([5, 2, 12], 0.1)).toEqual([1, 13]);
    expect(paddedRange([3, 3], 0.1)).toEqual([2, 4]);
  });

  test("plotScales maps the range's ends onto the margins, y pointing up", () => {
    const m = { l: 10, r: 20, t: 5, b: 15 };
    const { sx, sy } = plotScales(100, 60, m, [0, 4], [-1, 1]);
    expect(sx(0)).toBe(10);
    expect(sx(4)).toBe(80); // 100 - r
    expect(sx(1)).toBe(10 + 70 / 4);
    expect(sy(-1)).toBe(45); // 60 - b
    expect(sy(1)).toBe(5); // t
    expect(sy(0)).toBe(25);
  });

  test("svgOpening sizes the root and background and escapes the title", () => {
    const [root, background, title] = svgOpening(300, 200, "a<b", 150);
    expect(root).toContain('width="300" height="200"');
    expect(background).toBe('<rect width="300" height="200" fill="white"/>');
    expect(title).toContain('x="150"');
    expect(title).toContain("a&lt;b");
  });
});
