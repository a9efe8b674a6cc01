/**
 * The demo report's pictures and links: explorer URLs carry the parameters the explorer reads, the
 * sign mode picks the part of a map shown, a map over an image has the colour its scale gives, and
 * the HR crop stays inside the photo.
 */
import { describe, expect, test } from "vitest";
import {
  explorerClassifyUrl,
  explorerLamUrl,
  lamMapScale,
  mapOverImage,
  signedPart,
  windowNeighbourhood,
} from "../../src/cli/report-sections.ts";
import { COLORMAP_TABLES } from "../../src/viz/colormap-data.ts";
import { formatSeconds } from "../../src/viz/report-figures.ts";
import { parseState } from "../../web/app/protocol.ts";

function entry(name: string, k: number): number[] {
  const hex = COLORMAP_TABLES[name].slice(6 * k, 6 * k + 6);
  return [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
}

describe("explorer links", () => {
  test("the LAM view: model, photo, window x,y,size and fold", () => {
    const u = new URL(explorerLamUrl("esrgan-slim", "astronaut", { x: 40, y: 44, size: 16 }, 50));
    expect(`${u.origin}${u.pathname}`).toBe("http://127.0.0.1:8321/");
    expect(Object.fromEntries(u.searchParams)).toEqual({
      model: "esrgan-slim",
      image: "astronaut",
      window: "40,44,16",
      fold: "50",
    });
  });

  test("the classifier view: mode, model, image, method and target", () => {
    const u = new URL(explorerClassifyUrl("test-9", "integrated-gradients", 7));
    expect(Object.fromEntries(u.searchParams)).toEqual({
      mode: "classify",
      model: "fashion-cnn",
      image: "test-9",
      method: "integrated-gradients",
      target: "7",
    });
  });
});

test("the explorer's own URL parser reads the links as the report's views", () => {
  const lam = parseState(
    new URL(explorerLamUrl("esrgan-slim", "astronaut", { x: 40, y: 44, size: 16 }, 50)).search,
  );
  expect(lam).toMatchObject({
    mode: "lam",
    model: "esrgan-slim",
    image: "astronaut",
    scale: 4,
    crop: 0,
    window: { x: 40, y: 44, size: 16 },
    fold: 50,
  });
  const cls = parseState(new URL(explorerClassifyUrl("test-0", "occlusion", 9)).search);
  expect(cls).toMatchObject({
    mode: "classify",
    model: "fashion-cnn",
    image: "test-0",
    method: "occlusion",
    target: 9,
  });
});

describe("maps over images", () => {
  test("the sign mode picks the map, its positive or negative part, or its magnitude", () => {
    const m = [-2, 0, 3];
    expect(Array.from(signedPart(m, "all"))).toEqual([-2, 0, 3]);
    expect(Array.from(signedPart(m, "positive"))).toEqual([0, 0, 3]);
    expect(Array.from(signedPart(m, "negative"))).toEqual([2, 0, 0]);
    expect(Array.from(signedPart(m, "absolute"))).toEqual([2, 0, 3]);
  });

  test("a signed map is diverging, a magnitude sequential; colours blend 60/40 over the image", () => {
    // A 2x2 map over a black image: the zero pixel (index 1) gets seismic's middle, times 0.6.
    const black = new Float32Array(4);
    const shape = { mapChannels: 1, channels: 1, height: 2, width: 2 };
    const signed = mapOverImage([-1, 0, 1, 0.5], black, shape, "all");
    expect(signed.scale.colormap).toBe("seismic");
    expect(signed.scale.diverging).toBe(true);
    expect(Array.from(signed.picture.data.subarray(3, 6))).toEqual(
      entry("seismic", 128).map((c) => Math.round(0.6 * c)),
    );
    const magnitude = mapOverImage([-1, 0, 1, 0.5], black, shape, "absolute");
    expect(magnitude.scale.colormap).toBe("viridis");
    expect(magnitude.scale.diverging).toBe(false);
    // Channels are summed first: two channels of 1 and -1 cancel to zero.
    const two = mapOverImage(
      [1, 2, 3, 4, -1, -2, -3, -4],
      black,
      { ...shape, mapChannels: 2 },
      "all",
    );
    expect(two.scale.diverging).toBe(false);
  });

  test("the LAM map's scale starts at zero in LAM_Demo's white-to-red half of seismic", () => {
    const s = lamMapScale([0.1, 0.2, 0.3, 1]);
    expect([s.min, s.colormap, s.span]).toEqual([0, "seismic", [0.5, 1]]);
  });
});

describe("layout helpers", () => {
  test("the crop around a window is centred on it and moved inside the photo at its edges", () => {
    expect(windowNeighbourhood({ x: 40, y: 44, size: 16 }, 32, 128, 128)).toEqual({
      x: 32,
      y: 36,
      size: 32,
    });
    expect(windowNeighbourhood({ x: 120, y: 0, size: 8 }, 16, 128, 128)).toEqual({
      x: 112,
      y: 0,
      size: 16,
    });
  });

  test("durations read in milliseconds under a second", () => {
    expect(formatSeconds(0.0042)).toBe("4.2 ms");
    expect(formatSeconds(0.25)).toBe("250 ms");
    expect(formatSeconds(1.234)).toBe("1.23 s");
    expect(() => formatSeconds(Number.NaN)).toThrow("expected a duration >= 0");
  });
});
