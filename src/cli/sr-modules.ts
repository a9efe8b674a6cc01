/**
 * SR models as modules (not just functions) for the commands that look inside them: FAIG moves
 * their parameters, the feature analyses tap their layers. Sources: ONNX graphs, a zoo
 * architecture with a weights file (--arch), and the bundled fsrcnn-x2. `run` maps RGB in [0, 1]
 * to RGB in [0, 1] as resolveSrModel's does (1-channel models run on Y with bicubic Cb/Cr).
 */
import { readFileSync } from "node:fs";
import type { Tensor } from "../autodiff/tensor.ts";
import { loadWeightsIntoModule } from "../models/io/load-weights.ts";
import { loadOnnx } from "../models/io/onnx/model.ts";
import type { Module } from "../models/nn/module.ts";
import { ARCHITECTURES, createArchitecture } from "../models/registry.ts";
import { rgbSr } from "../models/sr/y-channel.ts";
import { loadFsrcnnX2 } from "../models/zoo/fsrcnn-pretrained.ts";
import { fsrcnnRgb } from "../models/zoo/fsrcnn-rgb.ts";
import { div, mul } from "../ops/binary.ts";
import type { FlagSpec } from "./args.ts";
import { UsageError } from "./args.ts";
import type { SrModelSpec } from "./sr-models.ts";

/** How srga, ddr and faig read an SR network given as a weights file (--arch) or an ONNX file (--range). */
export const SR_MODULE_FLAGS: Record<string, FlagSpec> = {
  arch: { value: "NAME", help: "zoo architecture of a weights file" },
  range: { value: "R", default: "1", help: "value range an ONNX model expects" },
};

/** The HR image set the feature commands and FAIG downscale for their LR inputs. */
export const SR_SET_FLAGS: Record<string, FlagSpec> = {
  scale: { value: "N", default: "2", help: "SR scale" },
  crop: { value: "N", default: "96", help: "centre crop of each HR image in pixels (0: whole)" },
};

export interface SrModule {
  name: string;
  scale: number;
  module: Module;
  /** LR [N, 3, h, w] in [0, 1] -> SR [N, 3, H, W] in [0, 1], reading `module`'s parameters. */
  run: (lr: Tensor) => Tensor;
}

/** m's forward on [0, 1] inputs for a model that expects [0, range] (and gives the same range). */
export function inUnitRange(m: Module, range: number): (x: Tensor) => Tensor {
  return range === 1 ? (x) => m.call(x) : (x) => div(m.call(mul(x, range)), range);
}

/** The model named by --model (and --arch / --range) as a module with its RGB forward pass. */
export function resolveSrModule(spec: SrModelSpec, flagName = "model"): SrModule {
  const { model, scale } = spec;
  if (model === "fsrcnn-x2") {
    if (scale !== 2)
      throw new UsageError(`fsrcnn-x2 is trained for x2 only: use --scale 2 (got ${scale})`);
    const m = loadFsrcnnX2();
    return { name: model, scale, module: m, run: fsrcnnRgb(m) };
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(model));
  } catch {
    throw new UsageError(
      `--${flagName} "${model}" is neither fsrcnn-x2 nor a readable file (an ONNX model, or a weights file with --arch)`,
    );
  }
  return srModuleFromFile(bytes, spec, flagName, (message) => new UsageError(message));
}

/**
 * The SR network in a file's bytes: an ONNX graph (inputs scaled to --range), or the zoo
 * architecture --arch names with the file's weights. `fail` makes the error for a missing or
 * unknown --arch (commands differ on whether that is a usage error).
 */
export function srModuleFromFile(
  bytes: Uint8Array,
  spec: SrModelSpec,
  flagName: string,
  fail: (message: string) => Error,
): SrModule {
  const { model, scale } = spec;
  if (model.toLowerCase().endsWith(".onnx")) {
    const m = loadOnnx(bytes, { name: model });
    return { name: model, scale, module: m, run: rgbSr(m, inUnitRange(m, spec.range ?? 1), scale) };
  }
  const known = Object.keys(ARCHITECTURES).join(", ");
  if (!spec.arch)
    throw fail(
      `--${flagName} "${model}" is a weights file: name its architecture with --arch (${known})`,
    );
  const arch = ARCHITECTURES[spec.arch];
  if (!arch) throw fail(`unknown --arch "${spec.arch}" (known: ${known})`);
  const m = createArchitecture(spec.arch, scale);
  loadWeightsIntoModule(m, bytes, model);
  m.eval();
  return {
    name: `${spec.arch} x${scale} (${model})`,
    scale,
    module: m,
    run: rgbSr(m, inUnitRange(m, arch.range[1]), scale),
  };
}
