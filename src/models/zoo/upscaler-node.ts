/**
 * The UpscalerJS packages as zoo modules (Node): Rdn or Rrdn built with the package's published
 * hyperparameters and loaded from its tfjs shards. Unlike the generic graph loader this gives the
 * named architecture, with Keras layer names as module paths.
 */
import { join } from "node:path";
import { kerasConvStateDict } from "../io/tfjs/keras-kernels.ts";
import { readTfjsModelDir, type UpscalerPackage, upscalerPackageDir } from "../io/tfjs/node.ts";
import { readTfjsWeights } from "../io/tfjs/weights.ts";
import { skipInit } from "../nn/init.ts";
import { RDN_MEDIUM, RDN_SLIM, Rdn } from "./rdn.ts";
import { Rrdn } from "./rrdn.ts";

/**
 * An UpscalerJS package's model at a scale (x4 by default, x2 for default-model) as the zoo's Rdn
 * or Rrdn, from node_modules.
 */
export function loadUpscalerModule(
  pkg: UpscalerPackage,
  scale = pkg === "default-model" ? 2 : 4,
): Rdn | Rrdn {
  const root = upscalerPackageDir(pkg);
  if (pkg === "default-model" && scale !== 2) {
    throw new Error(`loadUpscalerModule: default-model is x2 only, asked for x${scale}`);
  }
  const dir = pkg === "default-model" ? join(root, "models") : join(root, "models", `x${scale}`);
  const build = () =>
    pkg === "esrgan-thick"
      ? new Rrdn(scale)
      : new Rdn(scale, pkg === "esrgan-medium" ? RDN_MEDIUM : RDN_SLIM);
  return loadUpscalerModuleFrom(dir, build);
}

/** Loads `dir`/model.json and its shards into the module `build` makes; errors name the file. */
export function loadUpscalerModuleFrom<M extends Rdn | Rrdn>(dir: string, build: () => M): M {
  const { path, json, readShard } = readTfjsModelDir(dir);
  const weights = readTfjsWeights(
    (json as { weightsManifest?: unknown } | null)?.weightsManifest,
    readShard,
    path,
  );
  const model = skipInit(build);
  try {
    model.loadStateDict(kerasConvStateDict(weights));
  } catch (e) {
    throw new Error(`tfjs model ${path}: ${(e as Error).message}`);
  }
  return model;
}
