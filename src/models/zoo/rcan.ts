/**
 * RCAN (Zhang et al. 2018), as in EDSR-PyTorch / RCAN `model/rcan.py`: residual groups of
 * residual channel-attention blocks (RCAB: conv, ReLU, conv, CALayer; keys body.G.body.B.body.{0,2,3})
 * each closed by a conv, then a conv, a long skip, and the EDSR upsampler. RGB in [0, rgbRange]
 * (official: 255). Published: 10 groups x 20 blocks, 64 channels, reduction 16.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add } from "../../ops/binary.ts";
import { Random } from "../../random.ts";
import { ReLU } from "../nn/activation.ts";
import { ChannelAttention } from "../nn/channel-attention.ts";
import { Module } from "../nn/module.ts";
import { Sequential } from "../nn/sequential.ts";
import { defaultConv } from "./common.ts";
import { ResidualSrFrame } from "./residual-sr-frame.ts";

/**
 * RCAN's size: residual groups, blocks per group, channels, channel-attention reduction and value
 * range.
 */
export interface RcanConfig {
  nResgroups: number;
  nResblocks: number;
  nFeats: number;
  reduction: number;
  nColors: number;
  rgbRange: number;
  seed: number;
}

/** Residual channel-attention block: x + CA(conv(relu(conv(x)))). */
export class Rcab extends Module {
  readonly body: Sequential;
  constructor(channels: number, reduction: number, rng: Random) {
    super();
    this.body = this.child(
      "body",
      new Sequential(
        defaultConv(channels, channels, 3, rng),
        new ReLU(),
        defaultConv(channels, channels, 3, rng),
        new ChannelAttention(channels, reduction, rng),
      ),
    );
  }
  forward(x: Tensor): Tensor {
    return add(this.body.call(x), x);
  }
}

/** A residual group: x + conv(RCAB^n(x)). */
export class ResidualGroup extends Module {
  readonly body: Sequential;
  constructor(channels: number, reduction: number, nBlocks: number, rng: Random) {
    super();
    const blocks = Array.from({ length: nBlocks }, () => new Rcab(channels, reduction, rng));
    this.body = this.child(
      "body",
      new Sequential(...blocks, defaultConv(channels, channels, 3, rng)),
    );
  }
  forward(x: Tensor): Tensor {
    return add(this.body.call(x), x);
  }
}

/** RCAN (Zhang et al. 2018) with the official state-dict keys; RGB in [0, rgbRange]. */
export class Rcan extends ResidualSrFrame {
  static readonly defaults: RcanConfig = {
    nResgroups: 10,
    nResblocks: 20,
    nFeats: 64,
    reduction: 16,
    nColors: 3,
    rgbRange: 255,
    seed: 0,
  };
  readonly config: RcanConfig;

  constructor(scale: number, config: Partial<RcanConfig> = {}) {
    const c = { ...Rcan.defaults, ...config };
    const rng = new Random(c.seed);
    super("Rcan", scale, c, rng, () =>
      Array.from(
        { length: c.nResgroups },
        () => new ResidualGroup(c.nFeats, c.reduction, c.nResblocks, rng),
      ),
    );
    this.config = c;
  }
}
