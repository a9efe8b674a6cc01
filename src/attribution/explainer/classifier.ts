/**
 * The multi-label classifier the explainer is trained against: four 3x3 conv/ReLU stages (three
 * 2x2 max-pools, so 64 -> 8) and a global max pool into a linear head, one logit per class.
 * The global max makes each class score a detector anywhere on the canvas, which is what
 * multi-object canvases need. `features.6` (the last conv, 8 x 8) is the Grad-CAM layer.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { Conv2d } from "../../models/nn/conv.ts";
import { Linear } from "../../models/nn/linear.ts";
import { Module } from "../../models/nn/module.ts";
import { MaxPool2d } from "../../models/nn/pooling.ts";
import { Sequential } from "../../models/nn/sequential.ts";
import { max } from "../../ops/reduce.ts";
import { Random } from "../../random.ts";

export interface MultiLabelCnnConfig {
  classes?: number;
  /** Channels of the four conv stages (default 16, 32, 64, 64). */
  channels?: readonly [number, number, number, number];
  seed?: number;
}

export class MultiLabelCnn extends Module {
  static readonly gradCamLayer = "features.6";
  readonly features: Sequential;
  readonly classifier: Linear;
  readonly channels: readonly [number, number, number, number];

  constructor(o: MultiLabelCnnConfig = {}) {
    super();
    const rng = new Random(o.seed ?? 0);
    const [c1, c2, c3, c4] = (this.channels = o.channels ?? [16, 32, 64, 64]);
    const conv = (i: number, j: number) => new Conv2d(i, j, 3, { padding: 1, relu: true, seed: rng });
    this.features = this.child(
      "features",
      new Sequential(
        conv(1, c1),
        new MaxPool2d({ kernel: 2 }),
        conv(c1, c2),
        new MaxPool2d({ kernel: 2 }),
        conv(c2, c3),
        new MaxPool2d({ kernel: 2 }),
        conv(c3, c4),
      ),
    );
    this.classifier = this.child("classifier", new Linear(c4, o.classes ?? 10, { seed: rng }));
  }

  /** [N, 1, H, W] in [0, 1] to [N, classes] logits. */
  forward(x: Tensor): Tensor {
    return this.classifier.call(max(this.features.call(x), [2, 3]));
  }
}
