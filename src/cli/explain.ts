/**
 * `salient explain`: the per-class masks of a bundled classifier + explainer pair for one grey
 * image, in a single forward pass. Writes PREFIX.npy (float32 [C, H, W], sigmoid of the
 * explainer's logits, NumPy .npy 1.0) and PREFIX.png (the input, the combined mask of the
 * predicted classes over it, then one overlay per predicted class), then a one-line JSON summary.
 */
import { BUNDLED_EXPLAINERS, loadExplainerPair } from "../attribution/explainer/bundled.ts";
import { explainImage } from "../attribution/explainer/explain.ts";
import { FASHION_CLASSES } from "../models/data/classes.ts";
import { galleryStrip } from "../viz/gallery.ts";
import { encodePng, readImage } from "../viz/image-io-node.ts";
import { encodeNpy } from "../viz/npy.ts";
import { blend, enlarge, heatmap, toRgb } from "../viz/overlay.ts";
import { type CommandSpec, choiceFlag, numberFlag, parseFlags } from "./args.ts";
import { outPrefix, writeOutputs } from "./output-set.ts";

export const EXPLAIN_SPEC: CommandSpec = {
  name: "explain",
  summary: "per-class masks of a bundled classifier + explainer pair for one grey image",
  synopsis: `[--model ${BUNDLED_EXPLAINERS.join("|")}] --image FILE --out PREFIX`,
  flags: {
    model: { value: "NAME", default: "multi-fashion", help: BUNDLED_EXPLAINERS.join(" | ") },
    image: {
      value: "FILE",
      required: true,
      help: "read as grey; H and W multiples of 8 (trained on 64x64 canvases of Fashion-MNIST items)",
    },
    out: {
      value: "PREFIX",
      required: true,
      help: "writes PREFIX.npy (float32 [classes, H, W] masks in [0, 1]) and PREFIX.png (overlays); a trailing .npy/.png is dropped",
    },
    threshold: {
      value: "Z",
      default: "0",
      help: "classifier logit at which a class counts as present",
    },
    alpha: { value: "A", default: "0.5", help: "mask opacity in [0, 1]" },
    zoom: { value: "N", default: "4", help: "enlarge the panels N times (1 to 64)" },
  },
  notes: "prints a JSON summary line last, with the files written.",
};

export interface ExplainSummary {
  model: string;
  npy: string;
  png: string;
  files: string[];
  shape: number[];
  predicted: { class: number; name: string; probability: number; maskArea: number }[];
}

export async function runExplain(
  args: string[],
  log: (line: string) => void,
): Promise<ExplainSummary> {
  const values = parseFlags(EXPLAIN_SPEC, args);
  const zoom = numberFlag("zoom", values.zoom, { integer: true, min: 1, max: 64 }, 4);
  const alpha = numberFlag("alpha", values.alpha, { min: 0, max: 1 }, 0.5);
  const threshold = numberFlag("threshold", values.threshold, {}, 0);
  const name = choiceFlag("model", values.model, BUNDLED_EXPLAINERS, "multi-fashion");
  const prefix = outPrefix(values.out!, [".npy", ".png"]);
  const pair = loadExplainerPair(name);
  const img = readImage(values.image!, 1);
  const e = await explainImage(
    { classifier: (x) => pair.classifier.call(x), explainer: (x) => pair.explainer.call(x) },
    img.data,
    img.height,
    img.width,
    { threshold },
  ).catch((err: Error) => {
    throw new Error(`"${values.image}" (${img.height}x${img.width}): ${err.message}`);
  });
  const hw = e.height * e.width;
  const base = toRgb(img.data, 1, e.height, e.width);
  // Masks are already probabilities: a fixed [0, 1] scale keeps panels comparable.
  const overlay = (m: Float32Array) =>
    enlarge(
      blend(base, heatmap(m, 1, e.height, e.width, { sign: "positive", vmax: 1 }), alpha),
      zoom,
    );
  const panels = [
    { title: "input", image: enlarge(base, zoom) },
    { title: "combined", image: overlay(e.combined) },
    ...e.predicted.map((c) => ({
      title: FASHION_CLASSES[c] ?? `class ${c}`,
      image: overlay(e.masks.subarray(c * hw, (c + 1) * hw)),
    })),
  ];
  const files = writeOutputs([
    [`${prefix}.npy`, encodeNpy(e.masks, [e.classes, e.height, e.width])],
    [`${prefix}.png`, encodePng(galleryStrip(panels))],
  ]);
  const summary: ExplainSummary = {
    model: name,
    npy: files[0],
    png: files[1],
    files,
    shape: [e.classes, e.height, e.width],
    predicted: e.predicted.map((c) => {
      let area = 0;
      for (let p = 0; p < hw; p++) area += e.masks[c * hw + p];
      return {
        class: c,
        name: FASHION_CLASSES[c] ?? `class ${c}`,
        probability: Number(e.probabilities[c].toFixed(4)),
        maskArea: Number((area / hw).toFixed(4)),
      };
    }),
  };
  log(JSON.stringify(summary));
  return summary;
}
