/**
 * MeanShift: the fixed 1x1 conv that EDSR-family networks use to subtract (sign -1) or add back
 * (sign +1) the dataset RGB mean. Its weight and bias appear in official state dicts, so they are
 * kept as (non-trainable) buffers under the PyTorch names.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { conv2d } from "../../ops/conv.ts";
import { tensor } from "../../ops/creation.ts";
import { Module } from "./module.ts";

/** The DIV2K training-set RGB mean (in [0, 1] units) used by EDSR, RCAN, RNAN, SAN, CARN, DRLN. */
export const DIV2K_RGB_MEAN: readonly [number, number, number] = [0.4488, 0.4371, 0.404];

export class MeanShift extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  /** weight = I / std, bias = sign * rgbRange * mean / std (EDSR-PyTorch common.MeanShift). */
  constructor(
    rgbRange: number,
    mean: readonly number[] = DIV2K_RGB_MEAN,
    sign: 1 | -1 = -1,
    std: readonly number[] = [1, 1, 1],
  ) {
    super();
    const w = new Float32Array(9);
    for (let c = 0; c < 3; c++) w[c * 4] = 1 / std[c];
    this.weight = this.buffer("weight", tensor(w, [3, 3, 1, 1]));
    this.bias = this.buffer(
      "bias",
      tensor(
        mean.map((m, c) => (sign * rgbRange * m) / std[c]),
        [3],
      ),
    );
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, { bias: this.bias });
  }
}

/** CARN/DRLN's variant: the same conv held as `shifter` (keys `shifter.weight`, `shifter.bias`). */
export class ShifterMeanShift extends Module {
  readonly shifter: MeanShift;
  constructor(mean: readonly number[], sign: 1 | -1) {
    super();
    this.shifter = this.child("shifter", new MeanShift(1, mean, sign));
  }
  forward(x: Tensor): Tensor {
    return this.shifter.call(x);
  }
}
