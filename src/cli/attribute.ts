/**
 * `salient attribute`: one attribution map for one image, written as PREFIX.npy (float32, NumPy
 * .npy 1.0; the input's shape [1, C, H, W], or [1, 1, H, W] for layer maps upsampled bilinearly)
 * and PREFIX.png (the map over the image), then a one-line JSON summary (`salient gallery`, in
 * gallery.ts, runs several methods side by side on the same preparation).
 * Normalisation (--mean/--std) is folded into the model, so maps and baselines live in [0, 1]
 * image space.
 */

import { QUADRATURE_RULES } from "../attribution/path/quadrature.ts";
import { PRESET_NAMES, preset } from "../attribution/presets.ts";
import {
  checkMethodOptions,
  METHODS,
  type MethodEntry,
  optionText,
} from "../attribution/registry.ts";
import type { Attribution, Model } from "../attribution/types.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { keep, tidy } from "../autodiff/tidy.ts";
import { div, sub } from "../ops/binary.ts";
import { tensor, zeros } from "../ops/creation.ts";
import { reshape } from "../ops/reshape.ts";
import { resize } from "../ops/resize.ts";
import { COLORMAPS, type ColormapName } from "../viz/colormap.ts";
import { encodePng, readImage } from "../viz/image-io-node.ts";
import { encodeNpy } from "../viz/npy.ts";
import { blend, enlarge, heatmap, type RgbImage, toRgb } from "../viz/overlay.ts";
import {
  type CommandSpec,
  choiceFlag,
  didYouMean,
  type FlagSpec,
  flag,
  intFlag,
  type NumberRule,
  numberFlag,
  numFlag,
  parseFlags,
  UsageError,
} from "./args.ts";
import { ARCHS, type ResolvedModel, resolveModel } from "./attribute-models.ts";
import { chooseCamLayer } from "./layers.ts";
import { outPrefix, writeOutputs } from "./output-set.ts";

/** Largest --zoom: a 28x28 input becomes 1792x1792. */
export const MAX_ZOOM = 64;

const SIGNS = ["positive", "negative", "absolute", "all"] as const;

/** Flags shared by attribute and gallery: model, image, target and rendering. */
export const COMMON_FLAGS: Record<string, FlagSpec> = {
  model: {
    value: "M",
    required: true,
    help: "fashion-cnn | file.onnx | a weights file with --arch",
  },
  arch: {
    value: "NAME",
    help: `architecture of a weights file (${Object.keys(ARCHS).join(", ")})`,
  },
  image: { value: "FILE", help: "the input image (PNG or JPEG)" },
  target: { value: "N", defaultText: "the predicted class", help: "class index" },
  layer: {
    value: "NAME",
    defaultText: "the architecture's; for ONNX the last map before global pooling",
    help: "layer for CAM methods (salient layers lists them)",
  },
  grid: {
    value: "HxW",
    defaultText: "inferred",
    help: "token grid of a transformer layer [N, tokens, C] for CAM methods",
  },
  preset: {
    value: PRESET_NAMES.join("|"),
    help: "those libraries' defaults and aggregation rules",
  },
  resize: {
    value: "HxW|auto",
    help: "resize the image first (otherwise a size mismatch is an error)",
  },
  mean: { value: "a,b,c", help: "normalisation mean the model expects (folded into the model)" },
  std: { value: "a,b,c", help: "normalisation std the model expects (folded into the model)" },
  channels: { value: "1|3", defaultText: "3", help: "input channels of an ONNX model" },
  "batch-size": { value: "N", help: "rows per model call (memory, not results)" },
  seed: { value: "N", default: "0", help: "seed of the random methods" },
  colormap: {
    value: "NAME",
    defaultText: "seismic for signed maps, else viridis",
    help: COLORMAPS.join(" | "),
  },
  sign: { value: "MODE", defaultText: "the method's", help: SIGNS.join(" | ") },
  "clip-percentile": {
    value: "P",
    default: "99",
    help: "colour scale clipped at this percentile of |map| (0 < P <= 100)",
  },
  vmax: { value: "F", help: "fixed colour scale instead of --clip-percentile" },
  alpha: { value: "A", default: "0.5", help: "heat map opacity in [0, 1]" },
};

/** Options of individual methods (salient methods lists which method reads which). */
export const METHOD_FLAGS: Record<string, FlagSpec> = {
  shape: {
    value: "C,H,W",
    help: "class-model: the input shape when the architecture does not fix it",
  },
  "base-method": { value: "NAME", default: "gradient", help: "smoothgrad: the method it wraps" },
  samples: {
    value: "N",
    defaultText: "smoothgrad 25; kernel-shap 25; lime 50; gradient-shap 5",
    help: "smoothgrad, kernel-shap, lime, gradient-shap: samples",
  },
  // No fixed defaults where a --preset sets its own (a default here would override the preset).
  noise: {
    value: "F",
    defaultText: "0.15",
    help: "smoothgrad: noise std relative to the input range",
  },
  variant: {
    value: "NAME",
    defaultText: "mean; --preset pair squared; extremal-perturbation preserve; igos++ igos++",
    help: "smoothgrad: mean | squared | vargrad; extremal-perturbation: preserve | delete | dual; igos++: igos++ | igos",
  },
  steps: {
    value: "N",
    defaultText: "50; blur-ig 100; xrai 100; class-model 200",
    help: "path steps / ascent steps",
  },
  quadrature: {
    value: "RULE",
    defaultText: "gausslegendre; --preset pair linspace",
    help: QUADRATURE_RULES.join(" | "),
  },
  baseline: {
    value: "B",
    default: "black",
    help: "integrated-gradients, deeplift: black | white | blur | noise | FILE.png",
  },
  baselines: {
    value: "A.png,B.png|noise:N",
    default: "noise:8",
    help: "deeplift-shap: baseline images, or N uniform-noise baselines",
  },
  composite: {
    value: "NAME",
    default: "epsilon",
    help: "lrp: epsilon | epsilon-plus | epsilon-plus-flat | epsilon-gamma-box | epsilon-alpha2-beta1 | epsilon-alpha2-beta1-flat",
  },
  epsilon: { value: "F", default: "1e-6", help: "lrp: the rules' stabiliser (0 is LRP-0)" },
  "sigma-max": { value: "F", default: "50", help: "blur-ig: largest blur" },
  window: { value: "N|HxW", default: "15", help: "occlusion: window (clipped to the image)" },
  stride: { value: "N|HxW", default: "1", help: "occlusion: stride" },
  fill: { value: "F", default: "0", help: "occlusion, feature-ablation: value of removed pixels" },
  segments: { value: "grid:N|slic:N", default: "grid:4", help: "feature-ablation: segments" },
  masks: { value: "N", default: "2000", help: "rise: random masks" },
  areas: { value: "a,b", default: "0.1", help: "extremal-perturbation: mask areas (fractions)" },
  iterations: {
    value: "N",
    defaultText: "meaningful-perturbation 300; extremal-perturbation 800; igos++ 20",
    help: "optimisation steps of the mask methods",
  },
  cells: { value: "N", default: "8", help: "rise: mask grid cells" },
  "lasso-alpha": {
    value: "F",
    default: "0.01",
    help: "lime: L1 weight of the Lasso fit (0: least squares)",
  },
  "kernel-width": {
    value: "F",
    default: "1",
    help: "lime: width of the exponential cosine kernel",
  },
  stdev: {
    value: "F",
    default: "0",
    help: "gradient-shap: std of the Gaussian noise on the input",
  },
  fraction: {
    value: "F",
    default: "0.25",
    help: "guided-ig: share of features moved per iteration",
  },
  "max-dist": {
    value: "F",
    default: "0.02",
    help: "guided-ig: largest lag behind the path fraction",
  },
  "area-threshold": {
    value: "F",
    default: "1",
    help: "xrai: stop ranking regions once this share of the image is covered",
  },
  lr: { value: "F", default: "1", help: "class-model: step size" },
  l2: { value: "F", default: "0.01", help: "class-model: L2 penalty" },
};

/** Ranges of every numeric flag, checked before any model is loaded. */
export const NUMBER_RULES: Record<string, NumberRule> = {
  target: { integer: true, min: 0 },
  channels: { integer: true, min: 1, max: 3 },
  "batch-size": { integer: true, min: 1, max: 1 << 20 },
  seed: { integer: true, min: 0 },
  "clip-percentile": { min: 0, minExclusive: true, max: 100 },
  vmax: { min: 0, minExclusive: true },
  alpha: { min: 0, max: 1 },
  zoom: { integer: true, min: 1, max: MAX_ZOOM },
  samples: { integer: true, min: 1, max: 100000 },
  noise: { min: 0 },
  steps: { integer: true, min: 0, max: 100000 },
  "sigma-max": { min: 0, minExclusive: true },
  fill: {},
  masks: { integer: true, min: 1, max: 1000000 },
  iterations: { integer: true, min: 0, max: 1000000 },
  cells: { integer: true, min: 1, max: 1024 },
  "area-threshold": { min: 0, max: 1 },
  "lasso-alpha": { min: 0 },
  "kernel-width": { min: 0, minExclusive: true },
  stdev: { min: 0 },
  fraction: { min: 0, max: 1 },
  "max-dist": { min: 0, max: 1 },
  lr: { min: 0, minExclusive: true },
  l2: { min: 0 },
  epsilon: { min: 0 },
};

export const ATTRIBUTE_SPEC: CommandSpec = {
  name: "attribute",
  summary: "one attribution map for one image: PREFIX.npy (float32 map) and PREFIX.png (overlay)",
  synopsis: "--model M --image FILE --method NAME [--target N] [options] --out PREFIX",
  flags: {
    ...COMMON_FLAGS,
    method: { value: "NAME", required: true, help: "the attribution method (salient methods)" },
    out: {
      value: "PREFIX",
      required: true,
      help: "writes PREFIX.npy and PREFIX.png; a trailing .npy/.png is dropped",
    },
    zoom: { value: "N", default: "1", help: `enlarge the PNG N times (1 to ${MAX_ZOOM})` },
    ...METHOD_FLAGS,
  },
  notes: "prints a JSON summary line last, with the files written. Methods: salient methods",
};

type Values = Record<string, string | undefined>;

/** Every flag's value checked (numbers, words, formats) before any model is loaded. */
export function checkFlags(v: Values): void {
  for (const [name, rule] of Object.entries(NUMBER_RULES)) numberFlag(name, v[name], rule);
  choiceFlag("sign", v.sign, SIGNS, "all");
  choiceFlag("colormap", v.colormap, COLORMAPS, COLORMAPS[0]);
  checkMethodOptions((name) => v[name]);
  if (v.resize !== undefined && v.resize !== "auto") parseSize(v.resize, "resize");
  if (v.preset !== undefined) choiceFlag("preset", v.preset, PRESET_NAMES, "captum");
  for (const name of ["mean", "std"])
    for (const part of v[name]?.split(",") ?? []) numberFlag(name, part.trim(), {});
  if (v.std?.split(",").some((p) => Number(p) === 0))
    throw new UsageError(`--std values must be non-zero, got "${v.std}"`);
}

export interface Prepared {
  values: Values;
  resolved: ResolvedModel;
  model: Model;
  /** [1, C, H, W] in [0, 1], kept. */
  x: Tensor;
  image: Float32Array | null;
  target: number;
  score: number;
  classes: number;
}

function list(name: string, v: string | undefined, channels: number): number[] | null {
  if (v === undefined) return null;
  const parts = v.split(",").map((p) => numFlag(name, p.trim(), 0));
  if (parts.length === 1) return new Array(channels).fill(parts[0]);
  if (parts.length !== channels)
    throw new Error(
      `${flag(name)} needs 1 or ${channels} values (one per channel), got ${parts.length}`,
    );
  return parts;
}

function parseSize(v: string, name: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new UsageError(`${flag(name)} must be HxW (e.g. 28x28), got "${v}"`);
  const side = { integer: true, min: 1, max: 16384 };
  return [numberFlag(name, m[1], side), numberFlag(name, m[2], side)];
}

/** The model with the normalisation folded in: f(x) = net((x - mean) / std). */
function wrapModel(r: ResolvedModel, mean: number[] | null, std: number[] | null): Model {
  const c = r.channels;
  if (std?.some((s) => s === 0)) throw new Error("--std values must be non-zero");
  const m = mean ? keep(tensor(mean, [1, c, 1, 1])) : null;
  const s = std ? keep(tensor(std, [1, c, 1, 1])) : null;
  return (x) => {
    let v = x;
    if (m) v = sub(v, m);
    if (s) v = div(v, s);
    return r.module.call(v);
  };
}

export async function prepare(values: Values, method: MethodEntry | null): Promise<Prepared> {
  const resolved = resolveModel(
    values.model!,
    values.arch,
    values.channels === undefined ? undefined : intFlag("channels", values.channels, 1),
  );
  const c = resolved.channels;
  if (c !== 1 && c !== 3)
    throw new Error(`the model takes ${c} channels; images can feed 1 (grey) or 3 (RGB)`);
  let x: Tensor;
  let image: Float32Array | null = null;
  if (method?.noImage) {
    if (values.image) throw new Error("class-model starts from a black image; drop --image");
    const size = values.shape
      ? values.shape.split(",").map((d) => intFlag("shape", d, 1))
      : resolved.size
        ? [c, ...resolved.size]
        : null;
    if (size?.length !== 3)
      throw new Error(
        "class-model needs the input shape: --shape C,H,W (the architecture does not fix it)",
      );
    x = keep(zeros([1, ...size]));
  } else {
    if (!values.image)
      throw new UsageError("--image is required for this method; see salient attribute --help");
    const img = readImage(values.image, c === 1 ? 1 : 3);
    let t = tensor(img.data, [1, c, img.height, img.width]);
    if (values.resize !== undefined) {
      const size = values.resize === "auto" ? resolved.size : parseSize(values.resize, "resize");
      if (!size)
        throw new Error(
          "--resize auto needs an architecture with a fixed input size; give --resize HxW",
        );
      const r = tidy(() => resize(t, size, { mode: "antialias-bilinear" }));
      if (r !== t) t.dispose();
      t = r;
    }
    const [, , h, w] = t.shape;
    if (resolved.size && (resolved.size[0] !== h || resolved.size[1] !== w)) {
      t.dispose();
      throw new Error(
        `the image "${values.image}" is ${h}x${w} (HxW) but ${resolved.name} expects ${resolved.size[0]}x${resolved.size[1]}; pass --resize auto (or --resize ${resolved.size[0]}x${resolved.size[1]})`,
      );
    }
    x = keep(t);
    image = Float32Array.from(await x.data());
  }
  const model = wrapModel(resolved, list("mean", values.mean, c), list("std", values.std, c));
  let logits: Float32Array;
  try {
    const out = tidy(() => {
      const y = model(x);
      return keep(reshape(y, [y.shape[0], -1]));
    });
    logits = Float32Array.from(await out.data());
    out.dispose();
  } catch (e) {
    throw new Error(`the model failed on the input [${x.shape}]: ${(e as Error).message}`);
  }
  for (const v of logits)
    if (!Number.isFinite(v)) throw new Error(`the model output contains ${v} for this input`);
  const classes = logits.length;
  let target = 0;
  for (let k = 1; k < classes; k++) if (logits[k] > logits[target]) target = k;
  if (values.target !== undefined) {
    target = intFlag("target", values.target, 0, 0);
    if (target >= classes)
      throw new Error(
        `--target ${target} is out of range: the model has ${classes} outputs (0..${classes - 1})`,
      );
  }
  return { values, resolved, model, x, image, target, score: logits[target], classes };
}

export async function attributeWith(
  p: Prepared,
  name: string,
  log: (line: string) => void = () => {},
): Promise<{ result: Attribution<Record<string, unknown>>; seconds: number }> {
  const entry = METHODS[name];
  if (!entry)
    throw new Error(
      `unknown method "${name}" (known: ${Object.keys(METHODS).join(", ")}); see salient methods`,
    );
  const v = p.values;
  const t0 = performance.now();
  const result = await entry.run({
    model: p.model,
    x: p.x,
    target: p.target,
    opt: (k) => v[k as keyof Values],
    preset: v.preset ? preset(v.preset) : null,
    module: p.resolved.module,
    layer: () => {
      let l = v.layer ?? p.resolved.camLayer;
      if (!l) {
        const chosen = chooseCamLayer(p.resolved.module, p.x);
        if (chosen) {
          log(chosen.message);
          l = p.resolved.camLayer = chosen.layer;
        }
      }
      if (!l)
        throw new Error(
          `${name} needs --layer NAME (layers: ${p.resolved.layers.slice(0, 20).join(", ")})`,
        );
      if (
        p.resolved.layers.length &&
        !p.resolved.layers.includes(l) &&
        !v.model?.endsWith(".onnx")
      ) {
        throw new Error(
          `--layer "${l}" is not a layer of ${p.resolved.name} (layers: ${p.resolved.layers.join(", ")})`,
        );
      }
      return l;
    },
    readBaseline: (path) => {
      const [, c, h, w] = p.x.shape;
      const img = readImage(path, c === 1 ? 1 : 3);
      if (img.height !== h || img.width !== w)
        throw new Error(
          `--baseline image "${path}" is ${img.height}x${img.width}; the input is ${h}x${w}`,
        );
      return tensor(img.data, [1, c, h, w]);
    },
    batchSize:
      v["batch-size"] === undefined ? undefined : intFlag("batch-size", v["batch-size"], 1),
    seed: intFlag("seed", v.seed, 0, 0),
  });
  return { result, seconds: (performance.now() - t0) / 1000 };
}

/** A method's map copied to the host (the tensor disposed), with its delta and the time taken. */
export interface HostAttribution {
  map: Float32Array;
  shape: number[];
  delta?: number[];
  seconds: number;
}

/** {@link attributeWith}, with the map read back to the host and its tensor disposed. */
export async function attributeOnHost(
  p: Prepared,
  name: string,
  log: (line: string) => void = () => {},
): Promise<HostAttribution> {
  const { result, seconds } = await attributeWith(p, name, log);
  try {
    const map = Float32Array.from(await result.map.data());
    return { map, shape: [...result.map.shape], delta: result.delta, seconds };
  } finally {
    result.map.dispose();
  }
}

/** The overlay (or, for class-model, the synthesised image itself). */
export function render(
  p: Prepared,
  entry: MethodEntry,
  map: Float32Array,
  mapShape: readonly number[],
): RgbImage {
  const [, c, h, w] = p.x.shape;
  const v = p.values;
  const zoom = intFlag("zoom", v.zoom, 1);
  if (entry.noImage) return enlarge(toRgb(map, c, h, w), zoom);
  const sign = (v.sign ?? entry.sign) as "positive" | "negative" | "absolute" | "all";
  const colormap = v.colormap as ColormapName | undefined;
  const heat = heatmap(map, mapShape[1], h, w, {
    sign,
    colormap,
    clipPercentile: numFlag("clip-percentile", v["clip-percentile"], 99),
    vmax: v.vmax === undefined ? undefined : numFlag("vmax", v.vmax, 1),
  });
  const base = toRgb(p.image!, c, h, w);
  return enlarge(blend(base, heat, numFlag("alpha", v.alpha, 0.5)), zoom);
}

/** The registry entry of --method NAME, or a UsageError listing the methods (with a suggestion). */
export function methodEntry(name: string): MethodEntry {
  const entry = METHODS[name];
  if (!entry)
    throw new UsageError(
      `unknown method "${name}"${didYouMean(name, Object.keys(METHODS), (s) => `"${s}"`)} (known: ${Object.keys(METHODS).join(", ")}; see salient methods)`,
    );
  return entry;
}

export interface AttributeSummary {
  method: string;
  model: string;
  target: number;
  score: number;
  delta?: number;
  time_s: number;
  shape: number[];
  npy: string;
  png: string;
  files: string[];
}

export async function runAttribute(
  args: string[],
  log: (line: string) => void,
): Promise<AttributeSummary> {
  const values = parseFlags(ATTRIBUTE_SPEC, args);
  const method = values.method!;
  const entry = methodEntry(method);
  checkFlags(values);
  const prefix = outPrefix(values.out!, [".npy", ".png"]);
  const p = await prepare(values, entry);
  try {
    const { map, shape, delta, seconds } = await attributeOnHost(p, method, log);
    const png = encodePng(render(p, entry, map, shape));
    const npy = encodeNpy(map, shape);
    const files = writeOutputs([
      [`${prefix}.npy`, npy],
      [`${prefix}.png`, png],
    ]);
    const summary: AttributeSummary = {
      method,
      model: p.resolved.name,
      target: p.target,
      score: p.score,
      ...(delta ? { delta: delta[0] } : {}),
      time_s: Math.round(seconds * 1000) / 1000,
      shape,
      npy: files[0],
      png: files[1],
      files,
    };
    log(JSON.stringify(summary));
    return summary;
  } finally {
    p.x.dispose();
  }
}

/** `salient methods`: every method with its options. */
export function methodsText(): string {
  const lines = ["methods (salient attribute --method NAME):"];
  const width = Math.max(...Object.keys(METHODS).map((n) => n.length)) + 2;
  for (const [name, m] of Object.entries(METHODS)) {
    lines.push(`  ${name.padEnd(width)}${m.summary}`);
    for (const o of m.options) lines.push(`  ${"".padEnd(width + 2)}${optionText(o)}`);
  }
  lines.push(
    `presets: --preset ${PRESET_NAMES.join(" | ")} (those libraries' defaults and aggregation rules)`,
  );
  return `${lines.join("\n")}\n`;
}
