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
import { MeanShift } from "../nn/mean-shift.ts";
import { Module } from "../nn/module.ts";
import { Sequential } from "../nn/sequential.ts";
import { checkScale, defaultConv, upsampler } from "./common.ts";

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

export class Rcan extends Module {
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
  readonly subMean: MeanShift;
  readonly head: Sequential;
  readonly body: Sequential;
  readonly tail: Sequential;
  readonly addMean: MeanShift;

  constructor(
    readonly scale: number,
    config: Partial<RcanConfig> = {},
  ) {
    super();
    checkScale("Rcan", scale);
    const c = { ...Rcan.defaults, ...config };
    this.config = c;
    const rng = new Random(c.seed);
    const f = c.nFeats;
    this.subMean = this.child("sub_mean", new MeanShift(c.rgbRange, undefined, -1));
    this.head = this.child("head", new Sequential(defaultConv(c.nColors, f, 3, rng)));
    const groups = Array.from(
      { length: c.nResgroups },
      () => new ResidualGroup(f, c.reduction, c.nResblocks, rng),
    );
    this.body = this.child("body", new Sequential(...groups, defaultConv(f, f, 3, rng)));
    this.tail = this.child(
      "tail",
      new Sequential(upsampler(scale, f, rng), defaultConv(f, c.nColors, 3, rng)),
    );
    this.addMean = this.child("add_mean", new MeanShift(c.rgbRange, undefined, 1));
  }

  forward(x: Tensor): Tensor {
    const h = this.head.call(this.subMean.call(x));
    const res = add(this.body.call(h), h);
    return this.addMean.call(this.tail.call(res));
  }
}
