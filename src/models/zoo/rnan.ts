/**
 * RNAN (Zhang et al. 2019, "Residual Non-local Attention Networks"), SR variant, with the key names
 * of yulunzhang/RNAN SR/code/model/{rnan,common}.py. Each residual group is one residual attention
 * module (trunk branch x mask branch, the mask from a down/up-sampling branch ending in a sigmoid)
 * plus a conv. The first and last groups put a non-local block (inter = C/2, softmax over dim 1
 * as published) at the head of their mask branch, on full-resolution features: memory grows with
 * (HW)^2, so keep inputs small. RGB in [0, rgbRange] (official: 255). Published: 10 groups, 64
 * channels. Input height and width must be even (the mask branch halves and restores them).
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul } from "../../ops/binary.ts";
import { Random } from "../../random.ts";
import { Sigmoid } from "../nn/activation.ts";
import { Conv2d, ConvTranspose2d } from "../nn/conv.ts";
import { MeanShift } from "../nn/mean-shift.ts";
import { Module } from "../nn/module.ts";
import { NonLocalBlock2d } from "../nn/non-local.ts";
import { Sequential } from "../nn/sequential.ts";
import { checkScale, defaultConv, ResBlock, upsampler } from "./common.ts";

/** RNAN's size: residual groups, features, colour channels and value range. */
export interface RnanConfig {
  nResgroups: number;
  nFeats: number;
  nColors: number;
  rgbRange: number;
  seed: number;
}

const resBlocks = (n: number, ch: number, rng: Random) =>
  Array.from({ length: n }, () => new ResBlock(ch, 3, rng));

/** Mask branch: RB (after an optional non-local block), stride-2 conv, 2 RB, deconv, RB, 1x1, sigmoid. */
class MaskBranch extends Module {
  readonly rb1: Sequential;
  readonly down: Sequential;
  readonly rb2: Sequential;
  readonly up: Sequential;
  readonly rb3: Sequential;
  readonly conv1x1: Sequential;
  readonly sigmoid: Sequential;
  constructor(ch: number, nonLocal: boolean, rng: Random) {
    super();
    const first = nonLocal ? [new NonLocalBlock2d(ch, Math.floor(ch / 2), 1, rng)] : [];
    this.rb1 = this.child("MB_RB1", new Sequential(...first, ...resBlocks(1, ch, rng)));
    this.down = this.child(
      "MB_Down",
      new Sequential(new Conv2d(ch, ch, 3, { stride: 2, padding: 1, seed: rng })),
    );
    this.rb2 = this.child("MB_RB2", new Sequential(...resBlocks(2, ch, rng)));
    this.up = this.child(
      "MB_Up",
      new Sequential(new ConvTranspose2d(ch, ch, 6, { stride: 2, padding: 2, seed: rng })),
    );
    this.rb3 = this.child("MB_RB3", new Sequential(...resBlocks(1, ch, rng)));
    this.conv1x1 = this.child("MB_1x1conv", new Sequential(new Conv2d(ch, ch, 1, { seed: rng })));
    this.sigmoid = this.child("MB_sigmoid", new Sequential(new Sigmoid()));
  }
  forward(x: Tensor): Tensor {
    const x1 = this.rb1.call(x);
    const up = this.up.call(this.rb2.call(this.down.call(x1)));
    return this.sigmoid.call(this.conv1x1.call(this.rb3.call(add(x1, up))));
  }
}

/** TrunkBranch: two residual blocks as body.{0,1}. */
class TrunkBranch extends Module {
  readonly body: Sequential;
  constructor(ch: number, rng: Random) {
    super();
    this.body = this.child("body", new Sequential(...resBlocks(2, ch, rng)));
  }
  forward(x: Tensor): Tensor {
    return this.body.call(x);
  }
}

/** (NL)ResAttModuleDownUpPlus: h = RB(x); tail(trunk(h) * mask(h) + h). */
class ResidualAttentionModule extends Module {
  readonly rb1: Sequential;
  readonly trunk: Sequential;
  readonly mask: Sequential;
  readonly tail: Sequential;
  constructor(ch: number, nonLocal: boolean, rng: Random) {
    super();
    this.rb1 = this.child("RA_RB1", new Sequential(...resBlocks(1, ch, rng)));
    this.trunk = this.child("RA_TB", new Sequential(new TrunkBranch(ch, rng)));
    this.mask = this.child("RA_MB", new Sequential(new MaskBranch(ch, nonLocal, rng)));
    this.tail = this.child("RA_tail", new Sequential(...resBlocks(2, ch, rng)));
  }
  forward(x: Tensor): Tensor {
    const h = this.rb1.call(x);
    return this.tail.call(add(mul(this.trunk.call(h), this.mask.call(h)), h));
  }
}

/** _ResGroup / _NLResGroup: body = [attention module, conv] (no skip inside the group). */
class AttentionGroup extends Module {
  readonly body: Sequential;
  constructor(ch: number, nonLocal: boolean, rng: Random) {
    super();
    this.body = this.child(
      "body",
      new Sequential(new ResidualAttentionModule(ch, nonLocal, rng), defaultConv(ch, ch, 3, rng)),
    );
  }
  forward(x: Tensor): Tensor {
    return this.body.call(x);
  }
}

export class Rnan extends Module {
  static readonly defaults: RnanConfig = {
    nResgroups: 10,
    nFeats: 64,
    nColors: 3,
    rgbRange: 255,
    seed: 0,
  };
  readonly config: RnanConfig;
  readonly subMean: MeanShift;
  readonly head: Sequential;
  readonly bodyNlLow: Sequential;
  readonly body: Sequential;
  readonly bodyNlHigh: Sequential;
  readonly tail: Sequential;
  readonly addMean: MeanShift;

  constructor(
    readonly scale: number,
    config: Partial<RnanConfig> = {},
  ) {
    super();
    checkScale("Rnan", scale);
    const c = { ...Rnan.defaults, ...config };
    if (c.nResgroups < 2) throw new Error(`Rnan: nResgroups must be >= 2, got ${c.nResgroups}`);
    this.config = c;
    const rng = new Random(c.seed);
    const f = c.nFeats;
    this.subMean = this.child("sub_mean", new MeanShift(c.rgbRange, undefined, -1));
    this.head = this.child("head", new Sequential(defaultConv(c.nColors, f, 3, rng)));
    this.bodyNlLow = this.child("body_nl_low", new Sequential(new AttentionGroup(f, true, rng)));
    const groups = Array.from(
      { length: c.nResgroups - 2 },
      () => new AttentionGroup(f, false, rng),
    );
    this.body = this.child("body", new Sequential(...groups, defaultConv(f, f, 3, rng)));
    this.bodyNlHigh = this.child("body_nl_high", new Sequential(new AttentionGroup(f, true, rng)));
    this.tail = this.child(
      "tail",
      new Sequential(upsampler(scale, f, rng), defaultConv(f, c.nColors, 3, rng)),
    );
    this.addMean = this.child("add_mean", new MeanShift(c.rgbRange, undefined, 1));
  }

  forward(x: Tensor): Tensor {
    if (x.shape[2] % 2 || x.shape[3] % 2) {
      throw new Error(`Rnan: input height and width must be even, got [${x.shape}]`);
    }
    const shallow = this.head.call(this.subMean.call(x));
    const res = this.bodyNlHigh.call(this.body.call(this.bodyNlLow.call(shallow)));
    return this.addMean.call(this.tail.call(add(res, shallow)));
  }
}
