/**
 * Colour scales for pictures that are read, not just looked at: the colormap is chosen by the
 * map's sign (diverging for signed maps, zero in the middle; sequential for magnitudes), the range
 * comes from robust percentiles of the map (so an offset or a few outliers do not turn it into a
 * flat wash), and a colour bar shows which value each colour stands for.
 */
import { applyColormap, type ColormapName } from "./colormap.ts";
import { percentile } from "./normalize.ts";
import type { RgbImage } from "./overlay.ts";

/** Values min..max spread over the part [t0, t1] of a colormap (clipped outside). */
export interface ColorScale {
  colormap: ColormapName;
  min: number;
  max: number;
  /** The part of the colormap the range covers (default [0, 1]). */
  span?: readonly [number, number];
  /** True when zero sits in the middle of a diverging colormap. */
  diverging: boolean;
}

/** The colormap position in [0, 1] of a value (clipped to the scale's range; NaN reads as min). */
export function colormapPosition(s: ColorScale, v: number): number {
  const [t0, t1] = s.span ?? [0, 1];
  const width = s.max - s.min;
  const u = width > 0 && !Number.isNaN(v) ? Math.min(1, Math.max(0, (v - s.min) / width)) : 0;
  return t0 + (t1 - t0) * u;
}

/** RGB bytes [n * 3] of the values through the scale. */
export function colorize(values: ArrayLike<number>, s: ColorScale): Uint8Array {
  return applyColormap(
    Float64Array.from(values, (v) => colormapPosition(s, v)),
    s.colormap,
  );
}

/**
 * The scale of a map: diverging ("seismic", symmetric about zero) when any value is negative,
 * else sequential ("viridis"). The range is robust: the `q`-th and (100 - q)-th percentiles of the
 * values (the larger magnitude of the two on both sides of zero for a diverging scale), so values
 * beyond them saturate. A constant map gets a range of width 1 starting at its value.
 */
export function robustScale(
  values: ArrayLike<number>,
  o: { q?: number; sequential?: ColormapName; diverging?: ColormapName } = {},
): ColorScale {
  if (values.length === 0) throw new Error("robustScale: the map has no values");
  const q = o.q ?? 99;
  if (!(q >= 50 && q <= 100))
    throw new Error(`robustScale: the percentile must be in [50, 100], got ${q}`);
  let lowest = Number.POSITIVE_INFINITY;
  let largest = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v))
      throw new Error(`robustScale: the map contains ${v} at ${i}; maps must be finite`);
    lowest = Math.min(lowest, v);
    largest = Math.max(largest, Math.abs(v));
  }
  const lo = percentile(values, 100 - q);
  const hi = percentile(values, q);
  if (lowest < 0) {
    // A map with less than (100 - q)% negatives can have both percentiles at zero.
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || largest;
    return { colormap: o.diverging ?? "seismic", min: -m, max: m, diverging: true };
  }
  return {
    colormap: o.sequential ?? "viridis",
    min: lo,
    max: hi > lo ? hi : lo + 1,
    diverging: false,
  };
}

/** A horizontal colour bar: column i shows the value min + (max - min) i / (width - 1). */
export function colorbar(s: ColorScale, width = 128, height = 10): RgbImage {
  if (!Number.isInteger(width) || width < 2 || !Number.isInteger(height) || height < 1)
    throw new Error(
      `colorbar: width must be an integer >= 2 and height >= 1, got ${width}x${height}`,
    );
  const row = colorize(
    Float64Array.from({ length: width }, (_, i) => s.min + ((s.max - s.min) * i) / (width - 1)),
    s,
  );
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) data.set(row, y * width * 3);
  return { width, height, data };
}

/** A tick label: 2 significant digits, exponent form for very small or large magnitudes. */
export function tickLabel(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  const text = a < 1e-3 || a >= 1e4 ? v.toExponential(1) : String(Number(v.toPrecision(2)));
  return text.replace("-", "−");
}
