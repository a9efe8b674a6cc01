/**
 * A small CNN for 28x28 single-channel images (Fashion-MNIST): conv/ReLU/pool, conv/ReLU, then
 * pool and a linear head. `features.4` (the second ReLU, 14x14) is the natural Grad-CAM layer.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { Random } from "../../random.ts";
import { ReLU } from "../nn/activation.ts";
import { Conv2d } from "../nn/conv.ts";
import { Linear } from "../nn/linear.ts";
import { Module } from "../nn/module.ts";
import { MaxPool2d } from "../nn/pooling.ts";
import { Flatten } from "../nn/reshaping.ts";
import { Sequential } from "../nn/sequential.ts";

export class SmallCnn extends Module {
  static readonly gradCamLayer = "features.4";
  readonly features: Sequential;
  readonly classifier: Sequential;

  constructor(o: { classes?: number; channels?: [number, number]; seed?: number } = {}) {
    super();
    const rng = new Random(o.seed ?? 0);
    const [c1, c2] = o.channels ?? [16, 32];
    this.features = this.child(
      "features",
      new Sequential(
        new Conv2d(1, c1, 3, { padding: 1, seed: rng }),
        new ReLU(),
        new MaxPool2d({ kernel: 2 }),
        new Conv2d(c1, c2, 3, { padding: 1, seed: rng }),
        new ReLU(),
      ),
    );
    this.classifier = this.child(
      "classifier",
      new Sequential(
        new MaxPool2d({ kernel: 2 }),
        new Flatten(),
        new Linear(c2 * 7 * 7, o.classes ?? 10, { seed: rng }),
      ),
    );
  }

  forward(x: Tensor): Tensor {
    return this.classifier.call(this.features.call(x));
  }
}
