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
  type LamImages,
  lam,
  lamImagesFromHr,
  lamPanels,
  type RgbImage,
  rgbToImageData,
  srOutputProblem,
  tensor,
  tidy,
  toRgb,
  withBackend,
} from "../../src/index.ts";
import type { LamSettings, Picture } from "./protocol.ts";
import type { SrNet } from "./sr-models.ts";

export type LamInput = LamImages;

/**
 * Prepares the LR image as the CLI does (lamImagesFromHr); `crop` > 0 keeps only the centred crop
 * of the HR image. The preparation runs on `cpu` (it reads values back synchronously); the LR
 * tensor is made on the current backend, where LAM runs.
 */
export function lamInput(
  img: ImageDataLike,
  scale: number,
  crop: number,
  asLr: boolean,
  cpu: Backend,
): LamInput {
  const prepared = withBackend(cpu, () => {
    const full = fromImageData(img);
    try {
      if (asLr)
        return {
          lrValues: Float32Array.from(full.dataSync()),
          hr: null,
          size: [img.height, img.width],
        };
      // The LR tensor is remade on the current backend below.
      const { lr, lrValues, hr } = lamImagesFromHr(full, scale, crop);
      const size = [lr.shape[2], lr.shape[3]];
      lr.dispose();
      return { lrValues, hr, size };
    } finally {
      full.dispose();
    }
  });
  const [h, w] = prepared.size;
  return {
    lr: tensor(prepared.lrValues, [1, 3, h, w]),
    lrValues: prepared.lrValues,
    hr: prepared.hr,
  };
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
  const problem = srOutputProblem(shape, h, w, scale);
  if (problem?.kind === "not-upscaled")
    throw new Error(
      `${net.name} is not an image-to-image super-resolution model: it turns the [1, 3, ${h}, ${w}] LR image into [${shape.join(", ")}], not a larger RGB image. LAM needs a model whose output is the input upscaled; classifiers belong in the classifier mode.`,
    );
  if (problem?.kind === "wrong-scale")
    throw new Error(
      `${net.name} turns the ${w}x${h} LR image into ${shape[3]}x${shape[2]}, not x${scale} (${problem.expected[1]}x${problem.expected[0]}): set the scale to ${problem.observedScale}`,
    );
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
