/**
 * `salient cem`: the causal effect map of an SR model for one output window. Input blocks are
 * replaced with the same blocks of donor images; the PSNR change of the window against the HR
 * image is each block's effect. Writes PREFIX.npy (effects [rows, cols] float32, dB) and
 * PREFIX.png (the LR image with the effects blended in: red helps the window, blue hurts it).
 */
import { type CemResult, causalEffectMap, strongestBlocks } from "../attribution/sr/cem.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { tidy } from "../autodiff/tidy.ts";
import { tensor } from "../ops/creation.ts";
import { resize } from "../ops/resize.ts";
import { slice } from "../ops/slice.ts";
import { applyColormap } from "../viz/colormap.ts";
import { encodePng, readImage } from "../viz/image-io-node.ts";
import { encodeNpy } from "../viz/npy.ts";
import type { RgbImage } from "../viz/overlay.ts";
import { type CommandSpec, numberFlag, parseFlags, UsageError } from "./args.ts";
import { checkWindowFits, parseWindow } from "./lam.ts";
import { outPrefix, writeOutputs } from "./output-set.ts";
import { BUNDLED_PHOTOS, imageArg } from "./package-files.ts";
import { progressBar } from "./progress.ts";
import { resolveSrModel, SR_MODEL_FLAGS } from "./sr-models.ts";

export const CEM_SPEC: CommandSpec = {
  name: "cem",
  summary:
    "the causal effect map of an SR model: how much each input block changes the PSNR of an output window when replaced",
  synopsis: "--model M --image HR.png --window x,y[,size] --out PREFIX [options]",
  flags: {
    ...SR_MODEL_FLAGS,
    image: {
      value: "HR.png",
      required: true,
      help: `HR image (or a bundled photo: ${BUNDLED_PHOTOS.join(", ")}), the reference of the PSNR; downscaled for the input`,
    },
    scale: { value: "N", default: "4", help: "SR scale" },
    crop: { value: "N", default: "256", help: "centre crop of the HR image in pixels (0: whole)" },
    window: {
      value: "x,y[,size]",
      required: true,
      help: "output window in SR pixels of the cropped image (x column, y row); size as lam's default if omitted",
    },
    block: { value: "N", default: "8", help: "side of the replaced input blocks in LR pixels" },
    coarse: {
      value: "N",
      default: "4",
      help: "side of the coarse cells in blocks (1: evaluate every block)",
    },
    refine: {
      value: "F",
      default: "0.1",
      help: "refine coarse cells with |effect| >= F * the largest",
    },
    donors: {
      value: "a.png,b.png",
      defaultText: "the bundled photos other than --image",
      help: "images whose blocks replace the input's (resized to the LR size)",
    },
    batch: { value: "N", default: "16", help: "intervened images per pass (memory, not results)" },
    out: {
      value: "PREFIX",
      required: true,
      help: "writes PREFIX.npy (effects [rows, cols], dB) and PREFIX.png; a trailing .npy/.png is dropped",
    },
  },
  notes: "prints a JSON summary line last: PSNR, the strongest positive and negative blocks.",
};

function hrAndLr(path: string, scale: number, crop: number): { hr: Tensor; lr: Tensor } {
  const img = readImage(path, 3);
  const side = (n: number) => Math.floor((crop > 0 ? Math.min(crop, n) : n) / scale);
  const h = side(img.height);
  const w = side(img.width);
  if (h < 2 || w < 2) throw new Error(`${path}: ${img.width}x${img.height} is too small`);
  const top = Math.floor((img.height - h * scale) / 2);
  const left = Math.floor((img.width - w * scale) / 2);
  return tidy(() => {
    const hr = slice(
      tensor(img.data, [1, 3, img.height, img.width]),
      [0, 0, top, left],
      [1, 3, h * scale, w * scale],
    );
    return { hr, lr: resize(hr, [h, w], { mode: "antialias-bicubic" }) };
  });
}

function donorAt(path: string, h: number, w: number): Tensor {
  const img = readImage(path, 3);
  return tidy(() =>
    resize(tensor(img.data, [1, 3, img.height, img.width]), [h, w], {
      mode: img.height > h || img.width > w ? "antialias-bicubic" : "bicubic",
    }),
  );
}

/** The LR image (nearest-enlarged 4x) with the effects blended in on the seismic map. */
function effectPicture(lr: Float32Array, h: number, w: number, r: CemResult): RgbImage {
  const k = 4;
  const top = Math.max(1e-12, ...Array.from(r.effects, Math.abs));
  const cols = r.grid[1];
  const values = new Float32Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const e = r.effects[Math.floor(y / r.block) * cols + Math.floor(x / r.block)];
      values[y * w + x] = 0.5 + 0.5 * (e / top);
    }
  const heat = applyColormap(values, "seismic");
  const data = new Uint8Array(h * k * w * k * 3);
  for (let y = 0; y < h * k; y++)
    for (let x = 0; x < w * k; x++) {
      const i = Math.floor(y / k) * w + Math.floor(x / k);
      for (let c = 0; c < 3; c++) {
        const grey = 255 * Math.min(1, Math.max(0, lr[c * h * w + i]));
        data[(y * w * k + x) * 3 + c] = Math.round(0.5 * grey + 0.5 * heat[i * 3 + c]);
      }
    }
  return { width: w * k, height: h * k, data };
}

export async function runCem(args: string[], log: (line: string) => void): Promise<void> {
  const v = parseFlags(CEM_SPEC, args);
  const scale = numberFlag("scale", v.scale, { integer: true, min: 2, max: 16 }, 4);
  const range = numberFlag("range", v.range, { min: 0, minExclusive: true }, 1);
  const crop = numberFlag("crop", v.crop, { integer: true, min: 0 }, 256);
  const block = numberFlag("block", v.block, { integer: true, min: 1 }, 8);
  const coarse = numberFlag("coarse", v.coarse, { integer: true, min: 1 }, 4);
  const refine = numberFlag("refine", v.refine, { min: 0, max: 1 }, 0.1);
  const batch = numberFlag("batch", v.batch, { integer: true, min: 1, max: 4096 }, 16);
  const window = parseWindow(v.window!);
  const prefix = outPrefix(v.out!, [".npy", ".png"]);
  const imagePath = imageArg(v.image!);
  const donorPaths = v.donors
    ? v.donors.split(",").map((s) => imageArg(s.trim()))
    : BUNDLED_PHOTOS.filter((p) => p !== v.image).map(imageArg);
  if (!donorPaths.length || donorPaths.some((p) => !p))
    throw new UsageError(`--donors must be a comma-separated list of images, got "${v.donors}"`);
  const { hr, lr } = hrAndLr(imagePath, scale, crop);
  const [, , h, w] = lr.shape;
  const donors: Tensor[] = [];
  try {
    checkWindowFits(window, h, w, scale);
    for (const p of donorPaths) donors.push(donorAt(p, h, w));
    const model = resolveSrModel({ model: v.model!, scale, arch: v.arch, range });
    const bar = progressBar("CEM interventions", 1);
    let r: CemResult;
    const t0 = performance.now();
    try {
      r = await causalEffectMap(model.run, lr, hr, window, donors, {
        block,
        coarse,
        refine,
        batch,
        onProgress: (d, t) => bar.update(d, t),
      });
    } finally {
      bar.stop();
    }
    const seconds = (performance.now() - t0) / 1000;
    const lrValues = Float32Array.from(lr.dataSync());
    const files = writeOutputs([
      [`${prefix}.npy`, encodeNpy(r.effects, r.grid)],
      [`${prefix}.png`, encodePng(effectPicture(lrValues, h, w, r))],
    ]);
    const strongest = strongestBlocks(r, 10);
    log(
      JSON.stringify({
        model: model.name,
        scale,
        lr_size: [h, w],
        window,
        block,
        grid: r.grid,
        coarse_cell: r.coarse?.cell ?? null,
        blocks_evaluated: r.evaluated.reduce((s, e) => s + e, 0),
        evaluations: r.evaluations,
        donors: donorPaths.length,
        psnr: r.psnr,
        positive: strongest.positive,
        negative: strongest.negative,
        seconds: Number(seconds.toFixed(3)),
        files,
      }),
    );
  } finally {
    for (const t of [hr, lr, ...donors]) t.dispose();
  }
}
