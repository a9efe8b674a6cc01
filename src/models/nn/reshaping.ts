/** Layers that move pixels and channels around. */
import type { Tensor } from "../../autodiff/tensor.ts";
import { dropout } from "../../ops/dropout.ts";
import { pixelShuffle, pixelUnshuffle, type ShuffleOrder } from "../../ops/pixel-shuffle.ts";
import { flatten } from "../../ops/reshape.ts";
import { type ResizeMode, upsample } from "../../ops/resize.ts";
import { Random } from "../../random.ts";
import { Module } from "./module.ts";

export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return flatten(x, 1);
  }
}
export class PixelShuffle extends Module {
  constructor(
    readonly factor: number,
    readonly order: ShuffleOrder = "torch",
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return pixelShuffle(x, this.factor, this.order);
  }
}
export class PixelUnshuffle extends Module {
  constructor(
    readonly factor: number,
    readonly order: ShuffleOrder = "torch",
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return pixelUnshuffle(x, this.factor, this.order);
  }
}
export class Upsample extends Module {
  constructor(
    readonly scale: number,
    readonly mode: ResizeMode = "nearest",
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return upsample(x, this.scale, this.mode);
  }
}
/** Dropout with its own seeded stream: each training call draws a fresh mask. */
export class Dropout extends Module {
  private readonly rng: Random;
  constructor(
    readonly rate = 0.5,
    seed = 0,
  ) {
    super();
    this.rng = new Random(seed);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.rate, { training: this.training, seed: this.rng });
  }
}
