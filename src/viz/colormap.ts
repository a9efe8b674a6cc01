/**
 * Colormaps as 256-entry lookup tables (matplotlib's, sampled by a committed script): a value t in
 * [0, 1] picks entry min(255, floor(256 t)), as matplotlib's Colormap.__call__ does for floats.
 */
import { COLORMAP_TABLES } from "./colormap-data.ts";

/**
 * A bundled colormap: matplotlib's viridis, turbo, jet and seismic, and Captum's red-white-green
 * ("RdWhGn"). seismic and red-white-green are diverging, white in the middle (t = 0.5).
 */
export type ColormapName = "viridis" | "turbo" | "jet" | "seismic" | "red-white-green";

/** Every `ColormapName`, for listing and validating choices. */
export const COLORMAPS: readonly ColormapName[] = [
  "viridis",
  "turbo",
  "jet",
  "seismic",
  "red-white-green",
];

const decoded = new Map<string, Uint8Array>();

/** The table of a colormap: 256 x RGB bytes. */
export function colormapTable(name: ColormapName): Uint8Array {
  let t = decoded.get(name);
  if (!t) {
    const hex = COLORMAP_TABLES[name];
    if (!hex)
      throw new Error(
        `colormap: unknown colormap "${name}" (expected one of ${COLORMAPS.join(", ")})`,
      );
    t = Uint8Array.from({ length: hex.length / 2 }, (_, i) =>
      Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16),
    );
    decoded.set(name, t);
  }
  return t;
}

/** RGB bytes [n * 3] for values in [0, 1] (NaN maps like 0; values outside are clipped). */
export function applyColormap(values: ArrayLike<number>, name: ColormapName): Uint8Array {
  const table = colormapTable(name);
  const out = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = Number.isNaN(v) ? 0 : Math.min(1, Math.max(0, v));
    const k = Math.min(255, Math.floor(t * 256)) * 3;
    out[i * 3] = table[k];
    out[i * 3 + 1] = table[k + 1];
    out[i * 3 + 2] = table[k + 2];
  }
  return out;
}
