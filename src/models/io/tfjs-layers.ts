/**
 * Loads a TensorFlow.js "layers-model" (model.json: a Keras functional or Sequential topology plus
 * a weightsManifest, and its binary shards) as a salient Module. The graph runs on NCHW tensors:
 * give it [N, C, H, W]; Keras' channels-last axes, kernels and depth-to-space order are converted.
 * Values are what the original model expects (the UpscalerJS RDN models take and return [0, 255]).
 * Every layer output can be tapped by its Keras layer name (withTaps), e.g. for Grad-CAM, and a
 * Conv2D's or Dense's output before its fused activation by "<layer>/preact" (e.g. for FullGrad).
 * All weights are read and checked before any is assigned: a bad file leaves nothing half-loaded.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { Module } from "../nn/module.ts";
import { applyTap, tapActive } from "../nn/taps.ts";
import {
  type BuiltLayer,
  type KerasConfig,
  LAYER_BUILDERS,
  type LayerContext,
  pixelShuffleLayer,
  SUPPORTED_CLASSES,
} from "./tfjs/layers.ts";
import { type NamedWeight, readTfjsWeights } from "./tfjs/weights.ts";

interface LayerSpec {
  className: string;
  name: string;
  config: KerasConfig;
  /** Per call of the layer (node), its inputs as [layer, node, tensor]. */
  inbound: [string, number, number][][];
}

type Ref = [string, number, number];

function parseRef(r: unknown, where: string): Ref {
  if (Array.isArray(r) && typeof r[0] === "string") return [r[0], r[1] ?? 0, r[2] ?? 0];
  throw new Error(
    `${where}: cannot read the inbound reference ${JSON.stringify(r)} (Keras 2 format expected)`,
  );
}

/** The layers and the graph's input/output references of a Keras Functional or Sequential config. */
function parseTopology(topology: KerasConfig, where: string) {
  const modelConfig = topology?.model_config ?? topology;
  const cls = modelConfig?.class_name;
  const cfg = modelConfig?.config;
  const rawLayers = Array.isArray(cfg) ? cfg : cfg?.layers;
  if (!Array.isArray(rawLayers)) {
    throw new Error(`${where}: modelTopology has no model_config.config.layers (class ${cls})`);
  }
  if (cls === "Sequential") {
    // A chain: synthesise an input layer and link each layer to the previous one.
    const layers: LayerSpec[] = [];
    let prev = "";
    for (const l of rawLayers as KerasConfig[]) {
      const name = l.config?.name ?? l.name;
      if (l.class_name === "InputLayer") {
        layers.push({ className: "InputLayer", name, config: l.config, inbound: [] });
      } else {
        if (!prev) {
          layers.push({
            className: "InputLayer",
            name: `${name}_input`,
            config: l.config,
            inbound: [],
          });
          prev = `${name}_input`;
        }
        layers.push({
          className: l.class_name,
          name,
          config: l.config ?? {},
          inbound: [[[prev, 0, 0]]],
        });
      }
      prev = name;
    }
    return { layers, inputs: [[layers[0].name, 0, 0] as Ref], outputs: [[prev, 0, 0] as Ref] };
  }
  const layers: LayerSpec[] = (rawLayers as KerasConfig[]).map((l) => ({
    className: l.class_name,
    name: l.name ?? l.config?.name,
    config: l.config ?? {},
    inbound: (l.inbound_nodes ?? []).map((node: unknown[]) => {
      if (!Array.isArray(node)) {
        throw new Error(
          `${where}: layer "${l.name}" has inbound nodes in an unsupported (Keras 3?) format`,
        );
      }
      return node.map((r) => parseRef(r, `${where}: layer "${l.name}"`));
    }),
  }));
  const refs = (v: unknown, what: string): Ref[] => {
    if (!Array.isArray(v) || v.length === 0) throw new Error(`${where}: model has no ${what}`);
    return (typeof v[0] === "string" ? [v] : v).map((r: unknown) =>
      parseRef(r, `${where} ${what}`),
    );
  };
  return {
    layers,
    inputs: refs(cfg.input_layers, "input_layers"),
    outputs: refs(cfg.output_layers, "output_layers"),
  };
}

/**
 * The tap name of a layer's output before its fused activation (a Conv2D or Dense whose activation
 * is not linear): "<layer>/preact".
 */
export const preActivationTap = (layer: string) => `${layer}/preact`;

/**
 * A TensorFlow.js layers-model as a salient Module on NCHW tensors; each Keras layer output can be
 * tapped by its layer name.
 */
export class TfjsLayersModel extends Module {
  readonly inputNames: string[];
  readonly outputNames: string[];
  /** Channel count each input expects (from batch_input_shape), or null if unspecified. */
  readonly inputChannels: (number | null)[];
  private readonly specs = new Map<string, LayerSpec>();
  private readonly built = new Map<string, BuiltLayer>();
  private readonly outputRefs: Ref[];
  private readonly inputRefs: Ref[];

  constructor(
    modelJson: KerasConfig,
    weights: ReadonlyMap<string, NamedWeight>,
    readonly where = "tfjs model",
  ) {
    super();
    if (modelJson?.format !== undefined && modelJson.format !== "layers-model") {
      throw new Error(
        `${where}: format "${modelJson.format}" is not a layers-model (graph models are not supported)`,
      );
    }
    const { layers, inputs, outputs } = parseTopology(modelJson?.modelTopology, where);
    this.inputRefs = inputs;
    this.outputRefs = outputs;
    this.inputNames = inputs.map((r) => r[0]);
    this.outputNames = outputs.map((r) => r[0]);
    const used = new Set<string>();
    const state = new Map<string, NamedWeight>();
    for (const spec of layers) {
      if (this.specs.has(spec.name))
        throw new Error(`${where}: two layers are named "${spec.name}"`);
      this.specs.set(spec.name, spec);
      if (spec.className === "InputLayer") continue;
      const built = this.buildLayer(spec, weights, used);
      if (built.module) {
        const child = spec.name.replaceAll(".", "_");
        this.child(child, built.module);
        for (const [k, v] of built.state ?? []) state.set(`${child}.${k}`, v);
      }
      this.built.set(spec.name, built);
    }
    this.inputChannels = this.inputNames.map((n) => {
      const shape = this.specs.get(n)?.config?.batch_input_shape;
      return Array.isArray(shape) && typeof shape.at(-1) === "number" ? shape.at(-1) : null;
    });
    const unused = [...weights.keys()].filter((k) => !used.has(k));
    if (unused.length) {
      throw new Error(
        `${where}: ${unused.length} weight(s) belong to no layer: ${unused.slice(0, 5).join(", ")}`,
      );
    }
    for (const r of [...inputs, ...outputs]) {
      if (!this.specs.has(r[0]))
        throw new Error(`${where}: input/output layer "${r[0]}" does not exist`);
    }
    // Shapes are checked for every entry before any assignment.
    try {
      this.loadStateDict(state);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
  }

  private buildLayer(
    spec: LayerSpec,
    weights: ReadonlyMap<string, NamedWeight>,
    used: Set<string>,
  ): BuiltLayer {
    const find = (kind: string): string | undefined => {
      const exact = `${spec.name}/${kind}`;
      if (weights.has(exact)) return exact;
      // Some converters prefix weight names with the model's name.
      const suffix = `/${exact}`;
      const hits = [...weights.keys()].filter((k) => k.endsWith(suffix));
      return hits.length === 1 ? hits[0] : undefined;
    };
    const ctx: LayerContext = {
      name: spec.name,
      className: spec.className,
      config: spec.config,
      hasWeight: (kind) => find(kind) !== undefined,
      weight: (kind) => {
        const key = find(kind);
        if (!key) {
          throw new Error(
            `${this.where}: layer "${spec.name}" (${spec.className}) needs weight "${spec.name}/${kind}", which the manifest lacks`,
          );
        }
        used.add(key);
        return weights.get(key)!;
      },
    };
    const shuffle = /^PixelShuffle(\d+)x$/.exec(spec.className);
    const builder = shuffle
      ? (c: LayerContext) => pixelShuffleLayer(c, Number(shuffle[1]))
      : LAYER_BUILDERS[spec.className];
    if (!builder) {
      throw new Error(
        `${this.where}: layer "${spec.name}" has class "${spec.className}", which is not supported (supported: ${SUPPORTED_CLASSES.join(", ")})`,
      );
    }
    try {
      return builder(ctx);
    } catch (e) {
      // Builders name the layer; the file name comes from here.
      const msg = (e as Error).message;
      throw msg.startsWith(this.where) ? e : new Error(`${this.where}: ${msg}`);
    }
  }

  /**
   * The layers that compute something (input layers excluded), in file order, with the layers each
   * reads from: what a layer method may name.
   */
  layerNames(): { name: string; className: string; inputs: string[] }[] {
    return [...this.specs.values()]
      .filter((s) => s.className !== "InputLayer")
      .map((s) => ({
        name: s.name,
        className: s.className,
        inputs: [...new Set(s.inbound.flat().map((r) => r[0]))],
      }));
  }

  /** The module holding a layer's weights (Conv2d, Linear, BatchNorm2d), if it has any. */
  layerModule(name: string): Module | undefined {
    return this.built.get(name)?.module;
  }

  /** Whether a layer has a fused activation, so preActivationTap(name) can be tapped. */
  hasPreActivation(name: string): boolean {
    return this.built.get(name)?.preActivation !== undefined;
  }

  /** Runs the graph on NCHW inputs (one per model input) and returns every model output. */
  run(inputs: readonly Tensor[]): Tensor[] {
    if (inputs.length !== this.inputRefs.length) {
      throw new Error(
        `${this.where}: expected ${this.inputRefs.length} input(s), got ${inputs.length}`,
      );
    }
    const memo = new Map<string, Tensor>();
    inputs.forEach((x, i) => {
      const want = this.inputChannels[i];
      if (x.rank === 4 && want !== null && x.shape[1] !== want) {
        throw new Error(
          `${this.where}: input "${this.inputNames[i]}" expects ${want} channels in NCHW layout, got [${x.shape}]`,
        );
      }
      memo.set(`${this.inputRefs[i][0]}:0`, x);
    });
    const visiting = new Set<string>();
    const evaluate = ([layer, node]: Ref): Tensor => {
      const key = `${layer}:${node}`;
      const done = memo.get(key);
      if (done) return done;
      const spec = this.specs.get(layer);
      if (!spec) throw new Error(`${this.where}: reference to unknown layer "${layer}"`);
      if (spec.className === "InputLayer") {
        throw new Error(`${this.where}: input layer "${layer}" is not one of the model inputs`);
      }
      if (visiting.has(key))
        throw new Error(`${this.where}: the graph has a cycle through "${layer}"`);
      visiting.add(key);
      const refs = spec.inbound[node];
      if (!refs) throw new Error(`${this.where}: layer "${layer}" has no call #${node}`);
      const ins = refs.map(evaluate);
      const built = this.built.get(layer)!;
      const pre = built.preActivation;
      const preTap = preActivationTap(spec.name);
      // The unfused path only when its output is tapped: the fused one is the fast default.
      const out =
        pre && tapActive(preTap)
          ? pre.activate(applyTap(preTap, pre.apply(ins)))
          : built.apply(ins);
      const y = applyTap(spec.name, out);
      visiting.delete(key);
      memo.set(key, y);
      return y;
    };
    return this.outputRefs.map(evaluate);
  }

  forward(x: Tensor): Tensor {
    if (this.outputRefs.length !== 1) {
      throw new Error(`${this.where}: model has ${this.outputRefs.length} outputs; use run()`);
    }
    return this.run([x])[0];
  }
}

/**
 * Builds a salient Module from a layers-model's parsed model.json; `readShard` returns the bytes
 * of a shard named in the manifest (paths relative to model.json).
 */
export function loadTfjsLayersModel(
  modelJson: object,
  readShard: (path: string) => Uint8Array,
  where = "tfjs model",
): TfjsLayersModel {
  if (modelJson === null || typeof modelJson !== "object" || Array.isArray(modelJson)) {
    throw new Error(
      `${where}: model.json must be a JSON object with modelTopology and weightsManifest`,
    );
  }
  const json = modelJson as KerasConfig;
  const weights = readTfjsWeights(json.weightsManifest ?? [], readShard, where);
  return new TfjsLayersModel(json, weights, where);
}
