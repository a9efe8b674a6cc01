import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { encodePng, readImage, writePng } from "../../src/viz/image-io-node.ts";
import {
  applyColormap,
  blend,
  decodeNpy,
  encodeNpy,
  galleryHtml,
  galleryStrip,
  heatmap,
  percentile,
  reduceChannels,
  scaleMap,
  toRgb,
} from "../../src/viz/index.ts";

describe("colormaps", () => {
  test("entries match matplotlib 3.6 at 0, 0.5 and 1 (values printed by matplotlib itself)", () => {
    const at = (name: Parameters<typeof applyColormap>[1]) =>
      Array.from(applyColormap([0, 0.5, 1], name));
    expect(at("viridis")).toEqual([68, 1, 84, 33, 145, 140, 253, 231, 37]);
    expect(at("jet")).toEqual([0, 0, 128, 125, 255, 122, 128, 0, 0]);
    expect(at("seismic")).toEqual([0, 0, 77, 255, 253, 253, 128, 0, 0]);
    expect(at("red-white-green")).toEqual([255, 0, 0, 254, 255, 254, 0, 128, 0]);
    // turbo starts dark blue-violet and ends dark red.
    const t = at("turbo");
    expect(t.slice(0, 3)).toEqual([48, 18, 59]);
    expect(t.slice(6)).toEqual([122, 4, 3]);
    // Out-of-range and NaN values clip instead of failing.
    expect(Array.from(applyColormap([-3, Number.NaN, 7], "viridis"))).toEqual([
      68, 1, 84, 68, 1, 84, 253, 231, 37,
    ]);
    expect(() => applyColormap([0], "hot" as never)).toThrow(/unknown colormap "hot"/);
  });
});

describe("scaling and sign modes", () => {
  const map = [-4, -1, 0, 2, 8];
  test("percentile is numpy's linear interpolation", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([4, 1, 3, 2], 100)).toBe(4);
    expect(
      percentile(
        Array.from({ length: 101 }, (_, i) => i),
        99,
      ),
    ).toBeCloseTo(99, 12);
  });

  test("positive, negative, absolute and all, with fixed scale", () => {
    const v = (o: Parameters<typeof scaleMap>[1]) => Array.from(scaleMap(map, o).values);
    expect(v({ sign: "absolute", clipPercentile: 100 })).toEqual([0.5, 0.125, 0, 0.25, 1]);
    expect(v({ sign: "positive", clipPercentile: 100 })).toEqual([0, 0, 0, 0.25, 1]);
    expect(v({ sign: "negative", clipPercentile: 100 })).toEqual([1, 0.25, 0, 0, 0]);
    expect(v({ sign: "all", clipPercentile: 100 })).toEqual([0.25, 0.4375, 0.5, 0.625, 1]);
    // Fixed scale: vmax 4 saturates 8, whatever the percentile says.
    expect(v({ sign: "absolute", vmax: 4 })).toEqual([1, 0.25, 0, 0.5, 1]);
    // Percentile clipping: the 75th percentile of |map| = [0,1,2,4,8] is 4.
    expect(scaleMap(map, { clipPercentile: 75 }).scale).toBe(4);
  });

  test("an all-zero map renders without error (zeros, or the neutral middle for 'all')", () => {
    const z = new Float32Array(6);
    expect(Array.from(scaleMap(z).values)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(scaleMap(z, { sign: "all" }).values)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    const h = heatmap(z, 1, 2, 3, { sign: "all" });
    expect(Array.from(h.data.subarray(0, 3))).toEqual([255, 253, 253]);
    expect(() => scaleMap([1, Number.NaN])).toThrow(/contains NaN/);
  });

  test("channel reductions", () => {
    const m = [1, -2, 3, -4, 5, -6];
    expect(Array.from(reduceChannels(m, 2, "sum"))).toEqual([-3, 3, -3]);
    expect(Array.from(reduceChannels(m, 2, "abs-sum"))).toEqual([5, 7, 9]);
    expect(Array.from(reduceChannels(m, 2, "max-abs"))).toEqual([4, 5, 6]);
    expect(Array.from(reduceChannels(m, 2, "mean"))).toEqual([-1.5, 1.5, -1.5]);
  });
});

describe("overlays, galleries and files", () => {
  test("blend is (1 - alpha) image + alpha heat; grey images are replicated to RGB", () => {
    const img = toRgb([0, 1], 1, 1, 2);
    expect(Array.from(img.data)).toEqual([0, 0, 0, 255, 255, 255]);
    const heat = { width: 2, height: 1, data: Uint8Array.from([100, 200, 50, 0, 0, 0]) };
    expect(Array.from(blend(img, heat, 0.25).data)).toEqual([25, 50, 13, 191, 191, 191]);
    expect(() => blend(img, { width: 1, height: 1, data: new Uint8Array(3) })).toThrow(
      /2 x 1 but the heatmap is 1 x 1/,
    );
  });

  test("gallery strip places panels side by side with white gaps; the HTML inlines each PNG", () => {
    const a = { width: 2, height: 2, data: new Uint8Array(12) };
    const b = { width: 1, height: 1, data: Uint8Array.from([9, 9, 9]) };
    const strip = galleryStrip(
      [
        { title: "a", image: a },
        { title: "b", image: b },
      ],
      1,
    );
    expect([strip.width, strip.height]).toEqual([4, 2]);
    expect(Array.from(strip.data.subarray(0, 12))).toEqual([
      0, 0, 0, 0, 0, 0, 255, 255, 255, 9, 9, 9,
    ]);
    expect(Array.from(strip.data.subarray(21, 24))).toEqual([255, 255, 255]);
    const html = galleryHtml("t <x>", [{ title: "IG & co", png: encodePng(b), note: "delta 0.1" }]);
    // The whole PNG, as Node's own base64 encoder writes it.
    expect(html).toContain(
      `data:image/png;base64,${Buffer.from(encodePng(b)).toString("base64")}"`,
    );
    expect(html).toContain("IG &amp; co");
    expect(html).toContain("t &lt;x&gt;");
  });

  test(".npy v1.0: numpy's exact header bytes, 64-byte aligned, round trip", () => {
    const v = Float32Array.from({ length: 12 }, (_, i) => i - 5.5);
    const bytes = encodeNpy(v, [1, 3, 2, 2]);
    // As numpy 1.24 writes it (np.save of a (1, 3, 2, 2) float32 array): 128-byte preamble.
    const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 2, 2), }${" ".repeat(52)}\n`;
    expect(Array.from(bytes.subarray(0, 10))).toEqual([0x93, 78, 85, 77, 80, 89, 1, 0, 118, 0]);
    expect(String.fromCharCode(...bytes.subarray(10, 128))).toBe(header);
    expect(bytes.length).toBe(128 + 48);
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([1, 3, 2, 2]);
    expect(Array.from(back.values)).toEqual(Array.from(v));
    // A 1-D shape keeps Python's trailing comma: (5,).
    const one = "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }";
    const preamble = String.fromCharCode(...encodeNpy(new Float32Array(5), [5]).subarray(10, 128));
    expect(preamble).toBe(`${one}${" ".repeat(117 - one.length)}\n`);
  });

  test("PNG write and read back, RGB and grey (PIL's L = (299 R + 587 G + 114 B) / 1000)", () => {
    const dir = mkdtempSync(join(tmpdir(), "salient-viz-"));
    const path = join(dir, "a.png");
    const img = { width: 2, height: 1, data: Uint8Array.from([255, 0, 0, 10, 20, 30]) };
    writePng(path, img);
    expect(readFileSync(path).subarray(1, 4).toString()).toBe("PNG");
    const rgb = readImage(path);
    expect([rgb.channels, rgb.height, rgb.width]).toEqual([3, 1, 2]);
    expect(Array.from(rgb.data, (v) => Math.round(v * 255))).toEqual([255, 10, 0, 20, 0, 30]);
    const grey = readImage(path, 1);
    expect(Array.from(grey.data, (v) => Math.round(v * 255))).toEqual([76, 18]);
    expect(() => readImage(join(dir, "missing.png"))).toThrow(/cannot read image/);
    expect(() => readImage(new URL(import.meta.url).pathname)).toThrow(/neither a PNG nor a JPEG/);
  });
});
