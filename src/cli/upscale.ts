/**
 * `salient upscale`: an SR network on an RGB image, tile by tile so memory stays bounded on large
 * images. Each tile of `tile` LR pixels is run with `margin` extra LR pixels of real image context
 * on every side (clipped at the image border), and only its interior is kept. Where the network's
 * receptive field reaches no further than the margin, every kept pixel sees exactly the pixels it
 * sees in the whole image, so the stitched result equals the untiled one (up to float rounding).
 * A wider receptive field makes pixels near tile seams differ; the difference comes only from
 * context beyond the margin, so a larger margin bounds it (and for convolutional networks it
 * decays with the weights' reach).
 */
import { resolve } from "node:path";
import { type Tiled, upscaleTiled } from "../models/sr/tiled.ts";
import { tensor } from "../ops/creation.ts";
import { encodePng, readImage } from "../viz/image-io-node.ts";
import { toRgb } from "../viz/overlay.ts";
import { type CommandSpec, numberFlag, parseFlags, UsageError } from "./args.ts";
import { outPrefix, writeOutputs } from "./output-set.ts";
import { BUNDLED_PHOTOS, imageArg } from "./package-files.ts";
import { progressBar } from "./progress.ts";
import { resolveSrModel, SR_MODEL_FLAGS } from "./sr-models.ts";

export const UPSCALE_SPEC: CommandSpec = {
  name: "upscale",
  summary: "an SR model on an RGB image, tile by tile so memory stays bounded",
  synopsis: "--model M --image in.png --out PREFIX [--scale N] [--tile 64] [--margin 8]",
  flags: {
    ...SR_MODEL_FLAGS,
    image: {
      value: "in.png",
      required: true,
      help: `the RGB image (PNG or JPEG), or a bundled photo (${BUNDLED_PHOTOS.join(", ")})`,
    },
    out: {
      value: "PREFIX",
      required: true,
      help: "writes PREFIX.png (--out out.png is accepted and means the same); never the input",
    },
    scale: {
      value: "N",
      defaultText: "2 for fsrcnn-x2 and default-model, else 4",
      help: "SR scale",
    },
    tile: { value: "N", default: "64", help: "tile side in LR pixels" },
    margin: {
      value: "N",
      default: "8",
      help: "LR pixels of context around each tile, computed and dropped",
    },
  },
  notes: "prints a JSON summary line last, with the file written.",
};

export interface UpscaleSummary {
  model: string;
  scale: number;
  parameters: number;
  input: [number, number];
  output: [number, number];
  tile: number;
  margin: number;
  tiles: number;
  ms: number;
  out: string;
  files: string[];
}

export async function runUpscale(
  args: string[],
  log: (line: string) => void,
): Promise<UpscaleSummary> {
  const v = parseFlags(UPSCALE_SPEC, args);
  const x2 = v.model === "fsrcnn-x2" || v.model === "default-model";
  const range = numberFlag("range", v.range, { min: 0, minExclusive: true }, 1);
  const scale = numberFlag("scale", v.scale, { integer: true, min: 2, max: 16 }, x2 ? 2 : 4);
  const tile = numberFlag("tile", v.tile, { integer: true, min: 1, max: 4096 }, 64);
  const margin = numberFlag("margin", v.margin, { integer: true, min: 0, max: 1024 }, 8);
  const out = `${outPrefix(v.out!, [".png"])}.png`;
  if (resolve(out) === resolve(imageArg(v.image!)))
    throw new UsageError(
      `--out ${v.out} would overwrite the input image ${v.image}; choose another output name`,
    );
  const image = imageArg(v.image!);
  const img = readImage(image, 3);
  const model = resolveSrModel({ model: v.model!, scale, arch: v.arch, range });
  const lr = tensor(img.data, [1, 3, img.height, img.width]);
  const bar = progressBar(
    "upscale tiles",
    Math.ceil(img.height / tile) * Math.ceil(img.width / tile),
  );
  const t0 = performance.now();
  let r: Tiled;
  try {
    r = await upscaleTiled(model.run, lr, model.scale, {
      tile,
      margin,
      onTile: (done) => bar.update(done),
    });
  } finally {
    bar.stop();
    lr.dispose();
  }
  const ms = Math.round(performance.now() - t0);
  const [c, H, W] = r.shape;
  if (c !== 3) throw new Error(`${model.name} returned ${c} channels; upscale writes RGB images`);
  const files = writeOutputs([[out, encodePng(toRgb(r.values, 3, H, W))]]); // toRgb clamps to [0, 1]
  const summary: UpscaleSummary = {
    model: model.name,
    scale: model.scale,
    parameters: model.parameters,
    input: [img.height, img.width],
    output: [H, W],
    tile,
    margin,
    tiles: r.tiles,
    ms,
    out,
    files,
  };
  log(JSON.stringify(summary));
  return summary;
}
