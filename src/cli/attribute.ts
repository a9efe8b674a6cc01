/**
 * `salient attribute`: one attribution map for one image, written as PREFIX.npy (float32, NumPy
 * .npy 1.0; the input's shape [1, C, H, W], or [1, 1, H, W] for layer maps upsampled bilinearly)
 * and PREFIX.png (the map over the image), then a one-line JSON summary. `salient gallery` runs
 * several methods on the same input and target and writes them side by side (PNG and HTML).
 * Normalisation (--mean/--std) is folded into the model, so maps and baselines live in [0, 1]
 * image space.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { preset } from "../attribution/presets.ts";
import type { Attribution, Model } from "../attribution/types.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { keep, tidy } from "../autodiff/tidy.ts";
import { div, sub } from "../ops/binary.ts";
import { tensor } from "../ops/creation.ts";
import { reshape } from "../ops/reshape.ts";
import { resize } from "../ops/resize.ts";
import { COLORMAPS, type ColormapName } from "../viz/colormap.ts";
import { galleryHtml, galleryStrip } from "../viz/gallery.ts";
import { encodePng, readImage } from "../viz/image-io-node.ts";
import { encodeNpy } from "../viz/npy.ts";
import { blend, enlarge, heatmap, type RgbImage, toRgb } from "../viz/overlay.ts";
import { blackImage, int, METHODS, type MethodEntry, num } from "./attribute-methods.ts";
import { type ResolvedModel, resolveModel } from "./attribute-models.ts";

const OPTIONS = {
  model: { type: "string" },
  arch: { type: "string" },
  image: { type: "string" },
  method: { type: "string" },
  methods: { type: "string" },
  target: { type: "string" },
  layer: { type: "string" },
  out: { type: "string" },
  preset: { type: "string" },
  resize: { type: "string" },
  mean: { type: "string" },
  std: { type: "string" },
  channels: { type: "string" },
  shape: { type: "string" },
  "base-method": { type: "string" },
  samples: { type: "string" },
  noise: { type: "string" },
  variant: { type: "string" },
  steps: { type: "string" },
  quadrature: { type: "string" },
  baseline: { type: "string" },
  "sigma-max": { type: "string" },
  window: { type: "string" },
  stride: { type: "string" },
  fill: { type: "string" },
  segments: { type: "string" },
  masks: { type: "string" },
  cells: { type: "string" },
  lr: { type: "string" },
  l2: { type: "string" },
  "batch-size": { type: "string" },
  seed: { type: "string" },
  colormap: { type: "string" },
  sign: { type: "string" },
  "clip-percentile": { type: "string" },
  vmax: { type: "string" },
  alpha: { type: "string" },
  zoom: { type: "string" },
} as const;

type Values = Partial<Record<keyof typeof OPTIONS, string>>;

export const ATTRIBUTE_USAGE = `usage: salient attribute --model <bundled name | file.onnx | weights --arch NAME> --image <png|jpg>
                         --method NAME [--target N] [options] --out PREFIX
  writes PREFIX.npy (float32 map) and PREFIX.png (overlay); prints a JSON summary line last.
  --target N        class index (default: the predicted class)
  --layer NAME      layer for CAM methods (default: the architecture's)
  --preset captum|pair   those libraries' defaults
  --resize HxW|auto resize the image (default: never; a size mismatch is an error)
  --mean a,b,c --std a,b,c   normalisation the model expects (folded into the model)
  --channels 1|3    input channels of an ONNX model (default 3); --shape C,H,W for class-model
  --colormap ${COLORMAPS.join("|")}  --sign positive|negative|absolute|all
  --clip-percentile P (99) or --vmax F (fixed scale)  --alpha A (0.5)  --zoom N (1)
  --batch-size N  --seed N (0)
  methods: salient methods
       salient gallery ... --methods a,b,c --out PREFIX   (several methods side by side)`;

interface Prepared {
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

function parse(args: string[]): Values {
  try {
    return parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false })
      .values as Values;
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${ATTRIBUTE_USAGE}`);
  }
}

function list(name: string, v: string | undefined, channels: number): number[] | null {
  if (v === undefined) return null;
  const parts = v.split(",").map((p) => num(name, p.trim(), 0));
  if (parts.length === 1) return new Array(channels).fill(parts[0]);
  if (parts.length !== channels)
    throw new Error(
      `--${name} needs 1 or ${channels} values (one per channel), got ${parts.length}`,
    );
  return parts;
}

function parseSize(v: string, what: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new Error(`${what} must be HxW (e.g. 28x28), got "${v}"`);
  return [int(what, m[1], 1), int(what, m[2], 1)];
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

async function prepare(values: Values, method: MethodEntry | null): Promise<Prepared> {
  if (!values.model) throw new Error(`--model is required\n${ATTRIBUTE_USAGE}`);
  const resolved = resolveModel(
    values.model,
    values.arch,
    values.channels === undefined ? undefined : int("channels", values.channels, 1),
  );
  const c = resolved.channels;
  if (c !== 1 && c !== 3)
    throw new Error(`the model takes ${c} channels; images can feed 1 (grey) or 3 (RGB)`);
  let x: Tensor;
  let image: Float32Array | null = null;
  if (method?.noImage) {
    if (values.image) throw new Error("class-model starts from a black image; drop --image");
    const size = values.shape
      ? values.shape.split(",").map((d) => int("shape", d, 1))
      : resolved.size
        ? [c, ...resolved.size]
        : null;
    if (size?.length !== 3)
      throw new Error(
        "class-model needs the input shape: --shape C,H,W (the architecture does not fix it)",
      );
    x = keep(blackImage([1, ...size]));
  } else {
    if (!values.image) throw new Error(`--image is required for this method\n${ATTRIBUTE_USAGE}`);
    const img = readImage(values.image, c === 1 ? 1 : 3);
    let t = tensor(img.data, [1, c, img.height, img.width]);
    if (values.resize !== undefined) {
      const size = values.resize === "auto" ? resolved.size : parseSize(values.resize, "--resize");
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
    target = int("target", values.target, 0, 0);
    if (target >= classes)
      throw new Error(
        `--target ${target} is out of range: the model has ${classes} outputs (0..${classes - 1})`,
      );
  }
  return { values, resolved, model, x, image, target, score: logits[target], classes };
}

async function attributeWith(
  p: Prepared,
  name: string,
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
    layer: () => {
      const l = v.layer ?? p.resolved.camLayer;
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
    batchSize: v["batch-size"] === undefined ? undefined : int("batch-size", v["batch-size"], 1),
    seed: int("seed", v.seed, 0, 0),
  });
  return { result, seconds: (performance.now() - t0) / 1000 };
}

/** The overlay (or, for class-model, the synthesised image itself). */
function render(
  p: Prepared,
  entry: MethodEntry,
  map: Float32Array,
  mapShape: readonly number[],
): RgbImage {
  const [, c, h, w] = p.x.shape;
  const v = p.values;
  const zoom = int("zoom", v.zoom, 1);
  if (entry.noImage) return enlarge(toRgb(map, c, h, w), zoom);
  const sign = (v.sign ?? entry.sign) as "positive" | "negative" | "absolute" | "all";
  const colormap = v.colormap as ColormapName | undefined;
  const heat = heatmap(map, mapShape[1], h, w, {
    sign,
    colormap,
    clipPercentile: num("clip-percentile", v["clip-percentile"], 99),
    vmax: v.vmax === undefined ? undefined : num("vmax", v.vmax, 1),
  });
  const base = toRgb(p.image!, c, h, w);
  return enlarge(blend(base, heat, num("alpha", v.alpha, 0.5)), zoom);
}

/** Rendering flags are checked before any model work. */
function checkRenderFlags(v: Values): void {
  if (v.sign !== undefined && !["positive", "negative", "absolute", "all"].includes(v.sign)) {
    throw new Error(`--sign must be positive, negative, absolute or all, got "${v.sign}"`);
  }
  if (v.colormap !== undefined && !COLORMAPS.includes(v.colormap as ColormapName)) {
    throw new Error(`--colormap must be one of ${COLORMAPS.join(", ")}, got "${v.colormap}"`);
  }
  num("clip-percentile", v["clip-percentile"], 99);
  if (v.vmax !== undefined && !(num("vmax", v.vmax, 1) > 0))
    throw new Error("--vmax must be positive");
  const a = num("alpha", v.alpha, 0.5);
  if (!(a >= 0 && a <= 1)) throw new Error(`--alpha must be in [0, 1], got ${a}`);
  int("zoom", v.zoom, 1);
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
}

export async function runAttribute(
  args: string[],
  log: (line: string) => void,
): Promise<AttributeSummary> {
  const values = parse(args);
  if (!values.method)
    throw new Error(`--method is required (see salient methods)\n${ATTRIBUTE_USAGE}`);
  if (!values.out) throw new Error(`--out PREFIX is required\n${ATTRIBUTE_USAGE}`);
  checkRenderFlags(values);
  const entry = METHODS[values.method];
  if (!entry)
    throw new Error(
      `unknown method "${values.method}" (known: ${Object.keys(METHODS).join(", ")}); see salient methods`,
    );
  const p = await prepare(values, entry);
  try {
    const { result, seconds } = await attributeWith(p, values.method);
    const map = Float32Array.from(await result.map.data());
    const shape = [...result.map.shape];
    result.map.dispose();
    const png = encodePng(render(p, entry, map, shape));
    const npy = encodeNpy(map, shape);
    // Everything is computed before anything is written.
    writeFileSync(`${values.out}.npy`, npy);
    writeFileSync(`${values.out}.png`, png);
    const summary: AttributeSummary = {
      method: values.method,
      model: p.resolved.name,
      target: p.target,
      score: p.score,
      ...(result.delta ? { delta: result.delta[0] } : {}),
      time_s: Math.round(seconds * 1000) / 1000,
      shape,
      npy: `${values.out}.npy`,
      png: `${values.out}.png`,
    };
    log(JSON.stringify(summary));
    return summary;
  } finally {
    p.x.dispose();
  }
}

export async function runGallery(args: string[], log: (line: string) => void): Promise<void> {
  const values = parse(args);
  if (!values.out) throw new Error(`--out PREFIX is required\n${ATTRIBUTE_USAGE}`);
  checkRenderFlags(values);
  const names = (values.methods ?? "gradient,integrated-gradients,smoothgrad,gradcam,occlusion")
    .split(",")
    .map((s) => s.trim());
  for (const n of names) {
    if (!METHODS[n] || METHODS[n].noImage)
      throw new Error(
        `--methods: "${n}" is not an image method (known: ${Object.keys(METHODS)
          .filter((k) => !METHODS[k].noImage)
          .join(", ")})`,
      );
  }
  const p = await prepare(values, null);
  try {
    const [, c, h, w] = p.x.shape;
    const zoom = int("zoom", values.zoom, Math.max(1, Math.floor(160 / Math.max(h, w))));
    const panels = [
      {
        title: `input (target ${p.target}, logit ${p.score.toFixed(3)})`,
        image: enlarge(toRgb(p.image!, c, h, w), zoom),
        note: "",
      },
    ];
    for (const n of names) {
      const { result, seconds } = await attributeWith(p, n);
      const map = Float32Array.from(await result.map.data());
      const img = render(
        { ...p, values: { ...values, zoom: String(zoom) } },
        METHODS[n],
        map,
        result.map.shape,
      );
      result.map.dispose();
      const delta = result.delta ? `, delta ${result.delta[0].toExponential(2)}` : "";
      panels.push({ title: n, image: img, note: `${seconds.toFixed(2)} s${delta}` });
    }
    writeFileSync(`${values.out}.png`, encodePng(galleryStrip(panels)));
    const html = galleryHtml(
      `salient: ${p.resolved.name}, target ${p.target}`,
      panels.map((q) => ({ title: q.title, png: encodePng(q.image), note: q.note })),
      1,
    );
    writeFileSync(`${values.out}.html`, html);
    log(
      JSON.stringify({
        methods: names,
        target: p.target,
        score: p.score,
        png: `${values.out}.png`,
        html: `${values.out}.html`,
      }),
    );
  } finally {
    p.x.dispose();
  }
}

/** `salient methods`: every method with its options. */
export function methodsText(): string {
  const lines = ["methods (salient attribute --method NAME):"];
  for (const [name, m] of Object.entries(METHODS)) {
    lines.push(`  ${name.padEnd(22)}${m.summary}`);
    for (const o of m.options) lines.push(`  ${"".padEnd(24)}${o}`);
  }
  lines.push("presets: --preset captum | pair (those libraries' defaults and aggregation rules)");
  return `${lines.join("\n")}\n`;
}
