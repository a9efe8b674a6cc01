/** Visualisation (platform neutral): colormaps, scaling, overlays, galleries, .npy encoding. */

export { base64 } from "../base64.ts";
export { applyColormap, COLORMAPS, type ColormapName, colormapTable } from "./colormap.ts";
export { galleryHtml, galleryStrip, type Panel } from "./gallery.ts";
export {
  type ChannelReduction,
  percentile,
  reduceChannels,
  type ScaleOptions,
  type SignMode,
  scaleMap,
} from "./normalize.ts";
export { decodeNpy, encodeNpy } from "./npy.ts";
export { blend, enlarge, type HeatmapOptions, heatmap, type RgbImage, toRgb } from "./overlay.ts";
