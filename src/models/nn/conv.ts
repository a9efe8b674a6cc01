import type { Tensor } from "../../autodiff/tensor.ts";
import { conv2d, conv2dTranspose, type Padding } from "../../ops/conv.ts";
import { nearestUpsampleConv2d } from "../../ops/upsample-conv.ts";
import { Random } from "../../random.ts";
import { defaultUniform } from "./init.ts";
import { Module } from "./module.ts";
import { applyTap } from "./taps.ts";

/**
 * PyTorch nn.Conv2d's options (stride, padding, dilation, groups, bias), an optional fused ReLU and
 * an init seed.
 */
export interface Conv2dConfig {
  stride?: number | [number, number];
  padding?: Padding;
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
  /** Fuse a ReLU into the conv (gradient rules still apply to it). */
  relu?: boolean;
  seed?: number | Random;
}

const pair = (k: number | [number, number]): [number, number] =>
  typeof k === "number" ? [k, k] : k;

/** Holds a conv's `weight` and optional `bias`, initialised as PyTorch does for the fan-in. */
abstract class ConvParams extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    weightShape: number[],
    fanIn: number,
    outChannels: number,
    config: { bias?: boolean; seed?: number | Random },
  ) {
    super();
    const rng = config.seed instanceof Random ? config.seed : new Random(config.seed ?? 0);
    this.weight = this.param("weight", defaultUniform(weightShape, fanIn, rng));
    this.bias =
      config.bias === false ? null : this.param("bias", defaultUniform([outChannels], fanIn, rng));
  }
}

/** torch.nn.Conv2d (weight [out, in/groups, kh, kw], bias [out]). */
export class Conv2d extends ConvParams {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: number | [number, number],
    readonly config: Conv2dConfig = {},
  ) {
    const [kh, kw] = pair(kernel);
    const groups = config.groups ?? 1;
    if (inChannels % groups || outChannels % groups) {
      throw new Error(
        `Conv2d: groups ${groups} must divide in (${inChannels}) and out (${outChannels}) channels`,
      );
    }
    const fanIn = (inChannels / groups) * kh * kw;
    super([outChannels, inChannels / groups, kh, kw], fanIn, outChannels, config);
  }
  private options() {
    const c = this.config;
    return {
      bias: this.bias,
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
      relu: c.relu,
    };
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.options());
  }
  /** This conv's geometry with another weight and bias (e.g. a BatchNorm folded in). */
  forwardWith(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
    return conv2d(x, weight, { ...this.options(), bias });
  }
  /**
   * call(upsample(x, scale, "nearest")) without making the upsampled image (nearestUpsampleConv2d:
   * the same values to float32 rounding; taps on this module see its output as usual).
   */
  callOnUpsampled(x: Tensor, scale: number): Tensor {
    return applyTap(this.path, nearestUpsampleConv2d(x, this.weight, scale, this.options()));
  }
}

/** PyTorch nn.ConvTranspose2d's options plus an init seed. */
export interface ConvTranspose2dConfig {
  stride?: number | [number, number];
  padding?: number | [number, number];
  outputPadding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
  seed?: number | Random;
}

/** torch.nn.ConvTranspose2d (weight [in, out/groups, kh, kw]). */
export class ConvTranspose2d extends ConvParams {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: number | [number, number],
    readonly config: ConvTranspose2dConfig = {},
  ) {
    const [kh, kw] = pair(kernel);
    const groups = config.groups ?? 1;
    // PyTorch computes fan-in from weight.size(1) * kh * kw for transposed convs.
    const fanIn = (outChannels / groups) * kh * kw;
    super([inChannels, outChannels / groups, kh, kw], fanIn, outChannels, config);
  }
  forward(x: Tensor): Tensor {
    const c = this.config;
    return conv2dTranspose(x, this.weight, {
      bias: this.bias,
      stride: c.stride,
      padding: c.padding,
      outputPadding: c.outputPadding,
      dilation: c.dilation,
      groups: c.groups,
    });
  }
}
