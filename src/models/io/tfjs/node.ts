/**
 * Node helpers for tfjs layers-models: load one from a directory (model.json + shards), and the
 * four UpscalerJS packages by name, resolved from the node_modules of whoever installed salient
 * (they are optional peer dependencies: installed by the user, never by salient itself).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { parseJsonBounded, quoteBounded } from "../limits.ts";
import { loadTfjsLayersModel, type TfjsLayersModel } from "../tfjs-layers.ts";

/**
 * A tfjs model folder: model.json parsed with bounded nesting, and a reader for the shards its
 * manifest names. Shards must lie inside the folder: a manifest path that is absolute or climbs
 * out with ".." is refused rather than read.
 */
export function readTfjsModelDir(
  dir: string,
  file = "model.json",
): { path: string; json: unknown; readShard: (p: string) => Uint8Array } {
  const path = join(dir, file);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`tfjs model ${path}: cannot read it (${(e as Error).message})`);
  }
  const json = parseJsonBounded(text, `tfjs model ${path}`);
  const base = dirname(path);
  const readShard = (p: string) => {
    const shard = resolve(base, p);
    const inside = relative(base, shard);
    if (isAbsolute(p) || inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
      throw new Error(
        `tfjs model ${path}: shard path ${quoteBounded(p)} leaves the model's folder; expected a file name next to model.json`,
      );
    }
    try {
      return new Uint8Array(readFileSync(shard));
    } catch {
      throw new Error(`tfjs model ${path}: shard ${quoteBounded(p)} is missing (${shard})`);
    }
  };
  return { path, json, readShard };
}

/** Loads a tfjs layers-model from a folder (model.json and its shards); errors name the file. */
export function loadTfjsLayersModelFromDir(dir: string, file = "model.json"): TfjsLayersModel {
  const { path, json, readShard } = readTfjsModelDir(dir, file);
  return loadTfjsLayersModel(json as object, readShard, `tfjs model ${path}`);
}

/** The UpscalerJS model packages salient can load by name. */
export const UPSCALER_PACKAGES = [
  "esrgan-slim",
  "esrgan-medium",
  "esrgan-thick",
  "default-model",
] as const;
/** One of UPSCALER_PACKAGES. */
export type UpscalerPackage = (typeof UPSCALER_PACKAGES)[number];

/**
 * An UpscalerJS model loaded as a tfjs layers-model, with its scale, value range and architecture.
 */
export interface UpscalerModel {
  model: TfjsLayersModel;
  scale: number;
  /** Value range of input and output: [0, 255] for the RDN models, [0, 1] for esrgan-thick (RRDN). */
  range: [number, number];
  architecture: "rdn" | "rrdn";
  dir: string;
}

/** The installed package's root directory. */
export function upscalerPackageDir(pkg: UpscalerPackage): string {
  if (!UPSCALER_PACKAGES.includes(pkg)) {
    throw new Error(
      `loadUpscalerModel: unknown package "${pkg}" (expected ${UPSCALER_PACKAGES.join(", ")})`,
    );
  }
  const req = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = req.resolve(`@upscalerjs/${pkg}`);
  } catch {
    // An optional peer dependency of salient: not installed with it (it would bring TensorFlow.js).
    throw new Error(
      `@upscalerjs/${pkg} is not installed. Install it next to salient: npm install @upscalerjs/${pkg}` +
        ` (or load a model folder you have with loadUpscalerModuleFrom / loadTfjsLayersModelFromDir from "salient/node")`,
    );
  }
  const marker = `${join("node_modules", "@upscalerjs", pkg)}`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) throw new Error(`loadUpscalerModel: cannot locate the package root from ${entry}`);
  return entry.slice(0, at + marker.length);
}

/** Whether `@upscalerjs/<pkg>` (an optional peer dependency) can be loaded from here. */
export function upscalerInstalled(pkg: UpscalerPackage): boolean {
  try {
    upscalerPackageDir(pkg);
    return true;
  } catch {
    return false;
  }
}

/** Loads `@upscalerjs/<pkg>` at `scale` (default-model is x2 only). */
export function loadUpscalerModel(
  pkg: UpscalerPackage,
  scale = pkg === "default-model" ? 2 : 4,
): UpscalerModel {
  const root = upscalerPackageDir(pkg);
  if (pkg === "default-model" && scale !== 2) {
    throw new Error(`loadUpscalerModel: default-model is x2 only, asked for x${scale}`);
  }
  if (![2, 3, 4, 8].includes(scale)) {
    throw new Error(`loadUpscalerModel: scale ${scale} is not one of 2, 3, 4, 8`);
  }
  const dir = pkg === "default-model" ? join(root, "models") : join(root, "models", `x${scale}`);
  const rrdn = pkg === "esrgan-thick";
  return {
    model: loadTfjsLayersModelFromDir(dir),
    scale,
    range: rrdn ? [0, 1] : [0, 255],
    architecture: rrdn ? "rrdn" : "rdn",
    dir,
  };
}
