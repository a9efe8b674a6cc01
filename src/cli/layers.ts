/**
 * `salient layers --model FILE`: the layers a CAM method may name (ONNX tensor and node names,
 * tfjs layer names, module paths) with the shapes they output for one input, and the default CAM
 * layer. Also the default-layer choice and --grid parsing that `attribute` uses.
 */

import { parseGrid } from "../attribution/option-values.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { dispose } from "../autodiff/tidy.ts";
import { defaultCamLayer, listLayers } from "../models/io/layer-list.ts";
import type { Module } from "../models/nn/module.ts";
import { zeros } from "../ops/creation.ts";
import { type CommandSpec, parseFlags, UsageError } from "./args.ts";
import { resolveModel } from "./attribute-models.ts";

export const LAYERS_SPEC: CommandSpec = {
  name: "layers",
  summary: "list a model's layers (names for --layer) with their output shapes",
  synopsis: "--model FILE.onnx [--size HxW] [--channels 1|3]",
  flags: {
    model: {
      value: "M",
      required: true,
      help: "fashion-cnn | file.onnx | a weights file with --arch",
    },
    arch: { value: "NAME", help: "architecture of a weights file" },
    size: { value: "HxW", defaultText: "the model's declared size", help: "input size to trace" },
    channels: { value: "1|3", defaultText: "the model's", help: "input channels" },
  },
};

/**
 * The default CAM layer of a loaded classifier traced on x, with the line that says which it is
 * (null when no spatial map feeds a global pooling or flatten).
 */
export function chooseCamLayer(m: Module, x: Tensor): { layer: string; message: string } | null {
  const found = defaultCamLayer(listLayers(m, x));
  if (!found) return null;
  const alias = found.alias ? ` (node ${found.alias})` : "";
  return {
    layer: found.name,
    message: `--layer not given: using "${found.name}"${alias} [${found.shape}], the last feature map before global pooling (salient layers lists the others)`,
  };
}

export function runLayers(args: string[], log: (line: string) => void): void {
  const v = parseFlags(LAYERS_SPEC, args);
  const channels = v.channels === undefined ? undefined : Number(v.channels);
  if (channels !== undefined && channels !== 1 && channels !== 3)
    throw new UsageError(`--channels must be 1 or 3, got "${v.channels}"`);
  const resolved = resolveModel(v.model!, v.arch, channels);
  const size = v.size !== undefined ? parseGrid(v.size, "size") : resolved.size;
  if (!size)
    throw new UsageError(
      `${resolved.name} does not declare its input size; give --size HxW (e.g. --size 224x224)`,
    );
  const x = zeros([1, resolved.channels, ...size]);
  try {
    const layers = listLayers(resolved.module, x);
    const cam = defaultCamLayer(layers);
    const width = Math.max(...layers.map((l) => l.name.length), 4);
    for (const l of layers) {
      const alias = l.alias ? `  node ${l.alias}` : "";
      const mark = cam && l.name === cam.name ? "  <- default CAM layer" : "";
      log(`${l.name.padEnd(width)}  [${l.shape.join(", ")}]  ${l.kind}${alias}${mark}`);
    }
    log(
      cam
        ? `default CAM layer: ${cam.name}`
        : "no default CAM layer (no spatial map feeds a global pooling); name one with --layer",
    );
  } finally {
    dispose(x);
  }
}
