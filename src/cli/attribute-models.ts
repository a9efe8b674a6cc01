/**
 * Models for `salient attribute`: an architecture with a weights file (safetensors, PyTorch .pth,
 * or ONNX initialisers, sniffed by content), or an ONNX graph. Each resolved model knows its input
 * layout when it can (channels, size) and its default Grad-CAM layer.
 */
import { readFileSync } from "node:fs";
import { fashionCnnAccuracy, loadFashionCnn } from "../models/classifiers/fashion-cnn.ts";
import { SmallCnn } from "../models/classifiers/small-cnn.ts";
import { layerNames } from "../models/io/layer-list.ts";
import { loadWeights, loadWeightsIntoModule } from "../models/io/load-weights.ts";
import { loadOnnx } from "../models/io/onnx/model.ts";
import type { Module } from "../models/nn/module.ts";

export interface ResolvedModel {
  name: string;
  module: Module;
  /** Input channels (1 = grey). */
  channels: number;
  /** [H, W] when the architecture fixes it. */
  size: [number, number] | null;
  /** The default layer for CAM methods, if the architecture names one. */
  camLayer: string | null;
  /** Dotted paths of the modules, for error messages. */
  layers: string[];
}

interface Arch {
  description: string;
  build(weightsPath: string): ResolvedModel;
}

function readBytes(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`cannot read ${what} "${path}": ${(e as Error).message}`);
  }
}

const layersOf = (m: Module) =>
  m
    .namedModules()
    .map(([p]) => p)
    .filter(Boolean);

export const ARCHS: Readonly<Record<string, Arch>> = {
  "small-cnn": {
    description:
      "SmallCnn: 1 x 28 x 28 grey input (Fashion-MNIST), 10 classes; Grad-CAM layer features.4",
    build(path) {
      const bytes = readBytes(path, "weights file");
      // The channel widths come from the file, so any SmallCnn variant loads.
      const w = loadWeights(bytes, path);
      const c1 = w.get("features.0.weight")?.shape[0];
      const c2 = w.get("features.3.weight")?.shape[0];
      const classes = w.get("classifier.2.weight")?.shape[0];
      if (!c1 || !c2 || !classes) {
        throw new Error(
          `${path}: not SmallCnn weights (needs features.0.weight, features.3.weight and classifier.2.weight; has ${[...w.keys()].slice(0, 8).join(", ")})`,
        );
      }
      const net = new SmallCnn({ channels: [c1, c2], classes });
      loadWeightsIntoModule(net, bytes, path);
      net.eval();
      return {
        name: `small-cnn (${path})`,
        module: net,
        channels: 1,
        size: [28, 28],
        camLayer: SmallCnn.gradCamLayer,
        layers: layersOf(net),
      };
    },
  },
};

export const BUNDLED: Readonly<Record<string, { description: string; load(): ResolvedModel }>> = {
  "fashion-cnn": {
    description: `SmallCnn trained on Fashion-MNIST (test accuracy ${(100 * fashionCnnAccuracy.all).toFixed(1)}%); 1 x 28 x 28 grey input`,
    load() {
      const net = loadFashionCnn();
      return {
        name: "fashion-cnn",
        module: net,
        channels: 1,
        size: [28, 28],
        camLayer: SmallCnn.gradCamLayer,
        layers: layersOf(net),
      };
    },
  },
};

/** --model NAME | FILE.onnx | WEIGHTS with --arch NAME. */
export function resolveModel(
  model: string,
  arch: string | undefined,
  channels: number | undefined,
): ResolvedModel {
  if (arch !== undefined) {
    const a = ARCHS[arch];
    if (!a)
      throw new Error(
        `--arch: unknown architecture "${arch}" (known: ${Object.keys(ARCHS).join(", ")})`,
      );
    return a.build(model);
  }
  if (Object.hasOwn(BUNDLED, model)) return BUNDLED[model].load();
  if (/\.onnx$/i.test(model)) {
    const net = loadOnnx(readBytes(model, "ONNX model"), { name: model });
    // An image input declared [N, C, H, W] with numbers fixes the channels and the size.
    const declared = net.inputShapes[0] ?? [];
    const dim = (i: number) => (typeof declared[i] === "number" ? (declared[i] as number) : null);
    const [c, h, w] = declared.length === 4 ? [dim(1), dim(2), dim(3)] : [null, null, null];
    if (channels !== undefined && c !== null && channels !== c) {
      throw new Error(
        `--channels ${channels}: ${model} declares ${c} input channels (input shape [${declared}])`,
      );
    }
    return {
      name: model,
      module: net,
      channels: channels ?? c ?? 3,
      size: h !== null && w !== null ? [h, w] : null,
      // Chosen from a trace of the input when a CAM method needs it (see chooseCamLayer).
      camLayer: null,
      layers: layerNames(net).flatMap((l) => (l.alias ? [l.name, l.alias] : [l.name])),
    };
  }
  const bundled = Object.keys(BUNDLED);
  throw new Error(
    `--model "${model}" is not a bundled model (${bundled.length ? bundled.join(", ") : "none are bundled yet"}) or an .onnx file; for a weights file give --arch (${Object.keys(ARCHS).join(", ")})`,
  );
}
