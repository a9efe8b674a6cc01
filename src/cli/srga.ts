/**
 * `salient srga`: how far an SR network's deep features on a test set lie from those on a
 * reference set (SRGA, the KL divergence between multivariate generalised Gaussians fitted to
 * both sets; 0 for identical sets). Writes PREFIX.json
 * and PREFIX.svg (both sets on the reference's first two principal axes) and prints a JSON line.
 */
import { defaultFeatureLayer } from "../attribution/sr/deep-features.ts";
import { pca, type SrgaModel, srga } from "../attribution/sr/srga.ts";
import { groupedScatterSvg } from "../viz/grouped-scatter-svg.ts";
import { type CommandSpec, numberFlag, parseFlags, UsageError } from "./args.ts";
import { outPrefix, writeOutputs } from "./output-set.ts";
import { featureSet } from "./sr-features.ts";
import { describeDegradation, imageFiles, parseDegradation } from "./sr-image-sets.ts";
import { resolveSrModule, SR_MODULE_FLAGS, SR_SET_FLAGS } from "./sr-modules.ts";

/** Flags shared by the feature-space commands. */
export const FEATURE_FLAGS: CommandSpec["flags"] = {
  model: {
    value: "M",
    required: true,
    help: "the SR network: fsrcnn-x2 | file.onnx | weights file with --arch",
  },
  ...SR_MODULE_FLAGS,
  ...SR_SET_FLAGS,
  layer: {
    value: "PATH",
    help: "feature layer (module dotted path or ONNX tensor/node name); default: the end of the body (conv_after_body or body)",
  },
  cell: {
    value: "N",
    default: "8",
    help: "features are mean-pooled over N x N cells of the feature map: one vector per cell",
  },
  seed: { value: "N", default: "0", help: "seed of the noise degradation" },
};

export const SRGA_SPEC: CommandSpec = {
  name: "srga",
  summary:
    "SRGA: distance of an SR network's deep features on a (degraded) test set from a reference set",
  synopsis:
    "--model M [--arch NAME] (--image I | --images DIR) --reference-images DIR [--degradation KIND] --out PREFIX",
  flags: {
    ...FEATURE_FLAGS,
    image: { value: "HR.png", help: "one HR test image" },
    images: { value: "DIR", help: "a folder of HR test images (.png/.jpg)" },
    "reference-images": { value: "DIR", required: true, help: "a folder of HR reference images" },
    degradation: {
      value: "KIND",
      default: "none",
      help: "degradation of the test LR images: none | blur:S | noise:S",
    },
    "reference-degradation": {
      value: "KIND",
      default: "none",
      help: "degradation of the reference LR images",
    },
    components: { value: "N", default: "8", help: "principal components of the reference kept" },
    fit: {
      value: "MODEL",
      default: "mggd",
      help: "mggd: one multivariate generalised Gaussian per set (the paper's); per-component: a univariate one per component, KLs summed (faster, exact only for independent components)",
    },
    out: { value: "PREFIX", required: true, help: "writes PREFIX.json and PREFIX.svg" },
  },
  notes:
    "SRGA = log10(KL + 1e-5) + 5, KL(test || reference) between zero-mean multivariate generalised Gaussians fitted by maximum likelihood to each set's projections on the reference's principal components (--fit per-component: univariate fits per component, KLs summed). The multivariate fit needs more feature vectors per set than components. Prints a JSON line last.",
};

export function featureOptions(v: Record<string, string | undefined>) {
  const scale = numberFlag("scale", v.scale, { integer: true, min: 1, max: 16 }, 2);
  const range = numberFlag("range", v.range, { min: 0, minExclusive: true }, 1);
  const sr = resolveSrModule({ model: v.model!, scale, arch: v.arch, range });
  let layer = v.layer;
  if (!layer) {
    try {
      layer = defaultFeatureLayer(sr.module);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  return {
    sr,
    options: {
      scale,
      crop: numberFlag("crop", v.crop, { integer: true, min: 0 }, 96),
      cell: numberFlag("cell", v.cell, { integer: true, min: 1 }, 8),
      seed: numberFlag("seed", v.seed, { integer: true, min: 0 }, 0),
      layer,
    },
  };
}

export async function runSrga(args: string[], log: (line: string) => void): Promise<void> {
  const v = parseFlags(SRGA_SPEC, args);
  const components = numberFlag("components", v.components, { integer: true, min: 1 }, 8);
  const fit = v.fit ?? "mggd";
  if (fit !== "mggd" && fit !== "per-component")
    throw new UsageError(`--fit must be mggd or per-component, got "${fit}"`);
  const degradation = parseDegradation(v.degradation!, "degradation");
  const refDegradation = parseDegradation(v["reference-degradation"]!, "reference-degradation");
  const testFiles = imageFiles(v.image, v.images);
  const refFiles = imageFiles(undefined, v["reference-images"]);
  const prefix = outPrefix(v.out!, [".json", ".svg"]);
  const { sr, options } = featureOptions(v);
  const test = featureSet(sr, testFiles, degradation, options);
  const reference = featureSet(sr, refFiles, refDegradation, options);
  let r: ReturnType<typeof srga>;
  try {
    r = srga(test, reference, components, fit as SrgaModel);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { mean, axes } = pca(reference, 2);
  const at = (row: Float64Array, k: number) =>
    axes[k] ? row.reduce((s, x, j) => s + (x - mean[j]) * axes[k][j], 0) : 0;
  const svg = groupedScatterSvg(
    [
      ...reference.map((r) => ({ x: at(r, 0), y: at(r, 1), group: "reference" })),
      ...test.map((r) => ({ x: at(r, 0), y: at(r, 1), group: "test" })),
    ],
    {
      title: `SRGA ${r.srga.toFixed(3)} (${options.layer})`,
      xLabel: "reference PC 1",
      yLabel: "reference PC 2",
    },
  );
  const json = {
    model: sr.name,
    layer: options.layer,
    degradation: describeDegradation(degradation),
    reference_degradation: describeDegradation(refDegradation),
    srga: r.srga,
    kl: r.kl,
    components: r.components,
    fit: r.model,
    test_vectors: test.length,
    reference_vectors: reference.length,
    test_fit: r.test,
    reference_fit: r.reference,
    test_images: testFiles,
    reference_images: refFiles,
  };
  const written = writeOutputs([
    [`${prefix}.json`, `${JSON.stringify(json)}\n`],
    [`${prefix}.svg`, svg],
  ]);
  log(
    JSON.stringify({
      model: sr.name,
      layer: options.layer,
      degradation: json.degradation,
      srga: r.srga,
      kl: r.kl,
      components: r.components,
      fit: r.model,
      test_vectors: test.length,
      reference_vectors: reference.length,
      files: written,
    }),
  );
}
