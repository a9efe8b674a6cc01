/**
 * The attribution methods by name, each with its options as data and a runner that turns option
 * values (already read from a command line or a page's inputs, as text) into the library call.
 * `salient attribute`/`gallery`/`batch` and the explorer run methods through this table, and
 * `salient methods` prints it. No platform APIs: reading a baseline image file is the caller's
 * (MethodContext.readBaseline).
 */

import type { Tensor } from "../autodiff/tensor.ts";
import type { Module } from "../models/nn/module.ts";
import { concat } from "../ops/concat.ts";
import { LRP_COMPOSITES, type LrpComposite } from "../rules/lrp.ts";
import { type BaselineSpec, makeBaseline } from "./baselines.ts";
import { blurIg } from "./methods/blur-ig.ts";
import {
  ablationCam,
  eigenCam,
  type PerturbationCamOptions,
  scoreCam,
} from "./methods/cam-family.ts";
import { classModelVisualization } from "./methods/class-model.ts";
import { deepLift, deepLiftShap } from "./methods/deeplift.ts";
import { type ExtremalVariant, extremalPerturbation } from "./methods/extremal-perturbation.ts";
import { featureAblation } from "./methods/feature-ablation.ts";
import { fullGrad, fullGradBiases } from "./methods/fullgrad.ts";
import { type CamVariant, camMethod } from "./methods/grad-cam.ts";
import { gradient, saliency } from "./methods/gradient.ts";
import { gradientShap } from "./methods/gradient-shap.ts";
import { deconvnet, guidedBackprop } from "./methods/guided-backprop.ts";
import { guidedGradCam } from "./methods/guided-grad-cam.ts";
import { guidedIg } from "./methods/guided-ig.ts";
import { igos } from "./methods/igos.ts";
import { inputXGradient } from "./methods/input-x-gradient.ts";
import { integratedGradients } from "./methods/integrated-gradients.ts";
import { kernelShap } from "./methods/kernel-shap.ts";
import { lime } from "./methods/lime.ts";
import { lrp } from "./methods/lrp.ts";
import { meaningfulPerturbation } from "./methods/meaningful-perturbation.ts";
import { occlusion } from "./methods/occlusion.ts";
import { rise } from "./methods/rise.ts";
import { type NoiseVariant, smoothGrad } from "./methods/smooth-grad.ts";
import { xrai } from "./methods/xrai.ts";
import {
  choiceFlag,
  flag,
  intFlag,
  numberFlag,
  numFlag,
  parseGrid,
  UsageError,
} from "./option-values.ts";
import { QUADRATURE_RULES, type QuadratureRule } from "./path/quadrature.ts";
import type { Preset } from "./presets.ts";
import { gridSegments } from "./segments/grid.ts";
import { slicSegments } from "./segments/slic.ts";
import type { Attribution, AttributionMethod, Model, Target } from "./types.ts";

/**
 * What a registered method gets to run: the model, the input and target, and its option values as
 * text (from CLI flags or the explorer's inputs).
 */
export interface MethodContext {
  /** The model to explain. */
  model: Model;
  /** The input batch [N, C, H, W]. */
  x: Tensor;
  /** The class index to explain. */
  target: number;
  /** Option values by name (a MethodOption's name, the CLI flag without --); undefined when not given. */
  opt: (name: string) => string | undefined;
  /** A reference library's conventions (--preset captum, pair or pytorch-grad-cam), or null. */
  preset: Preset | null;
  /** The model as a module, for methods that read its parameters (FullGrad's biases). */
  module?: Module;
  /** The layer for CAM methods (--layer or the architecture's default). */
  layer: () => string;
  /** Reads a baseline image file shaped like the input. */
  readBaseline: (path: string) => Tensor;
  /** Model inputs per call for batched methods; undefined lets each method size its batches. */
  batchSize: number | undefined;
  /** Seed of every random draw (noise, masks, sampling); the CLI default is 0. */
  seed: number;
}

/** One option a method reads, as data: `--name value (default, note)` in `salient methods`. */
export interface MethodOption {
  /** The CLI flag without "--", and the explorer's input name. */
  name: string;
  /** What a value looks like: "N", "F", "NAME", or the allowed words joined by "|". */
  value: string;
  /** The default as text, where there is one fixed default. */
  default?: string;
  /** A remark shown after the default ("relative to the input range"). */
  note?: string;
}

/** "--name VALUE (default, note)", as `salient methods` and the explorer show an option. */
export function optionText(o: MethodOption): string {
  const paren = [o.default, o.note].filter((t) => t !== undefined).join(", ");
  return `--${o.name} ${o.value}${paren ? ` (${paren})` : ""}`;
}

/** A registered attribution method: its description, the options it reads and how to run it. */
export interface MethodEntry {
  /** One line for `salient methods` and the explorer. */
  summary: string;
  /** The options `run` reads, with their defaults as text. */
  options: readonly MethodOption[];
  /** Computed at a layer, upsampled to the input ([1, 1, H, W]). */
  layerMap?: boolean;
  /** Runs without --image (class model visualisation). */
  noImage?: boolean;
  /** Default sign mode of the overlay. */
  sign: "positive" | "absolute" | "all";
  /**
   * Computes the map, reading options through `c.opt`; bad values throw a UsageError naming the
   * flag.
   */
  run(c: MethodContext): Promise<Attribution<Record<string, unknown>>>;
}

function pairOf(name: string, v: string | undefined): number | [number, number] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(/[x,]/).map((p) => intFlag(name, p, 1));
  if (parts.length === 1) return parts[0];
  if (parts.length === 2) return [parts[0], parts[1]];
  throw new UsageError(`${flag(name)} must be N or HxW, got "${v}"`);
}

const BASELINE_WORDS = ["black", "white", "blur", "noise"];
const IMAGE_FILE = /\.(png|jpe?g)$/i;

function baselineOf(c: MethodContext): BaselineSpec {
  const b = c.opt("baseline");
  if (b === undefined || b === "black") return c.preset?.integratedGradients.baseline ?? "black";
  if (b === "white") return "white";
  if (b === "blur") return { kind: "blur" };
  if (b === "noise") return { kind: "uniform", seed: c.seed };
  if (IMAGE_FILE.test(b)) return c.readBaseline(b);
  throw new UsageError(
    `--baseline must be black, white, blur, noise or an image file (.png/.jpg), got "${b}"`,
  );
}

/** --baselines A.png,B.png (images shaped like the input) or noise:N, stacked [K, C, H, W]. */
function baselinesOf(c: MethodContext): Tensor {
  const b = c.opt("baselines") ?? "noise:8";
  const noise = /^noise:(\d+)$/.exec(b);
  if (noise) {
    const k = intFlag("baselines", noise[1], 8);
    return concat(
      Array.from({ length: k }, (_, i) =>
        makeBaseline({ kind: "uniform", seed: c.seed + i }, c.x, "deepLiftShap"),
      ),
      0,
    );
  }
  const files = b.split(",");
  if (files.some((f) => !IMAGE_FILE.test(f))) {
    throw new UsageError(`--baselines must be image files A.png,B.png,... or noise:N, got "${b}"`);
  }
  return concat(
    files.map((f) => c.readBaseline(f)),
    0,
  );
}

/** --grid HxW for a token layer, when given. */
const gridOption = (c: MethodContext) => {
  const g = c.opt("grid");
  return g === undefined ? {} : { grid: parseGrid(g) };
};

const cam = (variant: CamVariant): MethodEntry => ({
  summary: `${variant} on a named layer (ReLU'd, upsampled bilinearly to the input)`,
  options: [{ name: "layer", value: "NAME" }],
  layerMap: true,
  sign: "positive",
  run: (c) =>
    camMethod(c.model, c.x, c.target, variant, {
      layer: c.layer(),
      ...gridOption(c),
      ...(c.preset ? (variant === "gradcam" ? c.preset.gradCam : c.preset.camFamily) : {}),
      upsample: "bilinear",
    }),
});

/** The pixel groups of --segments grid:N|slic:N (default grid:4). */
async function segmentMask(c: MethodContext): Promise<Int32Array> {
  const spec = c.opt("segments") ?? "grid:4";
  const m = /^(grid|slic):(\d+)$/.exec(spec);
  if (!m) throw new UsageError(`--segments must be grid:N or slic:N, got "${spec}"`);
  const [, ch, h, w] = c.x.shape;
  const k = intFlag("segments", m[2], 1);
  return m[1] === "grid"
    ? gridSegments(h, w, k)
    : slicSegments(Float32Array.from(await c.x.data()), ch, h, w, { segments: k });
}

/** A gradient-free CAM (Score-CAM, Ablation-CAM, Eigen-CAM) on --layer. */
const perturbationCamEntry = (
  summary: string,
  method: (
    m: Model,
    x: Tensor,
    t: Target,
    o: PerturbationCamOptions,
  ) => Promise<Attribution<Record<string, unknown>>>,
): MethodEntry => ({
  summary,
  options: [
    { name: "layer", value: "NAME" },
    { name: "batch-size", value: "N" },
  ],
  layerMap: true,
  sign: "positive",
  run: (c) =>
    method(c.model, c.x, c.target, {
      ...c.preset?.camFamily,
      layer: c.layer(),
      upsample: "bilinear",
      batchSize: c.batchSize,
    }),
});

/** Base methods SmoothGrad can wrap. */
const BASES: Record<string, AttributionMethod<unknown, Record<string, unknown>>> = {
  gradient: (m, x, t) => gradient(m, x, t),
  saliency: (m, x, t) => saliency(m, x, t),
  "input-x-gradient": (m, x, t) => inputXGradient(m, x, t),
  "guided-backprop": (m, x, t) => guidedBackprop(m, x, t),
  "integrated-gradients": (m, x, t, o) => integratedGradients(m, x, t, o as object),
};

/**
 * Every attribution method by its CLI name: the table `salient attribute`, `salient methods` and
 * the explorer all read.
 */
export const METHODS: Readonly<Record<string, MethodEntry>> = {
  gradient: {
    summary: "raw input gradient of the target logit (PAIR); --preset captum takes |gradient|",
    options: [],
    sign: "all",
    run: (c) => gradient(c.model, c.x, c.target, c.preset?.gradient ?? {}),
  },
  saliency: {
    summary: "Simonyan's saliency map: max over channels of |gradient|",
    options: [],
    sign: "absolute",
    run: (c) => saliency(c.model, c.x, c.target),
  },
  "input-x-gradient": {
    summary: "input * gradient",
    options: [],
    sign: "all",
    run: (c) => inputXGradient(c.model, c.x, c.target),
  },
  "guided-backprop": {
    summary: "guided backpropagation (ReLU rule set)",
    options: [],
    sign: "all",
    run: (c) => guidedBackprop(c.model, c.x, c.target),
  },
  deconvnet: {
    summary: "deconvnet (ReLU rule set)",
    options: [],
    sign: "all",
    run: (c) => deconvnet(c.model, c.x, c.target),
  },
  deeplift: {
    summary: "DeepLIFT, Rescale rule (Captum's DeepLift): (x - baseline) * multipliers",
    options: [{ name: "baseline", value: "black|white|blur|noise|FILE.png", default: "black" }],
    sign: "all",
    run: (c) => deepLift(c.model, c.x, c.target, { baseline: baselineOf(c) }),
  },
  "deeplift-shap": {
    summary: "DeepLiftShap: DeepLIFT averaged over a baseline distribution",
    options: [
      { name: "baselines", value: "A.png,B.png|noise:N", default: "noise:8" },
      { name: "seed", value: "N" },
    ],
    sign: "all",
    run: (c) => deepLiftShap(c.model, c.x, c.target, { baselines: baselinesOf(c) }),
  },
  lrp: {
    summary:
      "layer-wise relevance propagation with a Zennit composite (default: epsilon everywhere)",
    options: [
      { name: "composite", value: LRP_COMPOSITES.join("|"), default: "epsilon" },
      { name: "epsilon", value: "F", default: "1e-6" },
    ],
    sign: "all",
    run: (c) =>
      lrp(c.model, c.x, c.target, {
        composite: choiceFlag<LrpComposite>(
          "composite",
          c.opt("composite"),
          LRP_COMPOSITES,
          "epsilon",
        ),
        epsilon: numberFlag("epsilon", c.opt("epsilon"), { min: 0 }, 1e-6),
      }),
  },
  gradcam: cam("gradcam"),
  "gradcam++": cam("gradcam++"),
  hirescam: cam("hirescam"),
  layercam: cam("layercam"),
  "xgrad-cam": cam("xgradcam"),
  "score-cam": perturbationCamEntry(
    "Score-CAM (pytorch-grad-cam): channels as input masks, softmax of their scores",
    scoreCam,
  ),
  "ablation-cam": perturbationCamEntry(
    "Ablation-CAM (pytorch-grad-cam): score drop when each channel is ablated",
    ablationCam,
  ),
  "eigen-cam": perturbationCamEntry(
    "Eigen-CAM: first principal component of the layer (no target)",
    eigenCam,
  ),
  fullgrad: {
    summary: "FullGrad (pytorch-grad-cam): |x * grad| plus |bias * grad| of every conv/BN layer",
    options: [],
    sign: "positive",
    run: async (c) => {
      const biases = c.module ? await fullGradBiases(c.module) : [];
      if (!biases.length)
        throw new Error(
          "fullgrad: no convolution or batch-norm layer with a bias found (FullGrad reads them from built-in and ONNX models)",
        );
      return fullGrad(c.model, c.x, c.target, { biases });
    },
  },
  "guided-gradcam": {
    summary: "guided backprop times the upsampled Grad-CAM map",
    options: [{ name: "layer", value: "NAME" }],
    sign: "all",
    run: (c) =>
      guidedGradCam(c.model, c.x, c.target, {
        layer: c.layer(),
        ...gridOption(c),
        upsample: "bilinear",
      }),
  },
  smoothgrad: {
    summary: "SmoothGrad / SmoothGrad^2 / VarGrad around a base method",
    options: [
      { name: "base-method", value: Object.keys(BASES).join("|"), default: "gradient" },
      { name: "samples", value: "N", default: "25" },
      { name: "noise", value: "F", default: "0.15", note: "relative to the input range" },
      { name: "variant", value: "mean|squared|vargrad", default: "mean" },
      { name: "seed", value: "N" },
    ],
    sign: "absolute",
    run: (c) => {
      const baseName = c.opt("base-method") ?? "gradient";
      const base = BASES[baseName];
      if (!base)
        throw new UsageError(
          `--base-method must be one of ${Object.keys(BASES).join(", ")}, got "${baseName}"`,
        );
      const p = c.preset?.smoothGrad ?? {};
      return smoothGrad(base, c.model, c.x, c.target, {
        ...p,
        samples: intFlag("samples", c.opt("samples"), p.samples ?? 25),
        noise: numFlag("noise", c.opt("noise"), p.noise ?? 0.15),
        variant: choiceFlag<NoiseVariant>(
          "variant",
          c.opt("variant"),
          ["mean", "squared", "vargrad"],
          p.variant ?? "mean",
        ),
        seed: c.seed,
        batchSize: c.batchSize,
      });
    },
  },
  "integrated-gradients": {
    summary: "integrated gradients with a completeness delta",
    options: [
      { name: "steps", value: "N", default: "50" },
      { name: "quadrature", value: QUADRATURE_RULES.join("|"), default: "gausslegendre" },
      { name: "baseline", value: "black|white|blur|noise|FILE.png", default: "black" },
      { name: "batch-size", value: "N" },
    ],
    sign: "all",
    run: (c) => {
      const p = c.preset?.integratedGradients ?? {};
      return integratedGradients(c.model, c.x, c.target, {
        steps: intFlag("steps", c.opt("steps"), p.steps ?? 50),
        quadrature: choiceFlag<QuadratureRule>(
          "quadrature",
          c.opt("quadrature"),
          QUADRATURE_RULES,
          p.quadrature ?? "gausslegendre",
        ),
        baseline: baselineOf(c),
        batchSize: c.batchSize,
      });
    },
  },
  "blur-ig": {
    summary: "Blur IG (PAIR defaults: sigma_max 50, 100 steps, grad step 0.01)",
    options: [
      { name: "steps", value: "N", default: "100" },
      { name: "sigma-max", value: "F", default: "50" },
      { name: "batch-size", value: "N" },
    ],
    sign: "all",
    run: (c) =>
      blurIg(c.model, c.x, c.target, {
        steps: intFlag("steps", c.opt("steps"), 100),
        sigmaMax: numFlag("sigma-max", c.opt("sigma-max"), 50),
        batchSize: c.batchSize,
      }),
  },
  occlusion: {
    summary: "sliding-window occlusion (mean over covering windows; --preset pair sums)",
    options: [
      { name: "window", value: "N|HxW", default: "15", note: "clipped to the image" },
      { name: "stride", value: "N|HxW", default: "1" },
      { name: "fill", value: "F", default: "0" },
      { name: "batch-size", value: "N" },
    ],
    sign: "all",
    run: (c) => {
      const p = c.preset?.occlusion ?? {};
      return occlusion(c.model, c.x, c.target, {
        ...p,
        window: pairOf("window", c.opt("window")) ?? p.window,
        stride: pairOf("stride", c.opt("stride")) ?? p.stride,
        fill: numFlag("fill", c.opt("fill"), typeof p.fill === "number" ? p.fill : 0),
        batchSize: c.batchSize,
      });
    },
  },
  "feature-ablation": {
    summary: "ablation of segments: a grid of N x N cells or N SLIC superpixels",
    options: [
      { name: "segments", value: "grid:N|slic:N", default: "grid:4" },
      { name: "fill", value: "F", default: "0" },
      { name: "batch-size", value: "N" },
    ],
    sign: "all",
    run: async (c) => {
      const spec = c.opt("segments") ?? "grid:4";
      const m = /^(grid|slic):(\d+)$/.exec(spec);
      if (!m) throw new UsageError(`--segments must be grid:N or slic:N, got "${spec}"`);
      const [, ch, h, w] = c.x.shape;
      const k = intFlag("segments", m[2], 1);
      const mask =
        m[1] === "grid"
          ? gridSegments(h, w, k)
          : slicSegments(Float32Array.from(await c.x.data()), ch, h, w, { segments: k });
      return featureAblation(c.model, c.x, c.target, {
        mask,
        fill: numFlag("fill", c.opt("fill"), 0),
        batchSize: c.batchSize,
      });
    },
  },
  "kernel-shap": {
    summary: "KernelSHAP over segments (Captum sampling; exact Shapley when samples >= 2^segments)",
    options: [
      { name: "segments", value: "grid:N|slic:N", default: "grid:4" },
      { name: "fill", value: "F", default: "0" },
      { name: "samples", value: "N", default: "25" },
      { name: "seed", value: "N" },
      { name: "batch-size", value: "N" },
    ],
    sign: "all",
    run: async (c) => {
      const p = c.preset?.kernelShap ?? {};
      return kernelShap(c.model, c.x, c.target, {
        mask: await segmentMask(c),
        fill: numFlag("fill", c.opt("fill"), 0),
        samples: intFlag("samples", c.opt("samples"), p.samples ?? 25, 2),
        seed: c.seed,
        batchSize: c.batchSize,
      });
    },
  },
  lime: {
    summary: "LIME over segments (Captum: Bernoulli 1/2 samples, cosine kernel, Lasso 0.01)",
    options: [
      { name: "segments", value: "grid:N|slic:N", default: "grid:4" },
      { name: "fill", value: "F", default: "0" },
      { name: "samples", value: "N", default: "50" },
      { name: "lasso-alpha", value: "F", default: "0.01" },
      { name: "kernel-width", value: "F", default: "1" },
      { name: "seed", value: "N" },
      { name: "batch-size", value: "N" },
    ],
    sign: "all",
    run: async (c) => {
      const p = c.preset?.lime ?? {};
      return lime(c.model, c.x, c.target, {
        ...p,
        mask: await segmentMask(c),
        fill: numFlag("fill", c.opt("fill"), 0),
        samples: intFlag("samples", c.opt("samples"), p.samples ?? 50),
        alpha: numberFlag("lasso-alpha", c.opt("lasso-alpha"), { min: 0 }, p.alpha ?? 0.01),
        kernelWidth: numberFlag(
          "kernel-width",
          c.opt("kernel-width"),
          { min: 0, minExclusive: true },
          p.kernelWidth ?? 1,
        ),
        seed: c.seed,
        batchSize: c.batchSize,
      });
    },
  },
  "gradient-shap": {
    summary: "GradientSHAP / expected gradients (Captum: 5 samples, random path point)",
    options: [
      { name: "samples", value: "N", default: "5" },
      { name: "stdev", value: "F", default: "0" },
      { name: "baseline", value: "black|white|blur|noise|FILE.png", default: "black" },
      { name: "seed", value: "N" },
      { name: "batch-size", value: "N" },
    ],
    sign: "all",
    run: (c) => {
      const p = c.preset?.gradientShap ?? {};
      return gradientShap(c.model, c.x, c.target, {
        ...p,
        baselines: baselineOf(c),
        samples: intFlag("samples", c.opt("samples"), p.samples ?? 5),
        stdev: numberFlag("stdev", c.opt("stdev"), { min: 0 }, p.stdev ?? 0),
        seed: c.seed,
        batchSize: c.batchSize,
      });
    },
  },
  "guided-ig": {
    summary: "Guided IG (PAIR: 200 steps, fraction 0.25, max_dist 0.02, black baseline)",
    options: [
      { name: "steps", value: "N", default: "200" },
      { name: "fraction", value: "F", default: "0.25" },
      { name: "max-dist", value: "F", default: "0.02" },
      { name: "baseline", value: "black|white|blur|noise|FILE.png", default: "black" },
    ],
    sign: "all",
    run: (c) =>
      guidedIg(c.model, c.x, c.target, {
        steps: intFlag("steps", c.opt("steps"), 200),
        fraction: numberFlag("fraction", c.opt("fraction"), { min: 0, max: 1 }, 0.25),
        maxDist: numberFlag("max-dist", c.opt("max-dist"), { min: 0, max: 1 }, 0.02),
        baseline: baselineOf(c),
      }),
  },
  xrai: {
    summary:
      "XRAI (PAIR): IG from black and white, ranked over Felzenszwalb regions by attribution density",
    options: [
      { name: "steps", value: "N", default: "100" },
      { name: "area-threshold", value: "F", default: "1" },
      { name: "batch-size", value: "N" },
    ],
    sign: "all",
    run: (c) =>
      xrai(c.model, c.x, c.target, {
        steps: intFlag("steps", c.opt("steps"), 100),
        areaThreshold: numberFlag("area-threshold", c.opt("area-threshold"), { min: 0, max: 1 }, 1),
        batchSize: c.batchSize,
      }),
  },
  rise: {
    summary: "RISE: random masks weighted by the softmax probability of the target",
    options: [
      { name: "masks", value: "N", default: "2000" },
      { name: "cells", value: "N", default: "8" },
      { name: "seed", value: "N" },
      { name: "batch-size", value: "N" },
    ],
    sign: "positive",
    run: (c) =>
      rise(c.model, c.x, c.target, {
        masks: intFlag("masks", c.opt("masks"), 2000),
        cells: intFlag("cells", c.opt("cells"), 8),
        seed: c.seed,
        batchSize: c.batchSize,
      }),
  },
  "meaningful-perturbation": {
    summary:
      "meaningful perturbation (Fong & Vedaldi 2017): the smallest smooth blur mask that deletes the class; map = 1 - mask",
    options: [
      { name: "iterations", value: "N", default: "300" },
      { name: "seed", value: "N" },
    ],
    sign: "positive",
    run: (c) =>
      meaningfulPerturbation(c.model, c.x, c.target, {
        iterations: intFlag("iterations", c.opt("iterations"), 300, 0),
        seed: c.seed,
      }),
  },
  "extremal-perturbation": {
    summary:
      "extremal perturbations (Fong et al. 2019, TorchRay): the mask of a given area that keeps the class; map = mask in [0, 1], one channel per area",
    options: [
      { name: "areas", value: "a,b", default: "0.1" },
      { name: "variant", value: "preserve|delete|dual", default: "preserve" },
      { name: "iterations", value: "N", default: "800" },
    ],
    sign: "positive",
    run: (c) =>
      extremalPerturbation(c.model, c.x, c.target, {
        areas: areasOf(c.opt("areas")),
        variant: choiceFlag<ExtremalVariant>(
          "variant",
          c.opt("variant"),
          ["preserve", "delete", "dual"],
          "preserve",
        ),
        iterations: intFlag("iterations", c.opt("iterations"), 800, 0),
      }),
  },
  "igos++": {
    summary:
      "iGOS++ (Khorram et al. 2021): deletion and insertion masks optimised with integrated gradients; map = 1 - mask",
    options: [
      { name: "iterations", value: "N", default: "20" },
      { name: "variant", value: "igos++|igos", default: "igos++" },
      { name: "seed", value: "N" },
    ],
    sign: "positive",
    run: (c) =>
      igos(c.model, c.x, c.target, {
        variant: choiceFlag("variant", c.opt("variant"), ["igos++", "igos"] as const, "igos++"),
        iterations: intFlag("iterations", c.opt("iterations"), 20, 0),
        seed: c.seed,
      }),
  },
  "class-model": {
    summary:
      "class model visualisation (Simonyan): gradient ascent on an image from black; no --image",
    options: [
      { name: "steps", value: "N", default: "200" },
      { name: "lr", value: "F", default: "1" },
      { name: "l2", value: "F", default: "0.01" },
    ],
    noImage: true,
    sign: "absolute",
    run: (c) =>
      classModelVisualization(c.model, c.x, c.target, {
        steps: intFlag("steps", c.opt("steps"), 200, 0),
        lr: numFlag("lr", c.opt("lr"), 1),
        l2: numFlag("l2", c.opt("l2"), 0.01),
        clip: [0, 1],
      }),
  },
};

/**
 * The method options given as words or formats (not plain numbers), checked before any model
 * runs: each method reads them only when it starts. `opt("method")` picks the --variant words.
 */
export function checkMethodOptions(opt: (name: string) => string | undefined): void {
  choiceFlag("base-method", opt("base-method"), Object.keys(BASES), "gradient");
  // smoothgrad, extremal-perturbation and igos++ each read --variant with their own words.
  const variants = VARIANT_WORDS[opt("method") ?? ""] ?? ["mean", "squared", "vargrad"];
  choiceFlag("variant", opt("variant"), variants, variants[0]);
  areasOf(opt("areas"));
  choiceFlag("quadrature", opt("quadrature"), QUADRATURE_RULES, "gausslegendre");
  pairOf("window", opt("window"));
  pairOf("stride", opt("stride"));
  const b = opt("baseline");
  if (b !== undefined && !BASELINE_WORDS.includes(b) && !IMAGE_FILE.test(b))
    throw new UsageError(
      `--baseline must be black, white, blur, noise or an image file (.png/.jpg), got "${b}"`,
    );
  const seg = opt("segments");
  if (seg !== undefined) {
    const m = /^(grid|slic):(\d+)$/.exec(seg);
    if (!m) throw new UsageError(`--segments must be grid:N or slic:N, got "${seg}"`);
    intFlag("segments", m[2], 1);
  }
}

/** The --variant words of the methods other than smoothgrad. */
const VARIANT_WORDS: Record<string, string[]> = {
  "extremal-perturbation": ["preserve", "delete", "dual"],
  "igos++": ["igos++", "igos"],
};

/** --areas a,b,...: fractions in (0, 1) (default 0.1). */
function areasOf(v: string | undefined): number[] {
  if (v === undefined) return [0.1];
  const areas = v
    .split(",")
    .map((a) => numberFlag("areas", a.trim(), { min: 0, minExclusive: true }));
  if (areas.some((a) => !(a < 1)))
    throw new UsageError(`--areas must be fractions in (0, 1), got "${v}"`);
  return areas;
}

export type { Target };
