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
import type { Tensor } from "../autodiff/tensor.ts";
import { tidy } from "../autodiff/tidy.ts";
import { tensor } from "../ops/creation.ts";
import { slice } from "../ops/slice.ts";
import { encodePng, readImage } from "../viz/image-io-node.ts";
import { toRgb } from "../viz/overlay.ts";
import { type CommandSpec, numberFlag, parseFlags, UsageError } from "./args.ts";
import { outPrefix, writeOutputs } from "./output-set.ts";
import { BUNDLED_PHOTOS, imageArg } from "./package-files.ts";
import { progressBar } from "./progress.ts";
import { resolveSrModel, SR_MODEL_NAMES } from "./sr-models.ts";

export const UPSCALE_SPEC: CommandSpec = {
  name: "upscale",
  summary: "an SR model on an RGB image, tile by tile so memory stays bounded",
  synopsis: "--model M --image in.png --out PREFIX [--scale N] [--tile 64] [--margin 8]",
  flags: {
    model: {
      value: "M",
      required: true,
      help: `${SR_MODEL_NAMES.join(" | ")} | file.onnx | a weights file with --arch`,
    },
    arch: { value: "NAME", help: "zoo architecture of a weights file (salient models)" },
    range: { value: "R", default: "1", help: "value range an ONNX model expects" },
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

export interface TileOptions {
  /** Tile side in LR pixels. */
  tile: number;
  /** Context in LR pixels around each tile, computed then dropped. */
  margin: number;
  onTile?: (done: number, total: number) => void;
}

export interface Tiled {
  /** [C, H * scale, W * scale], C being the model's output channels. */
  values: Float32Array;
  shape: [number, number, number];
  tiles: number;
}

/** Tile starts along an axis of `n` pixels. */
const starts = (n: number, tile: number) =>
  Array.from({ length: Math.ceil(n / tile) }, (_, i) => i * tile);

/** Runs `run` ([1, C, h, w] -> [1, C', h s, w s]) over `lr` [1, C, H, W] tile by tile. */
export async function upscaleTiled(
  run: (x: Tensor) => Tensor,
  lr: Tensor,
  scale: number,
  o: TileOptions,
): Promise<Tiled> {
  const [n, c, h, w] = lr.shape;
  if (n !== 1 || lr.rank !== 4)
    throw new Error(`upscale: expected one image [1, C, H, W], got [${lr.shape}]`);
  if (!Number.isInteger(o.tile) || o.tile < 1)
    throw new Error(`--tile must be a positive integer, got ${o.tile}`);
  if (!Number.isInteger(o.margin) || o.margin < 0)
    throw new Error(`--margin must be a non-negative integer, got ${o.margin}`);
  const rows = starts(h, o.tile);
  const cols = starts(w, o.tile);
  const total = rows.length * cols.length;
  const H = h * scale;
  const W = w * scale;
  let out: Float32Array | null = null;
  let channels = 0;
  let done = 0;
  for (const ty of rows) {
    for (const tx of cols) {
      // The tile's interior [ty, ty + th) x [tx, tx + tw) and its padded crop.
      const th = Math.min(o.tile, h - ty);
      const tw = Math.min(o.tile, w - tx);
      const y0 = Math.max(0, ty - o.margin);
      const x0 = Math.max(0, tx - o.margin);
      const y1 = Math.min(h, ty + th + o.margin);
      const x1 = Math.min(w, tx + tw + o.margin);
      const sr = tidy(() => run(slice(lr, [0, 0, y0, x0], [1, c, y1 - y0, x1 - x0])));
      const [, oc, sh, sw] = sr.shape;
      if (sh !== (y1 - y0) * scale || sw !== (x1 - x0) * scale) {
        sr.dispose();
        throw new Error(
          `the model turned a ${x1 - x0}x${y1 - y0} tile into ${sw}x${sh}, not the x${scale} that --scale says`,
        );
      }
      const v = await sr.data();
      sr.dispose();
      if (!out) {
        channels = oc;
        out = new Float32Array(oc * H * W);
      }
      const oy = (ty - y0) * scale;
      const ox = (tx - x0) * scale;
      for (let k = 0; k < channels; k++)
        for (let y = 0; y < th * scale; y++) {
          const src = (k * sh + oy + y) * sw + ox;
          out.set(v.subarray(src, src + tw * scale), (k * H + ty * scale + y) * W + tx * scale);
        }
      o.onTile?.(++done, total);
    }
  }
  return { values: out ?? new Float32Array(), shape: [channels, H, W], tiles: total };
}

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
