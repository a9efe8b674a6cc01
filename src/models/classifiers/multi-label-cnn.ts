/**
 * The multi-label classifier the explainer is trained against: four 3x3 conv/ReLU stages (three
 * 2x2 max-pools, so 64 -> 8) and a global max pool into a linear head, one logit per class.
 * The global max makes each class score a detector anywhere on the canvas, which is what
 * multi-object canvases need. It trains with batch norm after each conv (without it the loss sat
 * at the label prior for hundreds of steps); `fused()` folds the norms into the convs for
 * inference, which is the layout that ships: `features.6` (the last conv with its fused ReLU,
 * 8 x 8) is then the Grad-CAM layer.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { max } from "../../ops/reduce.ts";
import { Random } from "../../random.ts";
import { ReLU } from "../nn/activation.ts";
import { Conv2d } from "../nn/conv.ts";
import { skipInit } from "../nn/init.ts";
import { Linear } from "../nn/linear.ts";
import { Module, type StateDict } from "../nn/module.ts";
import { BatchNorm2d } from "../nn/norm.ts";
import { MaxPool2d } from "../nn/pooling.ts";
import { Sequential } from "../nn/sequential.ts";

export type Channels = readonly [number, number, number, number];

/** Shape and initialisation of a `MultiLabelCnn`. */
export interface MultiLabelCnnConfig {
  /** Logits, one per class (default 10). */
  classes?: number;
  /** Channels of the four conv stages (default 8, 16, 32, 64). */
  channels?: Channels;
  /** Conv, BatchNorm2d, ReLU per stage (for training), not conv + fused ReLU (default false). */
  batchNorm?: boolean;
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
}

export class MultiLabelCnn extends Module {
  readonly features: Sequential;
  readonly classifier: Linear;
  readonly channels: Channels;
  readonly classes: number;
  readonly batchNorm: boolean;

  constructor(o: MultiLabelCnnConfig = {}) {
    super();
    const rng = new Random(o.seed ?? 0);
    this.channels = o.channels ?? [8, 16, 32, 64];
    this.classes = o.classes ?? 10;
    this.batchNorm = o.batchNorm ?? false;
    const layers: Module[] = [];
    this.channels.forEach((c, k) => {
      if (k > 0) layers.push(new MaxPool2d({ kernel: 2 }));
      const cin = k === 0 ? 1 : this.channels[k - 1];
      const bn = this.batchNorm;
      layers.push(new Conv2d(cin, c, 3, { padding: 1, relu: !bn, seed: rng }));
      if (bn) layers.push(new BatchNorm2d(c), new ReLU());
    });
    this.features = this.child("features", new Sequential(...layers));
    this.classifier = this.child(
      "classifier",
      new Linear(this.channels[3], this.classes, { seed: rng }),
    );
  }

  /** The module whose output is the last conv stage's activation (8 x 8 for 64 x 64 input). */
  get gradCamLayer(): string {
    return `features.${this.features.layers.length - 1}`;
  }

  /** [N, 1, H, W] in [0, 1] to [N, classes] logits. */
  forward(x: Tensor): Tensor {
    return this.classifier.call(max(this.features.call(x), [2, 3]));
  }

  /**
   * The same function (in eval mode) without batch norm: each norm's running statistics folded
   * into its conv, w' = w g / sqrt(v + eps), b' = (b - mu) g / sqrt(v + eps) + beta.
   */
  fused(): MultiLabelCnn {
    if (!this.batchNorm)
      throw new Error("MultiLabelCnn.fused: this model has no batch norm to fold");
    const out = skipInit(
      () => new MultiLabelCnn({ channels: this.channels, classes: this.classes }),
    );
    const convs = this.features.layers.filter((m): m is Conv2d => m instanceof Conv2d);
    const norms = this.features.layers.filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
    const target = out.features.layers.filter((m): m is Conv2d => m instanceof Conv2d);
    const dict = new Map<string, { shape: number[]; values: Float32Array }>();
    convs.forEach((conv, k) => {
      const bn = norms[k];
      const w = conv.weight.dataSync() as Float32Array;
      const b = conv.bias?.dataSync() ?? new Float32Array(conv.outChannels);
      const [g, beta, mu, v] = [bn.weight, bn.bias, bn.runningMean, bn.runningVar].map(
        (t) => t.dataSync() as Float32Array,
      );
      const per = w.length / conv.outChannels;
      const w2 = new Float32Array(w.length);
      const b2 = new Float32Array(conv.outChannels);
      for (let o = 0; o < conv.outChannels; o++) {
        const s = g[o] / Math.sqrt(v[o] + bn.eps);
        for (let i = 0; i < per; i++) w2[o * per + i] = w[o * per + i] * s;
        b2[o] = (b[o] - mu[o]) * s + beta[o];
      }
      dict.set(`${target[k].path}.weight`, { shape: [...conv.weight.shape], values: w2 });
      dict.set(`${target[k].path}.bias`, { shape: [conv.outChannels], values: b2 });
    });
    for (const [k, v] of this.classifier.namedParameters("classifier")) {
      dict.set(k, { shape: [...v.shape], values: Float32Array.from(v.dataSync() as Float32Array) });
    }
    out.loadStateDict(dict);
    return out.eval();
  }
}

/** The inference layout with the weights of a state dict (channels read from the conv weights). */
export function multiLabelCnnFrom(weights: StateDict): MultiLabelCnn {
  const ch = [0, 2, 4, 6].map((i) => weights.get(`features.${i}.weight`)?.shape[0]);
  const classes = weights.get("classifier.weight")?.shape[0];
  if (ch.some((c) => !c) || !classes) {
    throw new Error(
      "multiLabelCnnFrom: expected features.{0,2,4,6}.weight and classifier.weight (the fused layout)",
    );
  }
  const model = skipInit(() => new MultiLabelCnn({ channels: ch as unknown as Channels, classes }));
  model.loadStateDict(weights);
  return model.eval();
}
