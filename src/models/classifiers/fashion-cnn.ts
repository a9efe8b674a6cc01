/**
 * The bundled Fashion-MNIST classifier: SmallCnn (16/32 channels) trained with salient's engine by
 * scripts/train/fashion-cnn.ts. Its weights ship inlined (base64 of fashion-cnn.safetensors), so
 * loading needs no file system and works the same in Node, Deno, browsers and the bundle.
 */
import { base64Bytes } from "../../base64.ts";
import { readSafetensors } from "../io/safetensors.ts";
import { skipInit } from "../nn/init.ts";
import {
  FASHION_CNN_ACCURACY,
  FASHION_CNN_SAFETENSORS_BASE64,
} from "../weights/fashion-cnn.weights.ts";
import { SmallCnn } from "./small-cnn.ts";

export { FASHION_CLASSES } from "../data/classes.ts";

/** Test accuracy measured by the training script (all 10000 images, and the first 2000). */
export const fashionCnnAccuracy = FASHION_CNN_ACCURACY;

/** The safetensors bytes of the bundled weights. */
export function fashionCnnWeights(): Uint8Array {
  return base64Bytes(FASHION_CNN_SAFETENSORS_BASE64);
}

/** SmallCnn with the trained weights, in eval mode. Input [N, 1, 28, 28] in [0, 1]; 10 logits. */
export function loadFashionCnn(): SmallCnn {
  const weights = readSafetensors(fashionCnnWeights(), "fashion-cnn.safetensors");
  const c1 = weights.get("features.0.weight")?.shape[0];
  const c2 = weights.get("features.3.weight")?.shape[0];
  if (!c1 || !c2) throw new Error("fashion-cnn.safetensors: features.0/3 weights are missing");
  const model = skipInit(() => new SmallCnn({ channels: [c1, c2] }));
  model.loadStateDict(weights);
  return model.eval();
}
