/**
 * The layers a layer method (Grad-CAM and kin) may name on a loaded model, with the shapes they
 * output for a given input: ONNX graphs by tensor name (a node's name taps its first output),
 * TensorFlow.js layers models by Keras layer name, other modules by dotted path. Also the default
 * CAM layer of a classifier: the last spatial activation that a global pooling (or a flatten)
 * reduces.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import type { Module } from "../nn/module.ts";
import { withTaps } from "../nn/taps.ts";
import { OnnxModel } from "./onnx/model.ts";
import { TfjsLayersModel } from "./tfjs-layers.ts";

/** A layer a tap can name, before any forward pass. */
export interface LayerName {
  /** The name to give a layer method (tensor name, Keras layer name or dotted module path). */
  name: string;
  /** Another name for the same output (an ONNX node's name for its first output), if any. */
  alias?: string;
  /** The op type, Keras class or module class. */
  kind: string;
  /** The layers (or graph values) it reads, when the model says. */
  inputs?: string[];
}

/** A layer with the shape it output for the input given to listLayers. */
export interface LayerInfo extends LayerName {
  shape: number[];
}

/** Every tappable layer of a model, in evaluation (or file) order. */
export function layerNames(model: Module): LayerName[] {
  if (model instanceof OnnxModel) {
    return model.layerNames().map((l) => ({
      name: l.tensor,
      ...(l.firstOutput && l.node && l.node !== l.tensor ? { alias: l.node } : {}),
      kind: l.opType,
      inputs: l.inputs,
    }));
  }
  if (model instanceof TfjsLayersModel) {
    return model.layerNames().map((l) => ({ name: l.name, kind: l.className, inputs: l.inputs }));
  }
  return model
    .namedModules()
    .filter(([p]) => p)
    .map(([p, m]) => ({ name: p, kind: m.constructor.name }));
}

/**
 * Runs the model once on x and returns the layers it reached with their output shapes (layers it
 * never ran, and ONNX values computed on the host such as shapes, are left out).
 */
export function listLayers(model: Module, x: Tensor): LayerInfo[] {
  const names = layerNames(model);
  const shapes = new Map<string, number[]>();
  const taps: Record<string, (out: Tensor) => Tensor> = {};
  for (const l of names) {
    taps[l.name] = (out) => {
      if (!shapes.has(l.name)) shapes.set(l.name, [...out.shape]);
      return out;
    };
  }
  tidy(() => {
    withTaps(taps, () => model.call(x));
  });
  return names.filter((l) => shapes.has(l.name)).map((l) => ({ ...l, shape: shapes.get(l.name)! }));
}

/** A feature map [N, K, h, w] with more than one position (what a CAM can localise on). */
const spatial = (s: readonly number[] | undefined) =>
  s !== undefined && s.length === 4 && s[2] * s[3] > 1;

/**
 * The default CAM layer of a classifier: the last layer whose spatial output [N, K, h, w] is read
 * by a layer that removes the spatial extent (global pooling, flatten), or null when none is.
 * Layers without known inputs are taken to read the layer listed before them.
 */
export function defaultCamLayer(layers: readonly LayerInfo[]): LayerInfo | null {
  const byName = new Map(layers.map((l) => [l.name, l]));
  let found: LayerInfo | null = null;
  layers.forEach((l, i) => {
    if (spatial(l.shape)) return;
    const inputs = l.inputs ?? (i > 0 ? [layers[i - 1].name] : []);
    for (const n of inputs) {
      const src = byName.get(n);
      if (src && spatial(src.shape)) found = src;
    }
  });
  return found;
}
