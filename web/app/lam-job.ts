/**
 * LAM in the worker, step for step as `salient lam` does it: the HR image cropped to a multiple of
 * the scale and downscaled with antialiased bicubic to 8-bit levels (or an LR image used as it
 * is), the model checked to be an upscaler, lam() over the path, LAM_Demo's panels, and the Gini
 * and diffusion index of the normalised map.
 */
import {
  type Backend,
  clamp,
  fromImageData,
  gini,
  type ImageDataLike,
  keep,
  LAM_DEFAULTS,
  lam,
  lamPanels,
  type RgbImage,
  resize,
  rgbToImageData,
  slice,
  type Tensor,
  tensor,
  tidy,
  toRgb,
  withBackend,
} from "../../src/index.ts";
import type { LamSettings, Picture } from "./protocol.ts";
import type { SrNet } from "./sr-models.ts";

export interface LamInput {
  /** [1, 3, h, w] in [0, 1]. */
  lr: Tensor;
  lrValues: Float32Array;
  /** The HR image (null when the LR image was given as it is). */
  hr: RgbImage | null;
}

/**
 * Prepares the LR image as the CLI does; `crop` > 0 keeps only the centred crop of the HR image.
 * The preparation runs on `cpu` (it reads values back synchronously); the LR tensor is made on
 * the current backend, where LAM runs.
 */
export function lamInput(
  img: ImageDataLike,
  scale: number,
  crop: number,
  asLr: boolean,
  cpu: Backend,
): LamInput {
  const prepared = withBackend(cpu, () => prepare(img, scale, crop, asLr));
  const [h, w] = prepared.size;
  return {
    lr: tensor(prepared.lrValues, [1, 3, h, w]),
    lrValues: prepared.lrValues,
    hr: prepared.hr,
  };
}

function prepare(
  img: ImageDataLike,
  scale: number,
  crop: number,
  asLr: boolean,
): { lrValues: Float32Array; hr: RgbImage | null; size: [number, number] } {
  const full = fromImageData(img);
  if (asLr) {
    const lrValues = Float32Array.from(full.dataSync());
    full.dispose();
    return { lrValues, hr: null, size: [img.height, img.width] };
  }
  const side = (n: number) => (crop > 0 ? Math.min(crop, n) : n);
  const top = Math.floor((img.height - side(img.height)) / 2);
  const left = Math.floor((img.width - side(img.width)) / 2);
  const h = Math.floor(side(img.height) / scale);
  const w = Math.floor(side(img.width) / scale);
  if (h < 2 || w < 2) {
    full.dispose();
    throw new Error(`the ${img.width}x${img.height} image is too small for x${scale} LAM`);
  }
  return tidy(() => {
    const hr = slice(full, [0, 0, top, left], [1, 3, h * scale, w * scale]);
    const down = resize(hr, [h, w], { mode: "antialias-bicubic" }).dataSync();
    const lrValues = Float32Array.from(
      down,
      (v) => Math.round(255 * Math.min(1, Math.max(0, v))) / 255,
    );
    full.dispose();
    return {
      hr: toRgb(hr.dataSync(), 3, h * scale, w * scale),
      lrValues,
      size: [h, w] as [number, number],
    };
  });
}

export function picture(img: RgbImage): Picture {
  const d = rgbToImageData(img);
  return { width: d.width, height: d.height, data: new Uint8ClampedArray(d.data) };
}

/**
 * Runs the model once and checks that it upscales an RGB image by `scale`; returns its output as
 * RGB bytes. The errors say what the model did instead, for the page to show.
 */
export async function srOutput(net: SrNet, input: LamInput, scale: number): Promise<RgbImage> {
  const [, , h, w] = input.lr.shape;
  let shape: number[];
  let values: Float32Array;
  try {
    const out = tidy(() => {
      const y = net.run(input.lr);
      return keep(y.rank === 4 ? clamp(y, 0, 1) : y);
    });
    shape = [...out.shape];
    values = Float32Array.from(await out.data());
    out.dispose();
  } catch (e) {
    throw new Error(
      `${net.name} is not an image-to-image super-resolution model for this image: it fails on the [1, 3, ${h}, ${w}] LR image (${(e as Error).message}). LAM needs a model that takes an RGB image and returns it upscaled; classifiers belong in the classifier mode.`,
    );
  }
  if (shape.length !== 4 || shape[1] !== 3 || !(shape[2] > h && shape[3] > w)) {
    throw new Error(
      `${net.name} is not an image-to-image super-resolution model: it turns the [1, 3, ${h}, ${w}] LR image into [${shape.join(", ")}], not a larger RGB image. LAM needs a model whose output is the input upscaled; classifiers belong in the classifier mode.`,
    );
  }
  if (shape[2] !== h * scale || shape[3] !== w * scale) {
    throw new Error(
      `${net.name} turns the ${w}x${h} LR image into ${shape[3]}x${shape[2]}, not x${scale} (${w * scale}x${h * scale}): set the scale to ${shape[2] / h}`,
    );
  }
  return toRgb(values, 3, shape[2], shape[3]);
}

export interface LamOutcome {
  panels: { title: string; image: Picture }[];
  gini: number;
  diffusionIndex: number;
  delta: number;
  seconds: number;
}

export async function runLamJob(
  net: SrNet,
  input: LamInput,
  sr: RgbImage,
  scale: number,
  s: LamSettings,
  onProgress: (done: number, total: number) => void,
  cpu: Backend,
): Promise<LamOutcome> {
  const [, , h, w] = input.lr.shape;
  const t0 = performance.now();
  const r = await lam(net.run, input.lr, {
    window: s.window,
    fold: s.fold ?? LAM_DEFAULTS.fold,
    sigma: s.sigma,
    l: s.l,
    batch: s.batch,
    path: s.path,
    onProgress,
  });
  const map = Float32Array.from(await r.map.data());
  r.map.dispose();
  const seconds = (performance.now() - t0) / 1000;
  // The pictures read values back synchronously: drawn on the CPU.
  const panels = withBackend(cpu, () =>
    lamPanels({
      hr: input.hr ?? sr,
      lr: input.lrValues,
      map,
      height: h,
      width: w,
      scale,
      window: s.window,
    }),
  );
  const g = gini(panels.absNorm);
  return {
    panels: panels.panels.map((p) => ({ title: p.title, image: picture(p.image) })),
    gini: g,
    diffusionIndex: (1 - g) * 100,
    delta: r.delta,
    seconds,
  };
}
