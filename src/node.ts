/**
 * salient/node: what needs Node's file system. PNG/JPEG files, the assets shipped in the package,
 * models from files and folders (ONNX, weights, tfjs layers-models), the UpscalerJS packages
 * (optional peer dependencies: `npm install @upscalerjs/esrgan-slim`, or a folder of your own),
 * the Fashion-MNIST IDX reader, and tiled upscaling of large images.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadOnnx, type OnnxModel } from "./models/io/onnx/model.ts";

// The method registry, also in the root entry (kept here for code that imported it from salient/node).
export { METHODS, type MethodContext, type MethodEntry } from "./attribution/registry.ts";
export {
  FASHION_MNIST_DIR,
  type LabelledImages,
  loadFashionMnist,
} from "./models/data/fashion-mnist-node.ts";
export {
  loadTfjsLayersModelFromDir,
  loadUpscalerModel,
  UPSCALER_PACKAGES,
  type UpscalerModel,
  type UpscalerPackage,
  upscalerPackageDir,
} from "./models/io/tfjs/node.ts";
export { loadUpscalerModule, loadUpscalerModuleFrom } from "./models/zoo/upscaler-node.ts";
export { encodePng, type LoadedImage, readImage, writePng } from "./viz/image-io-node.ts";

/** The package root: one level up from this module (dist/node.js, or src/node.ts in the repo). */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The path of a file shipped in the package's assets/ folder, e.g.
 * assetPath("photos", "astronaut.png") or assetPath("fashion-mnist", "test-0.png").
 */
export function assetPath(...parts: string[]): string {
  if (parts.length === 0 || parts.some((p) => p.includes(".."))) {
    throw new Error(
      `assetPath: expected path parts inside assets/ (e.g. "photos", "astronaut.png"), got [${parts.join(", ")}]`,
    );
  }
  return join(PACKAGE_ROOT, "assets", ...parts);
}

/** Reads an ONNX file and builds the model (see loadOnnx for the supported operators). */
export function loadOnnxFile(path: string, options?: Parameters<typeof loadOnnx>[1]): OnnxModel {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`loadOnnxFile: cannot read "${path}": ${(e as Error).message}`);
  }
  return loadOnnx(bytes, options);
}
export { fileCheckpointStore } from "./models/train/checkpoint-files.ts";
