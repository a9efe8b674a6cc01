/**
 * `salient run`: one forward pass of a model on .npy or image inputs. Each output is written as
 * PREFIX_<i>.npy (float32, NumPy .npy 1.0) and a JSON line last names the outputs and their
 * shapes. Models: the bundled ones by name, an ONNX file, or a weights file with --arch. Images
 * become [1, C, H, W] in the layout and value range the model expects; .npy inputs go in as they
 * are, after a shape check against what the model declares.
 */
import { existsSync, readFileSync } from "node:fs";
import { multiFashionClassifierWeights } from "../attribution/explainer/bundled.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { tidy } from "../autodiff/tidy.ts";
import { multiLabelCnnFrom } from "../models/classifiers/multi-label-cnn.ts";
import { loadWeightsIntoModule } from "../models/io/load-weights.ts";
import { loadOnnx } from "../models/io/onnx/model.ts";
import { parseModel } from "../models/io/onnx/proto.ts";
import { readSafetensors } from "../models/io/safetensors.ts";
import { UPSCALER_PACKAGES, type UpscalerPackage } from "../models/io/tfjs/node.ts";
import type { Module } from "../models/nn/module.ts";
import { ARCHITECTURES, createArchitecture } from "../models/registry.ts";
import { loadFsrcnnX2 } from "../models/zoo/fsrcnn-pretrained.ts";
import { rgbToYcbcr } from "../models/zoo/fsrcnn-rgb.ts";
import { mul } from "../ops/binary.ts";
import { tensor } from "../ops/creation.ts";
import { slice } from "../ops/slice.ts";
import { readImage } from "../viz/image-io-node.ts";
import { decodeNpy, encodeNpy } from "../viz/npy.ts";
import { type CommandSpec, numberFlag, parseFlagLists } from "./args.ts";
import { ARCHS, BUNDLED, type ResolvedModel, resolveModel } from "./attribute-models.ts";
import { inChannels } from "./models-list.ts";
import { OutputSet, outPrefix } from "./output-set.ts";
import { loadUpscalerAt, PACKAGE_RANGE } from "./sr-models.ts";

/** A fixed size per axis, or the name of a free axis (N, H, W, or the ONNX dim_param). */
export type Dim = number | string;

export interface RunInput {
  name: string;
  /** The shape the model expects; null when it declares none. */
  shape: Dim[] | null;
  /** An image file as this input: [1, C, H, W] in the model's layout and value range. */
  fromImage(path: string): Tensor;
}

export interface RunnableModel {
  name: string;
  parameters: number;
  inputs: RunInput[];
  outputNames: string[];
  run(xs: Tensor[]): Tensor[];
}

const RUN_BUNDLED = [
  ...Object.keys(BUNDLED),
  "multi-fashion",
  "fsrcnn-x2",
  ...UPSCALER_PACKAGES,
] as const;

export const RUN_SPEC: CommandSpec = {
  name: "run",
  summary: "one forward pass of a model; each output is written as PREFIX_<i>.npy (float32)",
  synopsis: "--model M --input x.npy|img.png [--input ...] --out PREFIX [--scale N] [--range R]",
  flags: {
    model: {
      value: "M",
      required: true,
      help: `${RUN_BUNDLED.join(" | ")} | file.onnx | a weights file with --arch`,
    },
    arch: { value: "NAME", help: "architecture of a weights file (salient models)" },
    input: {
      value: "FILE",
      multiple: true,
      required: true,
      help: "one per model input: .npy (float32, as it is) or an image (converted to [1, C, H, W] in the model's range)",
    },
    out: {
      value: "PREFIX",
      required: true,
      help: "writes PREFIX_0.npy, PREFIX_1.npy, ... (one per output); a trailing .npy is dropped",
    },
    scale: {
      value: "N",
      defaultText: "2 for default-model, else 4",
      help: "SR scale of the UpscalerJS packages and zoo architectures",
    },
    range: { value: "R", default: "1", help: "value range of an ONNX model's image input" },
  },
  notes: "prints a JSON line last with the output names, shapes and files.",
};

const describeShape = (s: readonly Dim[]) => `[${s.join(", ")}]`;

function readBytes(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`cannot read ${what} "${path}": ${(e as Error).message}`);
  }
}

/** An image input of `channels` planes scaled to [0, range]. */
function imageInput(name: string, channels: 1 | 3, range: number, size?: [number, number]) {
  return {
    name,
    shape: ["N", channels, ...(size ?? ["H", "W"])],
    fromImage(path: string): Tensor {
      const img = readImage(path, channels);
      return tidy(() => {
        const x = tensor(img.data, [1, channels, img.height, img.width]);
        return range === 1 ? x : mul(x, range);
      });
    },
  };
}

function moduleModel(name: string, m: Module, input: RunInput): RunnableModel {
  return {
    name,
    parameters: m.parameterCount(),
    inputs: [input],
    outputNames: ["output"],
    run: (xs) => [m.call(xs[0])],
  };
}

const fromResolved = (r: ResolvedModel) =>
  moduleModel(r.name, r.module, imageInput("x", r.channels === 1 ? 1 : 3, 1, r.size ?? undefined));

function onnxModel(path: string, range: number): RunnableModel {
  const bytes = readBytes(path, "ONNX model");
  const net = loadOnnx(bytes, { name: path });
  // The importer does not keep the declared input shapes; read them from the graph.
  const declared = new Map(
    (parseModel(bytes, path).graph?.input ?? []).map((v) => [
      v.name ?? "",
      v.type?.tensorType?.shape ?? null,
    ]),
  );
  return {
    name: path,
    parameters: net.parameterCount(),
    inputs: net.inputNames.map((n) => {
      const shape = declared.get(n) ?? null;
      const c = shape?.[1] === 1 ? 1 : 3;
      return { ...imageInput(n, c, range), shape };
    }),
    outputNames: net.outputNames,
    run: (xs) => {
      const out = net.run(xs);
      return net.outputNames.map((n) => out[n]);
    },
  };
}

function archModel(path: string, arch: string, scale: number): RunnableModel {
  if (Object.hasOwn(ARCHS, arch)) return fromResolved(resolveModel(path, arch, undefined));
  if (!Object.hasOwn(ARCHITECTURES, arch)) {
    const known = [...new Set([...Object.keys(ARCHS), ...Object.keys(ARCHITECTURES)])];
    throw new Error(`--arch: unknown architecture "${arch}" (known: ${known.join(", ")})`);
  }
  const bytes = readBytes(path, "weights file");
  const m = createArchitecture(arch, scale);
  loadWeightsIntoModule(m, bytes, path);
  m.eval();
  const range = ARCHITECTURES[arch].range[1];
  return moduleModel(`${arch} (${path})`, m, imageInput("x", inChannels(m) === 1 ? 1 : 3, range));
}

export interface RunModelSpec {
  model: string;
  arch?: string;
  /** SR scale (UpscalerJS packages, zoo architectures). */
  scale?: number;
  /** Value range of an ONNX model's image inputs. */
  range?: number;
}

/** --model NAME | FILE.onnx | WEIGHTS with --arch NAME, as something `run` can feed. */
function resolveRunnable(spec: RunModelSpec): RunnableModel {
  const { model, arch } = spec;
  if (arch !== undefined) return archModel(model, arch, spec.scale ?? 4);
  if (Object.hasOwn(BUNDLED, model)) return fromResolved(resolveModel(model, undefined, undefined));
  if (model === "multi-fashion") {
    const net = multiLabelCnnFrom(
      readSafetensors(multiFashionClassifierWeights(), "multi-fashion classifier.safetensors"),
    );
    return moduleModel("multi-fashion classifier", net, imageInput("x", 1, 1));
  }
  if (model === "fsrcnn-x2") {
    // Trained on luminance: an image becomes its BT.601 Y plane, as in training.
    const y = (path: string) =>
      tidy(() => {
        const rgb = imageInput("x", 3, 1).fromImage(path);
        const [, , h, w] = rgb.shape;
        return slice(rgbToYcbcr(rgb), [0, 0, 0, 0], [1, 1, h, w]);
      });
    return moduleModel("fsrcnn-x2", loadFsrcnnX2(), { ...imageInput("x", 1, 1), fromImage: y });
  }
  if ((UPSCALER_PACKAGES as readonly string[]).includes(model)) {
    const pkg = model as UpscalerPackage;
    const scale = spec.scale ?? (pkg === "default-model" ? 2 : 4);
    const m = loadUpscalerAt(pkg, scale);
    return moduleModel(`${pkg} x${scale}`, m, imageInput("x", 3, PACKAGE_RANGE[pkg]));
  }
  if (/\.onnx$/i.test(model)) return onnxModel(model, spec.range ?? 1);
  if (!existsSync(model)) {
    throw new Error(
      `--model "${model}" is neither a bundled model (${RUN_BUNDLED.join(", ")}) nor an existing file`,
    );
  }
  throw new Error(
    `--model "${model}" is a weights file: name its architecture with --arch (${Object.keys(ARCHITECTURES).join(", ")})`,
  );
}

/** Throws unless `shape` fits `want` (fixed axes equal, same rank). */
export function checkShape(shape: readonly number[], want: Dim[] | null, what: string): void {
  if (!want) return;
  const ok =
    shape.length === want.length && want.every((d, i) => typeof d !== "number" || d === shape[i]);
  if (!ok)
    throw new Error(
      `${what} has shape ${describeShape(shape)}, the model expects ${describeShape(want)}`,
    );
}

const isNpy = (path: string, bytes: Uint8Array) =>
  /\.npy$/i.test(path) || (bytes[0] === 0x93 && bytes[1] === 0x4e);

/** Reads one --input (.npy as is, an image through the model's conversion) and checks it. */
function readInput(path: string, input: RunInput, index: number): Tensor {
  const what = `input ${index + 1} ("${input.name}", ${path})`;
  const bytes = readBytes(path, `input ${index + 1}`);
  let x: Tensor;
  if (isNpy(path, bytes)) {
    const { shape, values } = decodeNpy(bytes, path);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new Error(`${what}: element ${bad} is ${values[bad]}; inputs must be finite`);
    x = tensor(values, shape);
  } else x = input.fromImage(path);
  try {
    checkShape(x.shape, input.shape, what);
  } catch (e) {
    x.dispose();
    throw e;
  }
  return x;
}

export interface RunSummary {
  model: string;
  parameters: number;
  inputs: { name: string; shape: number[]; file: string }[];
  outputs: { name: string; shape: number[]; file: string }[];
  files: string[];
  ms: number;
}

export async function runModel(args: string[], log: (line: string) => void): Promise<RunSummary> {
  const { values: v, lists } = parseFlagLists(RUN_SPEC, args);
  const scale = numberFlag("scale", v.scale, { integer: true, min: 1, max: 16 });
  const range = numberFlag("range", v.range, { min: 0, minExclusive: true });
  const prefix = outPrefix(v.out!, [".npy"]);
  const inputs = lists.input;
  const model = resolveRunnable({ model: v.model!, arch: v.arch, scale, range });
  if (inputs.length !== model.inputs.length) {
    throw new Error(
      `${model.name} takes ${model.inputs.length} input(s) (${model.inputs.map((i) => `"${i.name}" ${i.shape ? describeShape(i.shape) : ""}`.trim()).join(", ")}), got ${inputs.length} --input`,
    );
  }
  const xs: Tensor[] = [];
  try {
    inputs.forEach((p, i) => xs.push(readInput(p, model.inputs[i], i)));
    const t0 = performance.now();
    let ys: Tensor[];
    try {
      ys = tidy(() => model.run(xs));
    } catch (e) {
      throw new Error(
        `${model.name} failed on input(s) ${xs.map((x) => `[${x.shape}]`).join(", ")}: ${(e as Error).message}`,
      );
    }
    const outputs: RunSummary["outputs"] = [];
    const set = new OutputSet();
    try {
      for (const [i, y] of ys.entries()) {
        const file = `${prefix}_${i}.npy`;
        set.add(file, encodeNpy(Float32Array.from(await y.data()), y.shape));
        outputs.push({ name: model.outputNames[i], shape: [...y.shape], file });
      }
    } catch (e) {
      set.abort();
      throw e;
    } finally {
      for (const y of ys) y.dispose();
    }
    const files = set.commit();
    const summary: RunSummary = {
      model: model.name,
      parameters: model.parameters,
      inputs: xs.map((x, i) => ({
        name: model.inputs[i].name,
        shape: [...x.shape],
        file: inputs[i],
      })),
      outputs,
      files,
      ms: Math.round(performance.now() - t0),
    };
    log(JSON.stringify(summary));
    return summary;
  } finally {
    for (const x of xs) x.dispose();
  }
}
