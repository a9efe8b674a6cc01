/**
 * The pictures of `salient demo`'s report: LAM panels large enough to compare networks (the photo
 * with the window, the HR crop around it, the map on a colour bar, the KDE view), classifier maps
 * over their image with a colour bar each, and links that open the same view in the explorer.
 */
import type { LamWindow } from "../attribution/lam/window.ts";
import { base64 } from "../base64.ts";
import { type ColorScale, colorbar, colorize, robustScale } from "../viz/colorbar.ts";
import { encodePng } from "../viz/image-io-node.ts";
import { drawWindow, lamPanels } from "../viz/lam-panels.ts";
import { reduceChannels, type SignMode } from "../viz/normalize.ts";
import { blend, enlarge, type RgbImage, toRgb } from "../viz/overlay.ts";
import { crop, figureHtml, type ReportFigure } from "../viz/report-figures.ts";

/** Where `salient app` serves the explorer by default. */
export const EXPLORER_URL = "http://127.0.0.1:8321/";

/** The explorer's LAM view of a bundled model and photo, window in SR pixels. */
export function explorerLamUrl(model: string, photo: string, w: LamWindow, fold: number): string {
  return `${EXPLORER_URL}?model=${encodeURIComponent(model)}&image=${encodeURIComponent(photo)}&window=${w.x},${w.y},${w.size}&fold=${fold}`;
}

/** The explorer's classifier view of the bundled CNN on a shipped Fashion-MNIST image. */
export function explorerClassifyUrl(image: string, method: string, target: number): string {
  return `${EXPLORER_URL}?mode=classify&model=fashion-cnn&image=${encodeURIComponent(image)}&method=${encodeURIComponent(method)}&target=${target}`;
}

/** A colour bar as a data: URL, as wide as its figure. */
function barFor(scale: ColorScale, width: number): ReportFigure["bar"] {
  return { scale, src: `data:image/png;base64,${base64(encodePng(colorbar(scale, width, 10)))}` };
}

/** The part of a map a sign mode shows: the map, its positive or negative part, or |map|. */
export function signedPart(values: ArrayLike<number>, sign: SignMode): Float64Array {
  return Float64Array.from(values, (v) =>
    sign === "all"
      ? v
      : sign === "positive"
        ? Math.max(v, 0)
        : sign === "negative"
          ? Math.max(-v, 0)
          : Math.abs(v),
  );
}

/**
 * A map [C, H, W] (channels summed, the sign mode applied) coloured on its robust scale and
 * blended over the image [C, H, W] in [0, 1]: `heat` of the colour, 1 - heat of the image.
 */
export function mapOverImage(
  map: ArrayLike<number>,
  image: ArrayLike<number>,
  shape: { mapChannels: number; channels: number; height: number; width: number },
  sign: SignMode,
  heat = 0.6,
): { picture: RgbImage; scale: ColorScale } {
  const { height: h, width: w } = shape;
  const shown = signedPart(reduceChannels(map, shape.mapChannels, "sum"), sign);
  if (shown.length !== h * w)
    throw new Error(`mapOverImage: the map has ${shown.length} pixels, the image ${h}x${w}`);
  const scale = robustScale(shown);
  const colours: RgbImage = { width: w, height: h, data: colorize(shown, scale) };
  return { picture: blend(toRgb(image, shape.channels, h, w), colours, heat), scale };
}

/** Writes a picture next to the page and returns its figure. */
export function pictureFigure(
  write: (file: string, data: Uint8Array) => void,
  file: string,
  picture: RgbImage,
  f: Omit<ReportFigure, "src" | "width" | "height" | "bar"> & { scale?: ColorScale },
): ReportFigure {
  write(file, encodePng(picture));
  const { scale, ...rest } = f;
  return {
    ...rest,
    src: file,
    width: picture.width,
    height: picture.height,
    bar: scale ? barFor(scale, picture.width) : undefined,
  };
}

/** The LAM map's colours: LAM_Demo's white-to-red upper half of seismic, robustly scaled. */
export function lamMapScale(absNorm: ArrayLike<number>): ColorScale {
  // The map is a normalised magnitude: its scale starts at zero, not at the 1st percentile.
  return { ...robustScale(absNorm), min: 0, colormap: "seismic", span: [0.5, 1] };
}

/** A square of side `side` around the window, moved inside the image where it would stick out. */
export function windowNeighbourhood(w: LamWindow, side: number, width: number, height: number) {
  const s = Math.min(side, width, height);
  const at = (c: number, n: number) => Math.min(Math.max(0, c + w.size / 2 - s / 2), n - s);
  return { x: Math.round(at(w.x, width)), y: Math.round(at(w.y, height)), size: s };
}

/**
 * LAM's four figures for one network, each 256 pixels wide: the photo with the window, the HR
 * crop around the window, the |sum over channels| map on its colour bar, and the KDE view blended
 * with the upsampled LR image (LAM_Demo's).
 */
export function lamFigures(
  write: (file: string, data: Uint8Array) => void,
  name: string,
  input: {
    hr: RgbImage;
    lr: Float32Array;
    map: Float32Array;
    height: number;
    width: number;
    scale: number;
    window: LamWindow;
  },
): ReportFigure[] {
  const p = lamPanels(input);
  const [withWindow, , , kde] = p.panels;
  const side = 256;
  const hrZoom = Math.max(1, Math.round(side / input.hr.width));
  const n = windowNeighbourhood(
    input.window,
    2 * input.window.size,
    input.hr.width,
    input.hr.height,
  );
  // The crop is enlarged before the window is drawn, so its outline stays thin.
  const cropZoom = Math.max(1, Math.round(side / n.size));
  const w = input.window;
  const near = drawWindow(enlarge(crop(input.hr, n.x, n.y, n.size, n.size), cropZoom), {
    x: (w.x - n.x) * cropZoom,
    y: (w.y - n.y) * cropZoom,
    size: w.size * cropZoom,
  });
  const scale = lamMapScale(p.absNorm);
  const map: RgbImage = {
    width: input.width,
    height: input.height,
    data: colorize(p.absNorm, scale),
  };
  const mapZoom = Math.max(1, Math.round(side / input.width));
  return [
    pictureFigure(write, `lam-${name}-hr.png`, enlarge(withWindow.image, hrZoom), {
      title: "HR photo, red window",
    }),
    pictureFigure(write, `lam-${name}-crop.png`, near, {
      title: `HR crop around the window (${n.size}x${n.size})`,
    }),
    pictureFigure(write, `lam-${name}-map.png`, enlarge(map, mapZoom), {
      title: `LAM map on the ${input.width}x${input.height} LR image`,
      note: "|sum over channels| / max",
      scale,
    }),
    pictureFigure(write, `lam-${name}-kde.png`, enlarge(kde.image, hrZoom), {
      title: "KDE view over the LR image",
    }),
  ];
}

export { figureHtml };
