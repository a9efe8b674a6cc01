/**
 * SAN (Dai et al. 2019, "Second-order Attention Network"), with the key names of daitao/SAN
 * (TestCode/code/model/san.py): a region-level non-local block (applied separately to the four
 * quadrants), then 20 local-source residual attention groups (LSRAG: 10 residual blocks, second-
 * order channel attention SOCA, conv) with share-source skips weighted by the learnt `gamma`, the
 * same non-local block again, the long skip and the EDSR upsampler. SOCA pools the channel
 * covariance and takes its square root by 5 Newton-Schulz iterations. As published, the modules
 * `conv_last`, `RG.N.gamma` and `non_local.soca` hold weights that forward never uses; they are
 * kept so official checkpoints load strictly. RGB in [0, rgbRange] (official: 255).
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { zeros } from "../../ops/creation.ts";
import { slice } from "../../ops/slice.ts";
import { Random } from "../../random.ts";
import { ReLU } from "../nn/activation.ts";
import type { Conv2d } from "../nn/conv.ts";
import { MeanShift } from "../nn/mean-shift.ts";
import { Module } from "../nn/module.ts";
import { NonLocalBlock2d } from "../nn/non-local.ts";
import { SecondOrderChannelAttention } from "../nn/second-order.ts";
import { ModuleList, Sequential } from "../nn/sequential.ts";
import { checkScale, defaultConv, upsampler } from "./common.ts";
import type { RcanConfig } from "./rcan.ts";

/**
 * SAN's size: residual groups, blocks per group, features, attention reduction, colour channels and
 * value range (RCAN's fields: SAN keeps RCAN's grouping and adds no size of its own).
 */
export type SanConfig = RcanConfig;

/** RB: x + conv(relu(conv(x))) with the convs in conv_first.{0,2}. */
class ResidualBlock extends Module {
  readonly convFirst: Sequential;
  constructor(ch: number, rng: Random) {
    super();
    this.convFirst = this.child(
      "conv_first",
      new Sequential(defaultConv(ch, ch, 3, rng), new ReLU(), defaultConv(ch, ch, 3, rng)),
    );
  }
  forward(x: Tensor): Tensor {
    return add(this.convFirst.call(x), x);
  }
}

/** LSRAG: x + conv_last(SOCA(RB^n(x))). */
class Lsrag extends Module {
  readonly rcab: ResidualBlock[];
  readonly soca: SecondOrderChannelAttention;
  readonly convLast: Conv2d;
  constructor(ch: number, reduction: number, nBlocks: number, rng: Random) {
    super();
    this.rcab = this.child(
      "rcab",
      new ModuleList(Array.from({ length: nBlocks }, () => new ResidualBlock(ch, rng))),
    ).items;
    this.soca = this.child("soca", new SecondOrderChannelAttention(ch, reduction, rng));
    this.convLast = this.child("conv_last", defaultConv(ch, ch, 3, rng));
    this.param("gamma", zeros([1])); // present in the checkpoint, unused by forward
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const rb of this.rcab) h = rb.call(h);
    return add(this.convLast.call(this.soca.call(h)), x);
  }
}

/** Nonlocal_CA: the non-local block run on each quadrant separately (its `soca` is unused). */
class RegionNonLocal extends Module {
  readonly nonLocal: NonLocalBlock2d;
  constructor(ch: number, inter: number, rng: Random) {
    super();
    this.child("soca", new SecondOrderChannelAttention(ch, 8, rng));
    this.nonLocal = this.child("non_local", new NonLocalBlock2d(ch, inter, -1, rng));
  }
  forward(x: Tensor): Tensor {
    const [n, c, h, w] = x.shape;
    const h1 = Math.floor(h / 2);
    const w1 = Math.floor(w / 2);
    const part = (top: number, left: number, hh: number, ww: number) =>
      this.nonLocal.call(slice(x, [0, 0, top, left], [n, c, hh, ww]));
    const left = concat([part(0, 0, h1, w1), part(h1, 0, h - h1, w1)], 2);
    const right = concat([part(0, w1, h1, w - w1), part(h1, w1, h - h1, w - w1)], 2);
    return concat([left, right], 3);
  }
}

export class San extends Module {
  static readonly defaults: SanConfig = {
    nResgroups: 20,
    nResblocks: 10,
    nFeats: 64,
    reduction: 16,
    nColors: 3,
    rgbRange: 255,
    seed: 0,
  };
  readonly config: SanConfig;
  readonly subMean: MeanShift;
  readonly head: Sequential;
  readonly gamma: Tensor;
  readonly groups: Lsrag[];
  readonly tail: Sequential;
  readonly addMean: MeanShift;
  readonly nonLocal: RegionNonLocal;

  constructor(
    readonly scale: number,
    config: Partial<SanConfig> = {},
  ) {
    super();
    checkScale("San", scale);
    const c = { ...San.defaults, ...config };
    this.config = c;
    const rng = new Random(c.seed);
    const f = c.nFeats;
    this.subMean = this.child("sub_mean", new MeanShift(c.rgbRange, undefined, -1));
    this.head = this.child("head", new Sequential(defaultConv(c.nColors, f, 3, rng)));
    this.gamma = this.param("gamma", zeros([1]));
    this.groups = this.child(
      "RG",
      new ModuleList(
        Array.from({ length: c.nResgroups }, () => new Lsrag(f, c.reduction, c.nResblocks, rng)),
      ),
    ).items;
    this.child("conv_last", defaultConv(f, f, 3, rng)); // unused by forward, as published
    this.tail = this.child(
      "tail",
      new Sequential(upsampler(scale, f, rng), defaultConv(f, c.nColors, 3, rng)),
    );
    this.addMean = this.child("add_mean", new MeanShift(c.rgbRange, undefined, 1));
    this.nonLocal = this.child("non_local", new RegionNonLocal(f, Math.floor(f / 8), rng));
  }

  forward(x: Tensor): Tensor {
    const h = this.head.call(this.subMean.call(x));
    const shared = this.nonLocal.call(h);
    let xx = shared;
    for (const g of this.groups) xx = add(g.call(xx), mul(this.gamma, shared));
    const res = add(this.nonLocal.call(xx), h);
    return this.addMean.call(this.tail.call(res));
  }
}
