/**
 * A VGG-style classifier (Simonyan & Zisserman 2015) for small images: stages of 3x3 conv + ReLU
 * layers closed by 2x2 max pooling, adaptive average pooling to a fixed grid, and a two-layer
 * linear head. Children follow torchvision's VGG (features, avgpool, classifier). The last ReLU
 * of `features` (the deepest spatial map) is the Grad-CAM layer.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { Random } from "../../random.ts";
import { ReLU } from "../nn/activation.ts";
import { Conv2d } from "../nn/conv.ts";
import { Linear } from "../nn/linear.ts";
import { Module } from "../nn/module.ts";
import { AdaptiveAvgPool2d, MaxPool2d } from "../nn/pooling.ts";
import { Dropout, Flatten } from "../nn/reshaping.ts";
import { Sequential } from "../nn/sequential.ts";

/**
 * VGG layout: input channels, classes, stage widths, convs per stage, pooled grid, hidden width,
 * dropout and init seed.
 */
export interface VggConfig {
  inChannels: number;
  classes: number;
  /** Output channels of each stage's convs. */
  widths: number[];
  convsPerStage: number;
  /** Grid that adaptive average pooling reduces the last stage to. */
  pooled: number;
  hidden: number;
  dropout: number;
  seed: number;
}

export class VggNet extends Module {
  static readonly defaults: VggConfig = {
    inChannels: 1,
    classes: 10,
    widths: [32, 64],
    convsPerStage: 2,
    pooled: 2,
    hidden: 128,
    dropout: 0.5,
    seed: 0,
  };
  /** The last ReLU of `features` with the default configuration. */
  static readonly gradCamLayer = "features.8";
  readonly config: VggConfig;
  readonly features: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly classifier: Sequential;
  /** The last ReLU of `features` for this configuration. */
  readonly gradCamLayer: string;

  constructor(config: Partial<VggConfig> = {}) {
    super();
    const c = { ...VggNet.defaults, ...config };
    this.config = c;
    const rng = new Random(c.seed);
    const layers: Module[] = [];
    let ch = c.inChannels;
    for (const w of c.widths) {
      for (let i = 0; i < c.convsPerStage; i++) {
        layers.push(new Conv2d(ch, w, 3, { padding: 1, seed: rng }), new ReLU());
        ch = w;
      }
      layers.push(new MaxPool2d({ kernel: 2 }));
    }
    this.features = this.child("features", new Sequential(...layers));
    this.gradCamLayer = `features.${layers.length - 2}`;
    this.avgpool = this.child("avgpool", new AdaptiveAvgPool2d(c.pooled));
    this.classifier = this.child(
      "classifier",
      new Sequential(
        new Flatten(),
        new Linear(ch * c.pooled * c.pooled, c.hidden, { seed: rng }),
        new ReLU(),
        new Dropout(c.dropout, c.seed),
        new Linear(c.hidden, c.classes, { seed: rng }),
      ),
    );
  }

  forward(x: Tensor): Tensor {
    return this.classifier.call(this.avgpool.call(this.features.call(x)));
  }
}
