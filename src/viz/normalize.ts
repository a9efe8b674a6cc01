/**
 * From an attribution map to values in [0, 1] ready for a colormap: channel reduction, sign mode,
 * and the scale, either a percentile of the magnitudes (outlier clipping) or fixed bounds (the
 * "no normalisation" mode users ask Captum for, #1103). An all-zero map renders as all zeros (or
 * the neutral 0.5 for diverging "all"), never NaN.
 */

/**
 * Which part of a signed map to show: positive, negative, absolute value, or all (diverging, 0.5 =
 * zero).
 */
export type SignMode = "positive" | "negative" | "absolute" | "all";
/** How channels of a map [C, H, W] become one value per pixel. */
export type ChannelReduction = "sum" | "abs-sum" | "max-abs" | "mean";

/** Reduces a map [C, H, W] (flat) to [H, W]. */
export function reduceChannels(
  map: ArrayLike<number>,
  channels: number,
  how: ChannelReduction = "sum",
): Float64Array {
  const hw = map.length / channels;
  if (!Number.isInteger(hw))
    throw new Error(`reduceChannels: ${map.length} values are not ${channels} channels`);
  const out = new Float64Array(hw);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < hw; p++) {
      const v = map[c * hw + p];
      if (how === "sum" || how === "mean") out[p] += v;
      else if (how === "abs-sum") out[p] += Math.abs(v);
      else out[p] = Math.max(out[p], Math.abs(v));
    }
  }
  if (how === "mean") for (let p = 0; p < hw; p++) out[p] /= channels;
  return out;
}

/** numpy.percentile (linear interpolation) of the values, q in [0, 100]. */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile: q must be in [0, 100], got ${q}`);
  const v = Float64Array.from(values).sort();
  if (v.length === 0) throw new Error("percentile: no values");
  const pos = (q / 100) * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(v.length - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/** How a map is scaled into [0, 1]: sign mode, and either a clipping percentile or a fixed vmax. */
export interface ScaleOptions {
  sign?: SignMode;
  /** Magnitudes at or above this percentile saturate (default 99; 100 = the maximum). */
  clipPercentile?: number;
  /** Fixed scale: this magnitude maps to the end of the colormap (overrides the percentile). */
  vmax?: number;
}

/**
 * Values in [0, 1]: for positive/negative/absolute, 0 is "no attribution" and 1 saturation; for
 * "all", 0.5 is zero, 0 the most negative and 1 the most positive (for diverging colormaps).
 */
export function scaleMap(
  map: ArrayLike<number>,
  o: ScaleOptions = {},
): { values: Float32Array; scale: number } {
  const sign = o.sign ?? "absolute";
  const mag = Float64Array.from(map, (v) => {
    if (!Number.isFinite(v))
      throw new Error(`scaleMap: the map contains ${v}; attribution maps must be finite`);
    return sign === "positive"
      ? Math.max(v, 0)
      : sign === "negative"
        ? Math.max(-v, 0)
        : Math.abs(v);
  });
  if (!["positive", "negative", "absolute", "all"].includes(sign)) {
    throw new Error(`scaleMap: sign must be positive, negative, absolute or all, got "${sign}"`);
  }
  let scale: number;
  if (o.vmax !== undefined) {
    if (!(o.vmax > 0)) throw new Error(`scaleMap: vmax must be positive, got ${o.vmax}`);
    scale = o.vmax;
  } else scale = percentile(mag, o.clipPercentile ?? 99);
  const values = new Float32Array(mag.length);
  for (let i = 0; i < mag.length; i++) {
    const t = scale > 0 ? Math.min(1, mag[i] / scale) : 0;
    values[i] = sign === "all" ? 0.5 + 0.5 * Math.sign(map[i]) * t : t;
  }
  return { values, scale };
}
