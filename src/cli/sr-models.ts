/**
 * Super-resolution models for `salient lam` and `compare-models`, as functions from an LR image in
 * [0, 1] to an SR image in [0, 1] (models published for [0, 255] are wrapped), which is the range
 * LAM_Demo attributes in. Sources: the UpscalerJS packages by name, bicubic interpolation (a
 * fixed linear map, the reference point of the zoo study), the bundled FSRCNN x2 trained here
 * (`fsrcnn-x2`: FSRCNN on BT.601 Y, bicubic Cb/Cr), ONNX graphs, or a zoo architecture with a
 * weights file (safetensors, PyTorch .pth, ONNX initialisers). A model that reads one channel
 * runs on BT.601 Y with bicubic Cb/Cr, as fsrcnn-x2 does.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Tensor } from "../autodiff/tensor.ts";
import {
  UPSCALER_PACKAGES,
  type UpscalerPackage,
  upscalerPackageDir,
} from "../models/io/tfjs/node.ts";
import { rgbSr } from "../models/sr/y-channel.ts";
import { loadFsrcnnX2 } from "../models/zoo/fsrcnn-pretrained.ts";
import { fsrcnnRgb } from "../models/zoo/fsrcnn-rgb.ts";
import { loadUpscalerModule } from "../models/zoo/upscaler-node.ts";
import { resize } from "../ops/resize.ts";
import type { FlagSpec } from "./args.ts";
import { inUnitRange, srModuleFromFile } from "./sr-modules.ts";

export interface SrModel {
  name: string;
  scale: number;
  /** LR [N, 3, h, w] in [0, 1] -> SR [N, 3, H, W] in [0, 1]. */
  run: (lr: Tensor) => Tensor;
  parameters: number;
}

/** Input range of each UpscalerJS package (thick was exported for [0, 1], the RDNs for [0, 255]). */
export const PACKAGE_RANGE: Record<UpscalerPackage, number> = {
  "esrgan-slim": 255,
  "esrgan-medium": 255,
  "esrgan-thick": 1,
  "default-model": 255,
};

/** Scales an UpscalerJS package may publish (each has its own models/xN folder). */
const PACKAGE_SCALES = [2, 3, 4, 8];

/** The scales of an installed UpscalerJS package (default-model is x2 only). */
export function upscalerScales(pkg: UpscalerPackage): number[] {
  if (pkg === "default-model") return [2];
  const root = upscalerPackageDir(pkg);
  return PACKAGE_SCALES.filter((s) => existsSync(join(root, "models", `x${s}`, "model.json")));
}

/** Loads an UpscalerJS package at `scale`, after checking that the package has that scale. */
export function loadUpscalerAt(pkg: UpscalerPackage, scale: number) {
  const scales = upscalerScales(pkg);
  if (!scales.includes(scale))
    throw new Error(`${pkg} has no x${scale} model; available scales: ${scales.join(", ")}`);
  return loadUpscalerModule(pkg, scale).eval();
}

export const SR_MODEL_NAMES = ["bicubic", "fsrcnn-x2", ...UPSCALER_PACKAGES] as const;

/** The flags that choose an SR model, shared by the commands that run one. */
export const SR_MODEL_FLAGS: Record<string, FlagSpec> = {
  model: {
    value: "M",
    required: true,
    help: `${SR_MODEL_NAMES.join(" | ")} | file.onnx | a weights file with --arch`,
  },
  arch: { value: "NAME", help: "zoo architecture of a weights file (salient models)" },
  range: { value: "R", default: "1", help: "value range an ONNX model expects" },
};

export interface SrModelSpec {
  model: string;
  scale: number;
  /** Zoo architecture for a weights file. */
  arch?: string;
  /** Value range the model expects, for ONNX files (default 1). */
  range?: number;
}

export function resolveSrModel(spec: SrModelSpec): SrModel {
  const { model, scale } = spec;
  if (!Number.isInteger(scale) || scale < 2)
    throw new Error(`--scale must be an integer >= 2, got ${scale}`);
  if (model === "bicubic") {
    return {
      name: "bicubic",
      scale,
      parameters: 0,
      run: (x) => resize(x, [x.shape[2] * scale, x.shape[3] * scale], { mode: "bicubic" }),
    };
  }
  if (model === "fsrcnn-x2") {
    if (scale !== 2) {
      throw new Error(
        `fsrcnn-x2 is trained for x2 only: run it with --scale 2 (got --scale ${scale})`,
      );
    }
    const m = loadFsrcnnX2();
    return { name: "fsrcnn-x2", scale, parameters: m.parameterCount(), run: fsrcnnRgb(m) };
  }
  if ((UPSCALER_PACKAGES as readonly string[]).includes(model)) {
    const pkg = model as UpscalerPackage;
    const m = loadUpscalerAt(pkg, scale);
    return {
      name: `${pkg} x${scale}`,
      scale,
      parameters: m.parameterCount(),
      run: rgbSr(m, inUnitRange(m, PACKAGE_RANGE[pkg]), scale),
    };
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(model));
  } catch {
    throw new Error(
      `--model "${model}" is neither a bundled SR model (${SR_MODEL_NAMES.join(", ")}) nor a readable file`,
    );
  }
  const { name, module, run } = srModuleFromFile(bytes, spec, "model", (m) => new Error(m));
  return { name, scale, parameters: module.parameterCount(), run };
}
