/**
 * Compatibility presets: the defaults of Captum, PAIR saliency and pytorch-grad-cam where they differ
 * from ours, so
 * maps can be compared with papers that used those libraries. Spread them under your own options:
 * `integratedGradients(m, x, t, { ...PRESETS.pair.integratedGradients, steps: 10 })`.
 */
import type { BlurIgOptions } from "./methods/blur-ig.ts";
import type { PerturbationCamOptions } from "./methods/cam-family.ts";
import type { CamOptions } from "./methods/grad-cam.ts";
import type { GradientOptions } from "./methods/gradient.ts";
import type { GradientShapOptions } from "./methods/gradient-shap.ts";
import type { GuidedIgOptions } from "./methods/guided-ig.ts";
import type { IntegratedGradientsOptions } from "./methods/integrated-gradients.ts";
import type { KernelShapOptions } from "./methods/kernel-shap.ts";
import type { LimeOptions } from "./methods/lime.ts";
import type { OcclusionOptions } from "./methods/occlusion.ts";
import type { SmoothGradOptions } from "./methods/smooth-grad.ts";

/** The libraries whose defaults are available as presets. */
export type PresetName = "captum" | "pair" | "pytorch-grad-cam";

/** Every preset's name, for error messages and the CLI. */
export const PRESET_NAMES: readonly PresetName[] = ["captum", "pair", "pytorch-grad-cam"];

/** One library's defaults for each method that has them. */
export interface Preset {
  gradient: GradientOptions;
  integratedGradients: IntegratedGradientsOptions;
  smoothGrad: Omit<SmoothGradOptions<never>, "methodOptions">;
  occlusion: OcclusionOptions;
  gradCam: Omit<CamOptions, "layer">;
  /** The other CAM variants (Grad-CAM++, XGrad-CAM, HiResCAM, LayerCAM, Score/Ablation/Eigen-CAM). */
  camFamily: Omit<PerturbationCamOptions, "layer">;
  blurIg: BlurIgOptions;
  kernelShap: Omit<KernelShapOptions, "mask">;
  lime: Omit<LimeOptions, "mask">;
  gradientShap: GradientShapOptions;
  guidedIg: GuidedIgOptions;
}

/** Captum's and PAIR saliency's defaults, to spread under your own options. */
export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  captum: {
    // Saliency(abs=True); IG n_steps=50 gausslegendre from 0; NoiseTunnel stdevs=1.0 (absolute),
    // nt_samples=5, smoothgrad; Occlusion averages over covering windows, strides 1, baseline 0;
    // LayerGradCam without ReLU, upsampled with nearest (LayerAttribution.interpolate).
    gradient: { abs: true },
    integratedGradients: { steps: 50, quadrature: "gausslegendre", baseline: 0 },
    smoothGrad: { samples: 5, noise: 1, noiseType: "absolute", variant: "mean" },
    occlusion: { stride: 1, fill: 0, aggregation: "mean" },
    gradCam: { relu: false, upsample: "nearest" },
    camFamily: {},
    blurIg: {},
    // KernelShap n_samples=25; Lime n_samples=50, Bernoulli(1/2) coalitions, exp cosine kernel of
    // width 1, SkLearnLasso(alpha=0.01); GradientShap n_samples=5, stdevs=0.
    kernelShap: { samples: 25, fill: 0 },
    lime: { samples: 50, alpha: 0.01, kernelWidth: 1, fill: 0 },
    gradientShap: { samples: 5, stdev: 0 },
    guidedIg: {},
  },
  pair: {
    // Raw gradients; IG x_steps=25 on linspace(0, 1) with weights 1/n from zeros; GetSmoothedMask
    // 15% relative noise, 25 samples, magnitude=True (squared); Occlusion size 15, value 0, summed;
    // Blur IG sigma_max 50, 100 steps, grad_step 0.01; Grad-CAM with ReLU, bilinear resize.
    gradient: { abs: false },
    integratedGradients: { steps: 25, quadrature: "linspace", baseline: 0 },
    smoothGrad: { samples: 25, noise: 0.15, noiseType: "relative", variant: "squared" },
    occlusion: { window: 15, stride: 1, fill: 0, aggregation: "sum" },
    gradCam: { relu: true, upsample: "bilinear" },
    camFamily: {},
    blurIg: { sigmaMax: 50, steps: 100, gradStep: 0.01, sqrt: false },
    kernelShap: {},
    lime: {},
    gradientShap: {},
    // GuidedIG.GetMask: x_steps=200, fraction=0.25, max_dist=0.02, zeros baseline.
    guidedIg: { steps: 200, fraction: 0.25, maxDist: 0.02, baseline: 0 },
  },
  "pytorch-grad-cam": {
    // BaseCAM: the weighted sum through ReLU (np.maximum(cam, 0)) for every CAM variant, resized
    // with cv2.resize (bilinear, half-pixel centres) before scale_cam_image's per-image min-max
    // (an overlay step; the maps here stay unnormalised). No gradient or perturbation methods.
    gradient: {},
    integratedGradients: {},
    smoothGrad: {},
    occlusion: {},
    gradCam: { relu: true, upsample: "bilinear" },
    camFamily: { relu: true, upsample: "bilinear" },
    blurIg: {},
    kernelShap: {},
    lime: {},
    gradientShap: {},
    guidedIg: {},
  },
};

/** The preset of that name; throws for an unknown one. */
export function preset(name: string): Preset {
  if (!(PRESET_NAMES as readonly string[]).includes(name)) {
    throw new Error(`preset: unknown preset "${name}" (expected ${PRESET_NAMES.join(", ")})`);
  }
  return PRESETS[name as PresetName];
}
