import type { Tensor } from "../../autodiff/tensor.ts";
import { tidy } from "../../autodiff/tidy.ts";
import { add, mul } from "../../ops/binary.ts";
import { ones, zeros } from "../../ops/creation.ts";
import { type BatchNormParams, batchNorm, batchNormTrain, layerNorm } from "../../ops/norm.ts";
import { Module } from "./module.ts";

/** torch.nn.BatchNorm2d: batch statistics in training (updating running averages), running ones in eval. */
export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean;
  readonly runningVar;
  constructor(
    readonly channels: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
  ) {
    super();
    this.weight = this.param("weight", ones([channels]));
    this.bias = this.param("bias", zeros([channels]));
    this.runningMean = this.buffer("running_mean", zeros([channels]));
    this.runningVar = this.buffer("running_var", ones([channels]));
  }
  /** The running statistics and affine parameters (eval mode's normalisation). */
  evalParams(): BatchNormParams {
    return {
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      weight: this.weight,
      bias: this.bias,
      eps: this.eps,
    };
  }
  forward(x: Tensor): Tensor {
    if (!this.training) return batchNorm(x, this.evalParams());
    const r = batchNormTrain(x, { weight: this.weight, bias: this.bias, eps: this.eps });
    const m = this.momentum;
    tidy(() => {
      this.runningMean.assign(add(mul(this.runningMean, 1 - m), mul(r.mean, m)));
      this.runningVar.assign(add(mul(this.runningVar, 1 - m), mul(r.unbiasedVariance, m)));
    });
    return r.y;
  }
}

/**
 * torch.nn.BatchNorm1d: the same normalisation over the features of [N, C] (or [N, C, L]); after
 * a Linear, LRP rule sets run the pair as one folded Linear (see linear-batch-norm.ts).
 */
export class BatchNorm1d extends BatchNorm2d {
  override forward(x: Tensor): Tensor {
    if (x.rank !== 2 && x.rank !== 3) {
      throw new Error(
        `BatchNorm1d "${this.path}": expected input [N, ${this.channels}] or [N, ${this.channels}, L], got [${x.shape}]`,
      );
    }
    return super.forward(x);
  }
}

/** torch.nn.LayerNorm over the trailing `shape`. */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(
    readonly shape: number[],
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param("weight", ones(shape));
    this.bias = this.param("bias", zeros(shape));
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.shape.length, { weight: this.weight, bias: this.bias, eps: this.eps });
  }
}
