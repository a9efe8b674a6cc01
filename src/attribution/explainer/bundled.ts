/**
 * The bundled pair "multi-fashion": the multi-label classifier and its trained explainer
 * (scripts/train/explainer-classifier.ts, explainer.ts). Their safetensors bytes ship inlined as
 * base64 (weights/multi-fashion.weights.ts, written by scripts/train/explainer-pack.ts), so
 * loading needs no file system and works from the esbuild bundle and in browsers.
 */
import { base64Bytes } from "../../base64.ts";
import { type MultiLabelCnn, multiLabelCnnFrom } from "../../models/classifiers/multi-label-cnn.ts";
import { readSafetensors } from "../../models/io/safetensors.ts";
import { type ExplainerNet, explainerNetFrom } from "../../models/unet/explainer-net.ts";
import {
  MULTI_FASHION_CLASSIFIER_BASE64,
  MULTI_FASHION_EXPLAINER_BASE64,
} from "./weights/multi-fashion.weights.ts";

/** Names `loadExplainerPair` accepts. */
export const BUNDLED_EXPLAINERS = ["multi-fashion"] as const;
export type BundledExplainerName = (typeof BUNDLED_EXPLAINERS)[number];

export function multiFashionClassifierWeights(): Uint8Array {
  return base64Bytes(MULTI_FASHION_CLASSIFIER_BASE64);
}

export function multiFashionExplainerWeights(): Uint8Array {
  return base64Bytes(MULTI_FASHION_EXPLAINER_BASE64);
}

/** A frozen multi-label classifier and the NN-Explainer (Stalder et al. 2022) trained on it. */
export interface ExplainerPair {
  /** The bundled pair's name. */
  name: BundledExplainerName;
  /** Input [N, 1, 64, 64] in [0, 1] (any H, W divisible by 8) to 10 multi-label logits. */
  classifier: MultiLabelCnn;
  /** Same input to 10 mask logits per pixel. */
  explainer: ExplainerNet;
  /** The safetensors metadata of both files (recipes, held-out scores, training summary). */
  metadata: { classifier: Record<string, string>; explainer: Record<string, string> };
}

function metadataOf(bytes: Uint8Array): Record<string, string> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  return header.__metadata__ ?? {};
}

/** Loads a bundled classifier + explainer pair by name, both in eval mode. */
export function loadExplainerPair(name: string = "multi-fashion"): ExplainerPair {
  if (name !== "multi-fashion") {
    throw new Error(
      `unknown bundled explainer "${name}" (bundled: ${BUNDLED_EXPLAINERS.join(", ")})`,
    );
  }
  const cb = multiFashionClassifierWeights();
  const eb = multiFashionExplainerWeights();
  return {
    name,
    classifier: multiLabelCnnFrom(readSafetensors(cb, "multi-fashion classifier.safetensors")),
    explainer: explainerNetFrom(readSafetensors(eb, "multi-fashion explainer.safetensors")),
    metadata: { classifier: metadataOf(cb), explainer: metadataOf(eb) },
  };
}
