/**
 * `salient evaluate`: scores one attribution map of one image with the Quantus metric families
 * (and the metrics salient already had), each with its anchor's defaults, and writes PREFIX.json:
 * one entry per metric with its score, its details (curves, per-step values) and its run time.
 * The map comes from --method (run here, as `salient attribute` would) or --map FILE.npy;
 * robustness, randomisation and some axiomatic metrics re-run the method, so they need --method;
 * localisation metrics need a ground-truth --mask PNG (pixels >= 0.5 are inside).
 */
import { readFileSync } from "node:fs";
import {
  attributionLocalisation,
  avgSensitivity,
  completeness,
  complexity,
  continuity,
  deletionAuc,
  effectiveComplexity,
  efficientMprt,
  faithfulnessCorrelation,
  faithfulnessEstimate,
  infidelity,
  inputInvariance,
  insertionAuc,
  irof,
  localisation,
  localisationAuc,
  localLipschitzEstimate,
  maxSensitivity,
  modelRandomisation,
  monotonicityArya,
  monotonicityCorrelation,
  nonSensitivity,
  pixelFlipping,
  pixelSaliency,
  pointingGame,
  randomLogit,
  regionPerturbation,
  relevanceMassAccuracy,
  relevanceRankAccuracy,
  road,
  selectivity,
  sensitivityN,
  smoothMprt,
  sparseness,
  topKIntersection,
} from "../attribution/metrics/index.ts";
import { METHODS } from "../attribution/registry.ts";
import { probabilityOf } from "../attribution/target.ts";
import type { Model, Target } from "../attribution/types.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { keep, tidy } from "../autodiff/tidy.ts";
import { concat } from "../ops/concat.ts";
import { tensor } from "../ops/creation.ts";
import { reshape } from "../ops/reshape.ts";
import { readImage } from "../viz/image-io-node.ts";
import { decodeNpy } from "../viz/npy.ts";
import {
  type CommandSpec,
  choiceFlag,
  didYouMean,
  intFlag,
  parseFlags,
  UsageError,
} from "./args.ts";
import {
  attributeWith,
  COMMON_FLAGS,
  checkFlags,
  METHOD_FLAGS,
  type Prepared,
  prepare,
} from "./attribute.ts";
import { outPrefix, writeOutputs } from "./output-set.ts";

type Need = "method" | "mask" | "module" | "images";

/** What a metric gets: the prepared input, its map, the mask, and a way to re-run the method. */
interface MetricInput {
  p: Prepared;
  /** The map being scored, [1, C, H, W]. */
  map: Tensor;
  /** Channel-summed map, H * W values. */
  saliency: Float64Array;
  mask: Uint8Array | null;
  /** What perturbation metrics score: the target's logit, or its softmax probability (--score). */
  score: Target;
  seed: number;
  batchSize?: number;
  /** The other --images (paths), for metrics that correlate across images. */
  images: string[];
  /** Runs the method on another input (and optionally another model or class). */
  explain: (x: Tensor, o?: { model?: Model; target?: number }) => Promise<Tensor>;
}

interface MetricEntry {
  family: string;
  needs: readonly Need[];
  /** What the score means and the defaults used. */
  about: string;
  run(m: MetricInput): Promise<Record<string, unknown>>;
}

const opts = (m: MetricInput) => ({ seed: m.seed, batchSize: m.batchSize });
const first = <T>(v: T[]) => v[0];

/** A perturbation metric as the attribution metrics take it: model, batch, target, map, options. */
type MapMetric<R> = (
  model: Model,
  x: Tensor,
  target: Target,
  map: Tensor,
  o: { seed?: number; batchSize?: number },
) => Promise<R[]>;

/** A perturbation metric run on the evaluated image and map: its one example's result. */
const firstOnMap = async <R>(m: MetricInput, metric: MapMetric<R>): Promise<R> =>
  first(await metric(m.p.model, m.p.x, m.score, m.map, opts(m)));

/** A robustness metric: it re-runs the method on perturbed copies of the image. */
type ExplainerMetric = (
  explain: MetricInput["explain"],
  x: Tensor,
  o: { seed?: number },
) => Promise<number[]>;

/** A robustness metric run on the evaluated image with the method: its one example's score. */
const firstOnExplainer = async (m: MetricInput, metric: ExplainerMetric): Promise<number> =>
  first(await metric(m.explain, m.p.x, { seed: m.seed }));

/** The first example's area and curve of a RISE deletion/insertion result. */
const firstAucAndCurve = (r: { auc: number[]; curves: number[][] }) => ({
  score: r.auc[0],
  curve: r.curves[0],
});

/** The headline and the curve of a removal-curve metric. */
const scoreAndCurve = (r: { score: number; curve: number[] }) => ({
  score: r.score,
  curve: r.curve,
});

/** A randomisation test's headline: the Spearman r after the last randomisation step. */
const lastStepScore = (r: { passed: unknown; steps: { spearman: number }[] }) => ({
  score: r.steps.at(-1)!.spearman,
  passed: r.passed,
  steps: r.steps,
});
const mask = (m: MetricInput) => m.mask!;

/** Every metric `salient evaluate` runs, by CLI name. */
export const METRICS: Record<string, MetricEntry> = {
  "faithfulness-correlation": {
    family: "faithfulness",
    needs: [],
    about: "Pearson r of subset sums vs output drops; 100 runs of 224 pixels, black baseline",
    run: async (m) => ({ score: await firstOnMap(m, faithfulnessCorrelation) }),
  },
  "faithfulness-estimate": {
    family: "faithfulness",
    needs: [],
    about: "Pearson r of each pixel's attribution vs its removal's drop; black baseline",
    run: async (m) => ({ score: await firstOnMap(m, faithfulnessEstimate) }),
  },
  "monotonicity-arya": {
    family: "faithfulness",
    needs: [],
    about: "true when the score never falls as pixels return in ascending order; black baseline",
    run: async (m) => {
      const r = await firstOnMap(m, monotonicityArya);
      return { score: r.monotonic, curve: r.curve };
    },
  },
  "monotonicity-correlation": {
    family: "faithfulness",
    needs: [],
    about: "Spearman of attribution vs squared drop (100 uniform-noise samples per pixel)",
    run: async (m) => ({ score: await firstOnMap(m, monotonicityCorrelation) }),
  },
  "pixel-flipping": {
    family: "faithfulness",
    needs: [],
    about: "area under the score as top pixels are removed (unit spacing); black baseline",
    run: async (m) => scoreAndCurve(await firstOnMap(m, pixelFlipping)),
  },
  "region-perturbation": {
    family: "faithfulness",
    needs: [],
    about: "AOPC over 100 greedy 8x8 patches, most relevant first, uniform noise",
    run: async (m) => scoreAndCurve(await firstOnMap(m, regionPerturbation)),
  },
  selectivity: {
    family: "faithfulness",
    needs: [],
    about: "area under the score as 8x8 tiles are removed, most relevant first; black baseline",
    run: async (m) => scoreAndCurve(await firstOnMap(m, selectivity)),
  },
  irof: {
    family: "faithfulness",
    needs: [],
    about: "area over the relative score as SLIC superpixels (about 100) are removed; mean fill",
    run: async (m) => scoreAndCurve(await firstOnMap(m, irof)),
  },
  "sensitivity-n": {
    family: "faithfulness",
    needs: ["method", "images"],
    about:
      "mean over n of the Pearson r across --image and --images of removed-set sums vs drops (n up to 80%, uniform noise)",
    run: async (m) => {
      const b = await imageBatch(m);
      try {
        const target = typeof m.score === "number" ? b.targets : probabilityOf(b.targets);
        const r = await sensitivityN(m.p.model, b.x, target, b.map, opts(m));
        const mean = r.correlation.reduce((t, v) => t + v, 0) / r.correlation.length;
        return { score: mean, n: r.n, correlation: r.correlation, targets: b.targets };
      } finally {
        b.x.dispose();
        b.map.dispose();
      }
    },
  },
  road: {
    family: "faithfulness",
    needs: [],
    about: "mean score after noisy linear imputation of the top fractions",
    run: async (m) => {
      const r = await road(m.p.model, m.p.x, m.score, m.map, opts(m));
      return { score: r.mean[0], fractions: r.fractions, scores: r.scores[0] };
    },
  },
  infidelity: {
    family: "faithfulness",
    needs: [],
    about: "E[(I . phi - (f(x) - f(x - I)))^2], Gaussian I (Captum)",
    run: async (m) => ({ score: await firstOnMap(m, infidelity) }),
  },
  deletion: {
    family: "faithfulness",
    needs: [],
    about: "area under the score as top pixels are zeroed, W per step (RISE)",
    run: async (m) =>
      firstAucAndCurve(await deletionAuc(m.p.model, m.p.x, m.score, m.map, opts(m))),
  },
  insertion: {
    family: "faithfulness",
    needs: [],
    about: "area under the score as top pixels return onto a blurred image (RISE)",
    run: async (m) =>
      firstAucAndCurve(await insertionAuc(m.p.model, m.p.x, m.score, m.map, opts(m))),
  },
  "avg-sensitivity": {
    family: "robustness",
    needs: ["method"],
    about: "mean ||phi(x + d) - phi(x)|| / ||x||, 200 samples of uniform noise in +-0.2",
    run: async (m) => ({ score: await firstOnExplainer(m, avgSensitivity) }),
  },
  "max-sensitivity": {
    family: "robustness",
    needs: ["method"],
    about: "max ||phi(x + d) - phi(x)|| / ||phi(x)||, 10 samples in +-0.02 (Captum)",
    run: async (m) => ({ score: await firstOnExplainer(m, maxSensitivity) }),
  },
  "local-lipschitz": {
    family: "robustness",
    needs: ["method"],
    about: "max ||phi(x') - phi(x)|| / ||x' - x||, 200 Gaussian samples (std 0.1)",
    run: async (m) => ({ score: await firstOnExplainer(m, localLipschitzEstimate) }),
  },
  continuity: {
    family: "robustness",
    needs: ["method"],
    about: "mean over 7x7 tiles of corr(tile sum of |phi|, score) over 28 right shifts",
    run: async (m) => {
      const r = first(
        await continuity(m.p.model, m.explain, m.p.x, m.score, { batchSize: m.batchSize }),
      );
      return { score: r.score, scores: r.scores };
    },
  },
  "pointing-game": {
    family: "localisation",
    needs: ["mask"],
    about: "hit when the map's maximum is within 15 px of the mask",
    run: async (m) => {
      const [, , h, w] = m.p.x.shape;
      const r = pointingGame(m.saliency, mask(m), h, w);
      return { score: r.hit, point: r.point };
    },
  },
  "attribution-localisation": {
    family: "localisation",
    needs: ["mask"],
    about: "share of |a| inside the mask",
    run: async (m) => ({ score: attributionLocalisation(m.saliency, mask(m)) }),
  },
  "top-k-intersection": {
    family: "localisation",
    needs: ["mask"],
    about: "share of the top k = min(1000, pixels) |a| inside the mask",
    run: async (m) => {
      const k = Math.min(1000, m.saliency.length);
      return { score: topKIntersection(m.saliency, mask(m), { k }), k };
    },
  },
  "relevance-mass-accuracy": {
    family: "localisation",
    needs: ["mask"],
    about: "sum of a inside the mask / sum of a",
    run: async (m) => ({ score: relevanceMassAccuracy(m.saliency, mask(m)) }),
  },
  "relevance-rank-accuracy": {
    family: "localisation",
    needs: ["mask"],
    about: "share of the top |mask| values inside the mask",
    run: async (m) => ({ score: relevanceRankAccuracy(m.saliency, mask(m)) }),
  },
  auc: {
    family: "localisation",
    needs: ["mask"],
    about: "ROC AUC of the map as a detector of the mask",
    run: async (m) => ({ score: localisationAuc(m.saliency, mask(m)) }),
  },
  localisation: {
    family: "localisation",
    needs: ["mask"],
    about: "mean IoU over thresholds 0.1..0.9 of the max-scaled map, with F1 and continuous scores",
    run: async (m) => {
      const r = localisation(m.saliency, mask(m));
      return { score: r.meanIoU, ...r };
    },
  },
  sparseness: {
    family: "complexity",
    needs: [],
    about: "Gini index of |a| (higher is sparser)",
    run: async (m) => ({ score: sparseness(m.saliency) }),
  },
  complexity: {
    family: "complexity",
    needs: [],
    about: "entropy of |a| / sum |a| in nats (lower is simpler)",
    run: async (m) => ({ score: complexity(m.saliency) }),
  },
  "effective-complexity": {
    family: "complexity",
    needs: [],
    about: "pixels with |a| / max |a| > 1e-5",
    run: async (m) => ({ score: effectiveComplexity(m.saliency) }),
  },
  mprt: {
    family: "randomisation",
    needs: ["method", "module"],
    about: "Spearman r with the original after cascading randomisation, output side first",
    run: async (m) => {
      const explainInput = () => m.explain(m.p.x);
      return lastStepScore(
        await modelRandomisation(m.p.resolved.module, explainInput, { seed: m.seed }),
      );
    },
  },
  "smooth-mprt": {
    family: "randomisation",
    needs: ["method", "module"],
    about: "MPRT on means of 50 noisy explanations (std 0.1 of the range), input side first",
    run: async (m) => {
      return lastStepScore(
        await smoothMprt(m.p.resolved.module, m.explain, m.p.x, { seed: m.seed }),
      );
    },
  },
  "efficient-mprt": {
    family: "randomisation",
    needs: ["method", "module"],
    about: "histogram entropy after / before randomising every layer (higher is better)",
    run: async (m) => {
      const r = await efficientMprt(m.p.resolved.module, m.explain, m.p.x, { seed: m.seed });
      return { score: r.ratio[0], before: r.before[0], after: r.after[0] };
    },
  },
  "random-logit": {
    family: "randomisation",
    needs: ["method"],
    about: "SSIM between the target's map and a random other class's (lower is better)",
    run: async (m) => ({
      score: first(
        await randomLogit((x, cs) => m.explain(x, { target: cs[0] }), m.p.x, m.p.target, {
          classes: m.p.classes,
        }),
      ),
    }),
  },
  completeness: {
    family: "axiomatic",
    needs: [],
    about: "sum(a) - (f(x) - f(black)), black = the image minimum; passed within 1e-4 relative",
    run: async (m) => {
      const r = await completeness(m.p.model, m.p.x, m.score, m.map, opts(m));
      return { score: r.gap[0], difference: r.difference[0], passed: r.passed[0] };
    },
  },
  "non-sensitivity": {
    family: "axiomatic",
    needs: [],
    about: "pixels where zero attribution and zero effect disagree (0 is ideal); black baseline",
    run: async (m) => ({ score: await firstOnMap(m, nonSensitivity) }),
  },
  "input-invariance": {
    family: "axiomatic",
    needs: ["method"],
    about: "same map for x and for x - 1 under the model that undoes the shift",
    run: async (m) => {
      const r = await inputInvariance(m.p.model, (model, x) => m.explain(x, { model }), m.p.x);
      return { score: r.passed[0], maxAbsDiff: r.maxAbsDiff[0] };
    },
  },
};

export const EVALUATE_SPEC: CommandSpec = {
  name: "evaluate",
  summary: "scores an attribution map with the Quantus metric families: PREFIX.json",
  synopsis:
    "--model M --image FILE (--method NAME | --map FILE.npy) --metrics a,b,c [--mask FILE.png] [--target N] [--seed N] --out PREFIX",
  flags: {
    ...Object.fromEntries(
      [
        "model",
        "arch",
        "target",
        "layer",
        "grid",
        "preset",
        "resize",
        "mean",
        "std",
        "channels",
        "batch-size",
        "seed",
      ].map((k) => [k, COMMON_FLAGS[k]]),
    ),
    image: { ...COMMON_FLAGS.image, required: true },
    method: { value: "NAME", help: "the attribution method to evaluate (salient methods)" },
    map: { value: "FILE.npy", help: "a saved map instead ([1, C, H, W], [C, H, W] or [H, W])" },
    metrics: { value: "a,b,c", required: true, help: "the metrics (listed below), or all" },
    score: {
      value: "logit|softmax",
      default: "logit",
      help: "what perturbation metrics read from the model (Quantus's choice varies by metric)",
    },
    images: {
      value: "B.png,C.png",
      help: "more images of the same size, for sensitivity-n (which correlates across images)",
    },
    mask: { value: "FILE.png", help: "ground-truth mask for localisation metrics (>= 0.5 inside)" },
    out: {
      value: "PREFIX",
      required: true,
      help: "writes PREFIX.json; a trailing .json is dropped",
    },
    ...METHOD_FLAGS,
  },
  notes: `metrics (defaults as their anchors):\n${Object.entries(METRICS)
    .map(([n, e]) => `  ${n.padEnd(26)}${e.family}: ${e.about}`)
    .join(
      "\n",
    )}\nprints a JSON summary line last, with the files written; exit 1 if a metric failed (the rest are written).`,
};

type Values = Record<string, string | undefined>;

/** The metric names, checked against the other flags before any model is loaded. */
function checkMetricFlags(v: Values): string[] {
  const names =
    v.metrics!.trim() === "all"
      ? Object.keys(METRICS).filter(
          (n) =>
            (v.method !== undefined || !METRICS[n].needs.includes("method")) &&
            (v.mask !== undefined || !METRICS[n].needs.includes("mask")) &&
            (v.images !== undefined || !METRICS[n].needs.includes("images")),
        )
      : v.metrics!.split(",").map((s) => s.trim());
  if (v.method === undefined && v.map === undefined)
    throw new UsageError("give --method NAME or --map FILE.npy (the map to evaluate)");
  if (v.method !== undefined && v.map !== undefined)
    throw new UsageError("give --method or --map, not both");
  if (v.method !== undefined && !METHODS[v.method])
    throw new UsageError(
      `unknown method "${v.method}"${didYouMean(v.method, Object.keys(METHODS), (s) => `"${s}"`)} (see salient methods)`,
    );
  if (v.method !== undefined && METHODS[v.method].noImage)
    throw new UsageError(`${v.method} synthesises an image; it has no map of an input to evaluate`);
  for (const n of names) {
    const e = METRICS[n];
    if (!e)
      throw new UsageError(
        `--metrics: unknown metric "${n}"${didYouMean(n, Object.keys(METRICS), (s) => `"${s}"`)} (known: ${Object.keys(METRICS).join(", ")}, or all)`,
      );
    if (e.needs.includes("method") && v.method === undefined)
      throw new UsageError(
        `${n} re-runs the method on changed inputs or models: give --method, not --map`,
      );
    if (e.needs.includes("images") && v.images === undefined)
      throw new UsageError(`${n} correlates across images: give --images B.png,C.png as well`);
    if (e.needs.includes("mask") && v.mask === undefined)
      throw new UsageError(
        `${n} compares the map with a ground-truth region: give --mask FILE.png`,
      );
  }
  if (names.length === 0) throw new UsageError("--metrics: no metric to run");
  return [...new Set(names)];
}

/**
 * --image and --images as one batch, each image explained for its own predicted class (or for
 * --target when given).
 */
async function imageBatch(m: MetricInput): Promise<{ x: Tensor; map: Tensor; targets: number[] }> {
  const [, c, h, w] = m.p.x.shape;
  const xs = [m.p.x];
  const targets = [m.p.target];
  const maps: Tensor[] = [];
  try {
    for (const path of m.images) {
      const img = readImage(path, c === 1 ? 1 : 3);
      if (img.height !== h || img.width !== w)
        throw new Error(`--images: "${path}" is ${img.height}x${img.width}; --image is ${h}x${w}`);
      const xi = keep(tensor(img.data, [1, c, h, w]));
      xs.push(xi);
      const out = tidy(() => keep(reshape(m.p.model(xi), [1, -1])));
      const logits = await out.data();
      out.dispose();
      let best = 0;
      for (let k = 1; k < logits.length; k++) if (logits[k] > logits[best]) best = k;
      targets.push(m.p.values.target === undefined ? best : m.p.target);
    }
    for (let i = 0; i < xs.length; i++) maps.push(await m.explain(xs[i], { target: targets[i] }));
    const x = tidy(() => keep(concat(xs, 0)));
    const map = tidy(() => keep(concat(maps, 0)));
    return { x, map, targets };
  } finally {
    for (const t of xs.slice(1)) t.dispose();
    for (const t of maps) t.dispose();
  }
}

/** A saved map as [1, C, H, W] for an input [1, C', H, W]. */
function readMap(path: string, x: Tensor): Tensor {
  const { shape, values } = decodeNpy(new Uint8Array(readFileSync(path)), path);
  const [, , h, w] = x.shape;
  const dims = shape[0] === 1 && shape.length === 4 ? shape.slice(1) : shape;
  const c = dims.length === 2 ? 1 : dims.length === 3 ? dims[0] : -1;
  if (c < 1 || dims.at(-2) !== h || dims.at(-1) !== w)
    throw new Error(
      `--map "${path}" has shape [${shape}]; expected [1, C, ${h}, ${w}], [C, ${h}, ${w}] or [${h}, ${w}] to match the input`,
    );
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i]))
      throw new Error(`--map "${path}" contains ${values[i]} at flat index ${i}`);
  return keep(tensor(values, [1, c, h, w]));
}

function readMask(path: string, x: Tensor): Uint8Array {
  const [, , h, w] = x.shape;
  const img = readImage(path, 1);
  if (img.height !== h || img.width !== w)
    throw new Error(`--mask "${path}" is ${img.height}x${img.width}; the input is ${h}x${w}`);
  return Uint8Array.from(img.data, (v) => (v >= 0.5 ? 1 : 0));
}

export interface EvaluateSummary {
  model: string;
  target: number;
  method?: string;
  map?: string;
  /** Each metric's headline score. */
  scores: Record<string, unknown>;
  errors?: Record<string, string>;
  json: string;
  files: string[];
}

export async function runEvaluate(
  args: string[],
  log: (line: string) => void,
): Promise<EvaluateSummary> {
  const values = parseFlags(EVALUATE_SPEC, args);
  const names = checkMetricFlags(values);
  choiceFlag("score", values.score, ["logit", "softmax"], "logit");
  checkFlags(values);
  const prefix = outPrefix(values.out!, [".json"]);
  const method = values.method;
  const p = await prepare(values, null);
  const held: Tensor[] = [p.x];
  try {
    const explain = async (x: Tensor, o: { model?: Model; target?: number } = {}) => {
      const { result } = await attributeWith(
        { ...p, x, model: o.model ?? p.model, target: o.target ?? p.target },
        method!,
      );
      return result.map;
    };
    let map: Tensor;
    if (method !== undefined) {
      map = keep(await explain(p.x));
      held.push(map);
      if (map.rank !== 4 || map.shape[2] !== p.x.shape[2] || map.shape[3] !== p.x.shape[3])
        throw new Error(
          `${method} gave a map [${map.shape}] that does not match the input [${p.x.shape}]`,
        );
    } else {
      map = readMap(values.map!, p.x);
      held.push(map);
    }
    const input: MetricInput = {
      p,
      map,
      saliency: (await pixelSaliency(map, "evaluate"))[0],
      mask: values.mask === undefined ? null : readMask(values.mask, p.x),
      score: values.score === "softmax" ? probabilityOf(p.target) : p.target,
      images: values.images?.split(",").map((f) => f.trim()) ?? [],
      seed: intFlag("seed", values.seed, 0, 0),
      batchSize:
        values["batch-size"] === undefined
          ? undefined
          : intFlag("batch-size", values["batch-size"], 1),
      explain,
    };
    const results: Record<string, Record<string, unknown>> = {};
    const errors: Record<string, string> = {};
    for (const n of names) {
      const t0 = performance.now();
      try {
        const r = await METRICS[n].run(input);
        results[n] = {
          family: METRICS[n].family,
          ...r,
          time_s: Math.round(performance.now() - t0) / 1000,
        };
      } catch (e) {
        errors[n] = (e as Error).message;
        results[n] = { family: METRICS[n].family, error: errors[n] };
      }
    }
    const report = {
      model: p.resolved.name,
      image: values.image,
      target: p.target,
      score: p.score,
      ...(method !== undefined ? { method } : { map: values.map }),
      metrics: results,
    };
    const files = writeOutputs([[`${prefix}.json`, `${JSON.stringify(report, null, 2)}\n`]]);
    const summary: EvaluateSummary = {
      model: p.resolved.name,
      target: p.target,
      ...(method !== undefined ? { method } : { map: values.map }),
      scores: Object.fromEntries(
        Object.entries(results).map(([n, r]) => [n, "error" in r ? null : r.score]),
      ),
      ...(Object.keys(errors).length ? { errors } : {}),
      json: files[0],
      files,
    };
    log(JSON.stringify(summary));
    if (Object.keys(errors).length) {
      throw new Error(
        `${Object.keys(errors).length} metric(s) failed (${Object.entries(errors)
          .map(([n, m]) => `${n}: ${m}`)
          .join("; ")}); the others are in ${files[0]}`,
      );
    }
    return summary;
  } finally {
    for (const t of held) t.dispose();
  }
}
