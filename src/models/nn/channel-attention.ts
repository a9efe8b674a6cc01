/**
 * Channel attention: a per-channel gate in (0, 1) computed from a pooled channel descriptor by a
 * squeeze-excite bottleneck `conv_du` = [1x1 conv C->C/r, ReLU, 1x1 conv C/r->C, Sigmoid].
 * - ChannelAttention: RCAN's CALayer, descriptor = spatial mean.
 * - ContrastChannelAttention: IMDN's CCALayer, descriptor = spatial std + spatial mean.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul, sub } from "../../ops/binary.ts";
import { mean } from "../../ops/reduce.ts";
import { sqrt, square } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { ReLU, Sigmoid } from "./activation.ts";
import { Conv2d } from "./conv.ts";
import { Module } from "./module.ts";
import { Sequential } from "./sequential.ts";

/** The squeeze-excite bottleneck with PyTorch indices 0 (conv), 1 (ReLU), 2 (conv), 3 (Sigmoid). */
export function squeezeExcite(
  channels: number,
  reduction: number,
  rng: Random = new Random(0),
): Sequential {
  const mid = Math.floor(channels / reduction);
  if (mid < 1) {
    throw new Error(`channel attention: ${channels} channels / reduction ${reduction} leaves none`);
  }
  return new Sequential(
    new Conv2d(channels, mid, 1, { seed: rng }),
    new ReLU(),
    new Conv2d(mid, channels, 1, { seed: rng }),
    new Sigmoid(),
  );
}

/** RCAN's CALayer: x times the gate of its spatial mean. */
export class ChannelAttention extends Module {
  readonly convDu: Sequential;
  constructor(channels: number, reduction = 16, rng: Random = new Random(0)) {
    super();
    this.convDu = this.child("conv_du", squeezeExcite(channels, reduction, rng));
  }
  /** The pooled per-channel descriptor [N, C, 1, 1] the gate is computed from. */
  protected descriptor(x: Tensor): Tensor {
    return mean(x, [2, 3], true);
  }
  forward(x: Tensor): Tensor {
    return mul(x, this.convDu.call(this.descriptor(x)));
  }
}

/** Per-channel spatial standard deviation (population, as IMDN's stdv_channels), kept [N, C, 1, 1]. */
export function channelStd(x: Tensor): Tensor {
  const centred = sub(x, mean(x, [2, 3], true));
  return sqrt(mean(square(centred), [2, 3], true));
}

/** IMDN's CCALayer: the same gate on the contrast descriptor, spatial std + spatial mean. */
export class ContrastChannelAttention extends ChannelAttention {
  protected override descriptor(x: Tensor): Tensor {
    return add(channelStd(x), mean(x, [2, 3], true));
  }
}
