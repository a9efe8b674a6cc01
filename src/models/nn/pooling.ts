import type { Tensor } from "../../autodiff/tensor.ts";
import { adaptiveAvgPool2d, avgPool2d, maxPool2d, type Pool2dOptions } from "../../ops/pool.ts";
import { Module } from "./module.ts";

export class MaxPool2d extends Module {
  constructor(readonly options: Pool2dOptions) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.options);
  }
}
export class AvgPool2d extends Module {
  constructor(readonly options: Pool2dOptions) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.options);
  }
}
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly size: number | [number, number]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.size);
  }
}
