/**
 * `salient localize`: an object box from one attribution map, by a threshold rule of Fong &
 * Vedaldi's evaluation (value, mean or energy at --alpha, largest 8-connected component) or by
 * Simonyan's seeded graph-cut segmentation, printed as one JSON line with `box: [x0, y0, x1, y1]`
 * in input pixels (inclusive).
 */

import { type Box, THRESHOLD_RULES, thresholdBox } from "../attribution/localisation/boxes.ts";
import { graphCutSegment } from "../attribution/localisation/graph-cut.ts";
import { type CommandSpec, choiceFlag, numberFlag, parseFlags, UsageError } from "./args.ts";
import {
  attributeOnHost,
  COMMON_FLAGS,
  checkFlags,
  METHOD_FLAGS,
  methodEntry,
  prepare,
} from "./attribute.ts";

export const LOCALIZE_RULES = [...THRESHOLD_RULES, "graphcut"] as const;
export type LocalizeRule = (typeof LOCALIZE_RULES)[number];

/**
 * Default alpha per threshold rule: the values tuned on held-out multi-fashion canvases
 * (scripts/study/localisation.ts, docs/localisation.md) are per method; these are the common
 * middle ground, to be overridden with --alpha.
 */
export const DEFAULT_ALPHA: Record<(typeof THRESHOLD_RULES)[number], number> = {
  value: 0.5,
  mean: 1.5,
  energy: 0.5,
};

const OVERLAY_ONLY = ["colormap", "sign", "clip-percentile", "vmax", "alpha"];

export const LOCALIZE_SPEC: CommandSpec = {
  name: "localize",
  summary: "an object box from an attribution map (threshold rule or graph cut), as JSON",
  synopsis: "--model M --image FILE --method NAME [--rule value|mean|energy|graphcut] [--alpha F]",
  flags: {
    ...Object.fromEntries(Object.entries(COMMON_FLAGS).filter(([k]) => !OVERLAY_ONLY.includes(k))),
    image: { ...COMMON_FLAGS.image, required: true },
    method: { value: "NAME", required: true, help: "the attribution method (salient methods)" },
    rule: {
      value: "RULE",
      default: "energy",
      help: "value (>= alpha max) | mean (>= alpha mean) | energy (top pixels holding alpha of the mass) | graphcut (Simonyan's seeded segmentation)",
    },
    alpha: {
      value: "F",
      defaultText: `value ${DEFAULT_ALPHA.value}, mean ${DEFAULT_ALPHA.mean}, energy ${DEFAULT_ALPHA.energy}`,
      help: "the threshold rule's alpha (not used by graphcut)",
    },
    ...METHOD_FLAGS,
  },
  notes:
    "prints one JSON line: method, model, target, rule, alpha, box [x0, y0, x1, y1] (inclusive pixels, null if the map selects nothing), time_s.",
};

export interface LocalizeSummary {
  method: string;
  model: string;
  target: number;
  rule: LocalizeRule;
  alpha: number | null;
  box: Box | null;
  /** Pixels in the graph-cut segment (graphcut only). */
  segmentArea?: number;
  time_s: number;
}

/**
 * One [H, W] saliency plane from a map [1, C', H, W]: max over channels of |v| for signed maps
 * (Simonyan's saliency), the channel mean clipped at 0 for positive ones (masks, CAMs).
 */
export function saliencyPlane(
  map: Float32Array,
  shape: readonly number[],
  sign: "positive" | "absolute" | "all",
): Float32Array {
  const [, c, h, w] =
    shape.length === 4 ? shape : [1, 1, shape[shape.length - 2], shape[shape.length - 1]];
  const out = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) {
    let v = sign === "positive" ? 0 : -Infinity;
    for (let ch = 0; ch < c; ch++) {
      const e = map[ch * h * w + p];
      v = sign === "positive" ? v + e / c : Math.max(v, Math.abs(e));
    }
    out[p] = sign === "positive" ? Math.max(v, 0) : v;
  }
  return out;
}

export async function runLocalize(
  args: string[],
  log: (line: string) => void,
): Promise<LocalizeSummary> {
  const values = parseFlags(LOCALIZE_SPEC, args);
  const method = values.method!;
  const entry = methodEntry(method);
  if (entry.noImage)
    throw new UsageError(`${method} makes an image, not a map of one; pick another method`);
  const rule = choiceFlag("rule", values.rule, LOCALIZE_RULES, "energy");
  const alpha =
    rule === "graphcut" ? null : numberFlag("alpha", values.alpha, { min: 0 }, DEFAULT_ALPHA[rule]);
  checkFlags({ ...values, alpha: undefined });
  const p = await prepare(values, entry);
  try {
    const { map, shape, seconds } = await attributeOnHost(p, method, log);
    const [, , h, w] = p.x.shape;
    const plane = saliencyPlane(map, shape, entry.sign);
    if (plane.length !== h * w)
      throw new Error(
        `${method} returned a map of shape [${shape}], not one value per pixel of the ${h}x${w} input`,
      );
    let box: Box | null;
    let segmentArea: number | undefined;
    if (rule === "graphcut") {
      const seg = graphCutSegment(p.image!, plane, h, w);
      box = seg.box;
      segmentArea = seg.segment.reduce((a, b) => a + b, 0);
    } else {
      box = thresholdBox(plane, h, w, rule, alpha!);
    }
    const summary: LocalizeSummary = {
      method,
      model: p.resolved.name,
      target: p.target,
      rule,
      alpha,
      box,
      ...(segmentArea === undefined ? {} : { segmentArea }),
      time_s: Math.round(seconds * 1000) / 1000,
    };
    log(JSON.stringify(summary));
    return summary;
  } finally {
    p.x.dispose();
  }
}
