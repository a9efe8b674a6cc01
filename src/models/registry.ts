/**
 * What salient can build by name: the SR zoo architectures (random or hashed weights until a
 * checkpoint is loaded into them), the bundled trained classifier, and the UpscalerJS packages
 * (pretrained, loaded from node_modules in Node by io/tfjs/node.ts or zoo/upscaler-node.ts; they
 * are optional peer dependencies of salient: `npm install @upscalerjs/esrgan-slim` to use one).
 * Platform-neutral: nothing here touches the file system.
 */
import { loadFashionCnn } from "./classifiers/fashion-cnn.ts";
import { ResNet } from "./classifiers/resnet.ts";
import { SmallCnn } from "./classifiers/small-cnn.ts";
import { VggNet } from "./classifiers/vgg.ts";
import type { Module } from "./nn/module.ts";
import { Carn } from "./zoo/carn.ts";
import { Drln } from "./zoo/drln.ts";
import { EDSR_FULL, Edsr } from "./zoo/edsr.ts";
import { Fsrcnn } from "./zoo/fsrcnn.ts";
import { HAT_BASE, Hat } from "./zoo/hat.ts";
import { Imdn } from "./zoo/imdn.ts";
import { Rcan } from "./zoo/rcan.ts";
import { RDN_MEDIUM, Rdn } from "./zoo/rdn.ts";
import { Rnan } from "./zoo/rnan.ts";
import { RrdbNet } from "./zoo/rrdbnet.ts";
import { Rrdn } from "./zoo/rrdn.ts";
import { San } from "./zoo/san.ts";
import { SWINIR_CLASSICAL, SwinIr } from "./zoo/swinir.ts";

/** A buildable architecture: where its key names come from, its value range, and a constructor. */
export interface Architecture {
  /** Where the state-dict key names come from. */
  keys: string;
  /** Input/output value range of the published models. */
  range: readonly [number, number];
  /**
   * A new model with initial weights (load a state dict into it): `scale` is the SR upscaling
   * factor (classifiers ignore it), `config` the architecture's own options over its defaults.
   */
  // biome-ignore lint/suspicious/noExplicitAny: each architecture has its own config type
  create(scale: number, config?: any): Module;
}

const rgb255 = [0, 255] as const;
const unit = [0, 1] as const;

/** The architectures createArchitecture builds by name: the SR zoo and the classifiers. */
export const ARCHITECTURES: Record<string, Architecture> = {
  fsrcnn: { keys: "yjn870/FSRCNN-pytorch", range: unit, create: (s, c) => new Fsrcnn(s, c) },
  "edsr-baseline": {
    keys: "sanghyun-son/EDSR-PyTorch",
    range: rgb255,
    create: (s, c) => new Edsr(s, c),
  },
  edsr: {
    keys: "sanghyun-son/EDSR-PyTorch",
    range: rgb255,
    create: (s, c) => new Edsr(s, { ...EDSR_FULL, ...c }),
  },
  rcan: { keys: "yulunzhang/RCAN", range: rgb255, create: (s, c) => new Rcan(s, c) },
  rrdbnet: { keys: "XPixelGroup/BasicSR", range: unit, create: (s, c) => new RrdbNet(s, c) },
  carn: { keys: "nmhkahn/CARN-pytorch", range: unit, create: (s, c) => new Carn(s, c) },
  "carn-m": {
    keys: "nmhkahn/CARN-pytorch",
    range: unit,
    create: (s, c) => new Carn(s, { mobile: true, ...c }),
  },
  imdn: { keys: "Zheng222/IMDN", range: unit, create: (s, c) => new Imdn(s, c) },
  rnan: { keys: "yulunzhang/RNAN", range: rgb255, create: (s, c) => new Rnan(s, c) },
  san: { keys: "daitao/SAN", range: rgb255, create: (s, c) => new San(s, c) },
  drln: { keys: "saeed-anwar/DRLN", range: rgb255, create: (s, c) => new Drln(s, c) },
  rdn: {
    keys: "idealo/image-super-resolution (Keras layer names)",
    range: rgb255,
    create: (s, c) => new Rdn(s, c),
  },
  "rdn-medium": {
    keys: "idealo/image-super-resolution (Keras layer names)",
    range: rgb255,
    create: (s, c) => new Rdn(s, { ...RDN_MEDIUM, ...c }),
  },
  rrdn: {
    keys: "idealo/image-super-resolution (Keras layer names)",
    range: unit,
    create: (s, c) => new Rrdn(s, c),
  },
  swinir: {
    keys: "JingyunLiang/SwinIR (lightweight)",
    range: unit,
    create: (s, c) => new SwinIr(s, c),
  },
  "swinir-classical": {
    keys: "JingyunLiang/SwinIR (classical)",
    range: unit,
    create: (s, c) => new SwinIr(s, { ...SWINIR_CLASSICAL, ...c }),
  },
  hat: { keys: "XPixelGroup/HAT (HAT-S)", range: unit, create: (s, c) => new Hat(s, c) },
  "hat-base": {
    keys: "XPixelGroup/HAT",
    range: unit,
    create: (s, c) => new Hat(s, { ...HAT_BASE, ...c }),
  },
  "small-cnn": { keys: "salient", range: unit, create: (_s, c) => new SmallCnn(c) },
  vgg: { keys: "salient (torchvision VGG layout)", range: unit, create: (_s, c) => new VggNet(c) },
  resnet: {
    keys: "salient (torchvision ResNet layout)",
    range: unit,
    create: (_s, c) => new ResNet(c),
  },
};

/** Builds a zoo architecture by name (scale is ignored by the classifiers). */
export function createArchitecture(name: string, scale: number, config?: object): Module {
  const a = ARCHITECTURES[name];
  if (!a) {
    throw new Error(
      `unknown architecture "${name}" (known: ${Object.keys(ARCHITECTURES).join(", ")})`,
    );
  }
  return a.create(scale, config);
}

/** A model salient ships or loads by name: description, source, licence and input format. */
export interface BundledModel {
  description: string;
  source: string;
  license: string;
  /** Input layout and value range. */
  input: string;
  /** Node only: needs the package from node_modules. */
  nodeOnly: boolean;
}

/**
 * The trained models salient ships (fashion-cnn, fsrcnn-x2) or loads from the UpscalerJS packages.
 */
export const BUNDLED_MODELS: Record<string, BundledModel> = {
  "fashion-cnn": {
    description:
      "SmallCnn (20k parameters) trained on Fashion-MNIST by scripts/train/fashion-cnn.ts",
    source: "salient (src/models/weights/fashion-cnn.safetensors)",
    license: "MIT",
    input: "[N, 1, 28, 28] in [0, 1]",
    nodeOnly: false,
  },
  "fsrcnn-x2": {
    description: "FSRCNN x2 (d56 s12 m4) trained on photographs by scripts/train/fsrcnn.ts",
    source: "salient (src/models/weights/fsrcnn-x2.safetensors)",
    license: "MIT",
    input: "[N, 1, H, W] luminance (BT.601 Y) in [0, 1]",
    nodeOnly: false,
  },
  "esrgan-slim": {
    description: "RDN C1 D2 G4 G0 64 (0.22M parameters), x2/x3/x4/x8",
    source: "@upscalerjs/esrgan-slim (idealo image-super-resolution, DIV2K)",
    license: "MIT",
    input: "[N, 3, H, W] RGB in [0, 255]",
    nodeOnly: true,
  },
  "esrgan-medium": {
    description: "RDN C1 D10 G64 G0 64 (0.70M parameters), x2/x3/x4/x8",
    source: "@upscalerjs/esrgan-medium",
    license: "MIT",
    input: "[N, 3, H, W] RGB in [0, 255]",
    nodeOnly: true,
  },
  "esrgan-thick": {
    description: "RRDN C4 D3 G32 G0 64 T10 (7.2M parameters), x2/x3/x4/x8",
    source: "@upscalerjs/esrgan-thick",
    license: "MIT",
    input: "[N, 3, H, W] RGB in [0, 1]",
    nodeOnly: true,
  },
  "default-model": {
    description: "RDN C1 D2 G4 G0 64, x2",
    source: "@upscalerjs/default-model",
    license: "MIT",
    input: "[N, 3, H, W] RGB in [0, 255]",
    nodeOnly: true,
  },
};

/** The bundled classifier (platform-neutral). The UpscalerJS models load with loadUpscalerModel. */
export function loadBundledClassifier(name: "fashion-cnn"): SmallCnn {
  if (name !== "fashion-cnn")
    throw new Error(`unknown bundled classifier "${name}" (known: fashion-cnn)`);
  return loadFashionCnn();
}
