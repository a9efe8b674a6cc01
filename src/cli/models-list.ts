/**
 * `salient models`: what --model accepts by name (bundled weights, the UpscalerJS packages,
 * bicubic) and what --arch accepts (zoo architectures, weights not included), with parameter
 * counts, file sizes, scales, input ranges and licences. Counts and sizes are read from the weight
 * files themselves (safetensors headers, tfjs manifests), so the listing cannot drift from them;
 * zoo counts come from building each architecture with unfilled weights.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  multiFashionClassifierWeights,
  multiFashionExplainerWeights,
} from "../attribution/explainer/bundled.ts";
import { fashionCnnWeights } from "../models/classifiers/fashion-cnn.ts";
import { readSafetensors } from "../models/io/safetensors.ts";
import { UPSCALER_PACKAGES, upscalerPackageDir } from "../models/io/tfjs/node.ts";
import { skipInit } from "../models/nn/init.ts";
import type { Module } from "../models/nn/module.ts";
import { ARCHITECTURES, BUNDLED_MODELS, createArchitecture } from "../models/registry.ts";
import { fsrcnnX2Weights } from "../models/zoo/fsrcnn-pretrained.ts";
import { type CommandSpec, parseFlags } from "./args.ts";

export const MODELS_SPEC: CommandSpec = {
  name: "models",
  summary: "the bundled and zoo models: parameter counts, sizes, scales, input ranges, licences",
  synopsis: "[--json]",
  flags: { json: { type: "boolean", help: "one JSON array instead of the table" } },
};

export interface ModelEntry {
  name: string;
  kind: "bundled" | "package" | "zoo";
  source: string;
  /** Weight values (parameters and buffers stored in the file; zoo: the module's parameters). */
  parameters: number | null;
  /** Bytes of the weight file(s); null where there is no file. */
  bytes: number | null;
  scales: number[] | null;
  input: string;
  license: string;
  note?: string;
}

/** The zoo classifiers (the registry's other architectures are SR networks). */
const CLASSIFIERS = new Set(["small-cnn", "vgg", "resnet"]);
const ZOO_SCALES = [2, 3, 4];
const PACKAGE_SCALES = [2, 3, 4, 8];

/** Input channels of a conv net: those of its first 4-D weight. */
export function inChannels(m: Module): number | undefined {
  return m.namedParameters().find(([, p]) => p.shape.length === 4)?.[1].shape[1];
}

const sizeSum = (files: Uint8Array[]) => files.reduce((s, b) => s + b.length, 0);

/** Values stored in safetensors files (sum of the tensors' sizes). */
function storedValues(files: Uint8Array[]): number {
  let n = 0;
  for (const f of files) for (const [, t] of readSafetensors(f)) n += t.values.length;
  return n;
}

/** Weights trained here (this repository's licence); the registry describes most of them. */
function ours(
  name: string,
  files: Uint8Array[],
  scales: number[] | null,
  described: { source: string; input: string; license: string } = BUNDLED_MODELS[name],
): ModelEntry {
  return {
    name,
    kind: "bundled",
    source: described.source,
    parameters: storedValues(files),
    bytes: sizeSum(files),
    scales,
    input: described.input,
    license: described.license,
  };
}

/** An UpscalerJS package as installed: manifest counts and shard sizes at its default scale. */
function packageEntry(pkg: (typeof UPSCALER_PACKAGES)[number]): ModelEntry {
  const r = BUNDLED_MODELS[pkg];
  const base = { name: pkg, kind: "package" as const, source: r.source, input: r.input };
  let root: string;
  try {
    root = upscalerPackageDir(pkg);
  } catch (e) {
    return {
      ...base,
      parameters: null,
      bytes: null,
      scales: null,
      license: r.license,
      note: (e as Error).message,
    };
  }
  const single = pkg === "default-model";
  const scales = single
    ? [2]
    : PACKAGE_SCALES.filter((s) => existsSync(join(root, "models", `x${s}`, "model.json")));
  const dir = single ? join(root, "models") : join(root, "models", "x4");
  const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  let parameters = 0;
  let bytes = 0;
  for (const g of json.weightsManifest) {
    for (const w of g.weights) parameters += w.shape.reduce((a: number, b: number) => a * b, 1);
    for (const p of g.paths) bytes += statSync(join(dir, p)).size;
  }
  const license = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).license;
  return {
    ...base,
    parameters,
    bytes,
    scales,
    license: license ?? r.license,
    note: `counts for x${single ? 2 : 4}`,
  };
}

export function listModels(): ModelEntry[] {
  const out: ModelEntry[] = [
    ours("fashion-cnn", [fashionCnnWeights()], null),
    ours("multi-fashion", [multiFashionClassifierWeights(), multiFashionExplainerWeights()], null, {
      source: "salient (multi-label classifier + explainer, scripts/train/explainer*.ts)",
      input: "[N, 1, H, W] grey in [0, 1], H and W multiples of 8",
      license: "MIT",
    }),
    ours("fsrcnn-x2", [fsrcnnX2Weights()], [2]),
    {
      name: "bicubic",
      kind: "bundled",
      source: "bicubic interpolation (no weights)",
      parameters: 0,
      bytes: null,
      scales: null,
      input: "[N, C, H, W], any range",
      license: "-",
    },
    ...UPSCALER_PACKAGES.map(packageEntry),
  ];
  for (const [name, a] of Object.entries(ARCHITECTURES)) {
    const m = skipInit(() => createArchitecture(name, 4));
    const classifier = CLASSIFIERS.has(name);
    out.push({
      name,
      kind: "zoo",
      source: `state-dict names of ${a.keys}`,
      parameters: m.parameterCount(),
      bytes: null,
      scales: classifier ? null : ZOO_SCALES,
      input: `[N, ${inChannels(m) ?? "C"}, H, W] in [${a.range.join(", ")}]`,
      license: "architecture only, bring a checkpoint",
      ...(classifier ? {} : { note: "counts for x4" }),
    });
    for (const [, v] of m.stateDict()) v.dispose();
  }
  return out;
}

/** A plain-text table, one model per line. */
function modelsTable(entries: readonly ModelEntry[]): string {
  const head = ["NAME", "KIND", "PARAMS", "BYTES", "SCALES", "INPUT", "LICENCE", "SOURCE"];
  const rows = entries.map((e) => [
    e.name,
    e.kind,
    e.parameters === null ? "-" : e.parameters.toLocaleString("en-US"),
    e.bytes === null ? "-" : e.bytes.toLocaleString("en-US"),
    e.scales ? e.scales.map((s) => `x${s}`).join(",") : "-",
    e.input,
    e.license,
    e.note ? `${e.source} (${e.note})` : e.source,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return `${[head, ...rows].map(line).join("\n")}\n`;
}

export function runModels(args: string[], write: (text: string) => void): ModelEntry[] {
  const values = parseFlags(MODELS_SPEC, args);
  const entries = listModels();
  write(values.json === "true" ? `${JSON.stringify(entries)}\n` : modelsTable(entries));
  return entries;
}
