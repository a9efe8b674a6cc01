/**
 * `salient explain`: the per-class masks of a bundled classifier + explainer pair for one grey
 * image, in a single forward pass. Writes PREFIX.npy (float32 [C, H, W], sigmoid of the
 * explainer's logits, NumPy .npy 1.0) and PREFIX.png (the input, the combined mask of the
 * predicted classes over it, then one overlay per predicted class), then a one-line JSON summary.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { BUNDLED_EXPLAINERS, loadExplainerPair } from "../attribution/explainer/bundled.ts";
import { explainImage } from "../attribution/explainer/explain.ts";
import { FASHION_CLASSES } from "../models/data/classes.ts";
import { galleryStrip } from "../viz/gallery.ts";
import { encodePng, readImage } from "../viz/image-io-node.ts";
import { encodeNpy } from "../viz/npy.ts";
import { blend, enlarge, heatmap, toRgb } from "../viz/overlay.ts";

export const EXPLAIN_USAGE = `usage: salient explain [--model ${BUNDLED_EXPLAINERS.join("|")}] --image <png|jpg> --out PREFIX
  writes PREFIX.npy (float32 [classes, H, W] masks in [0, 1]) and PREFIX.png (overlays);
  prints a JSON summary line last. The image is read as grey; H and W must be multiples of 8
  (the bundled pair was trained on 64x64 canvases of Fashion-MNIST items).
  --threshold Z   classifier logit at which a class counts as present (default 0)
  --alpha A (0.5)  --zoom N (4)`;

export interface ExplainSummary {
  model: string;
  npy: string;
  png: string;
  shape: number[];
  predicted: { class: number; name: string; probability: number; maskArea: number }[];
}

function number(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n))
    throw new Error(`--${name} must be a number, got "${v}"`);
  return n;
}

export async function runExplain(
  args: string[],
  log: (line: string) => void,
): Promise<ExplainSummary> {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args,
      options: {
        model: { type: "string" },
        image: { type: "string" },
        out: { type: "string" },
        threshold: { type: "string" },
        alpha: { type: "string" },
        zoom: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${EXPLAIN_USAGE}`);
  }
  if (!values.image) throw new Error(`--image is required\n${EXPLAIN_USAGE}`);
  if (!values.out) throw new Error(`--out is required\n${EXPLAIN_USAGE}`);
  const zoom = number("zoom", values.zoom, 4);
  if (!Number.isInteger(zoom) || zoom < 1)
    throw new Error(`--zoom must be a positive integer, got ${zoom}`);
  const alpha = number("alpha", values.alpha, 0.5);
  const name = values.model ?? "multi-fashion";
  const pair = loadExplainerPair(name);
  const img = readImage(values.image, 1);
  const e = await explainImage(
    { classifier: (x) => pair.classifier.call(x), explainer: (x) => pair.explainer.call(x) },
    img.data,
    img.height,
    img.width,
    { threshold: number("threshold", values.threshold, 0) },
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
  const npy = `${values.out}.npy`;
  const png = `${values.out}.png`;
  writeFileSync(npy, encodeNpy(e.masks, [e.classes, e.height, e.width]));
  writeFileSync(png, encodePng(galleryStrip(panels)));
  const summary: ExplainSummary = {
    model: name,
    npy,
    png,
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
