/**
 * RRDBNet, ESRGAN's generator (Wang et al. 2018), with BasicSR's key names (conv_first,
 * body.N.rdb{1,2,3}.conv{1..5}, conv_body, conv_up1, conv_up2, conv_hr, conv_last). Residual-in-
 * residual dense blocks (growth gc, residual scale 0.2), LeakyReLU 0.2, nearest x2 upsampling
 * twice (x4). For scale 2 or 1 BasicSR first folds space into channels with pixel_unshuffle.
 * RGB in [0, 1]. Published: nf 64, nb 23, gc 32.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { pixelUnshuffle } from "../../ops/pixel-shuffle.ts";
import { leakyRelu } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { Conv2d } from "../nn/conv.ts";
import { Module } from "../nn/module.ts";
import { Sequential } from "../nn/sequential.ts";

/** RRDBNet (ESRGAN) size: input and output channels, features, RRDB blocks and growth channels. */
export interface RrdbNetConfig {
  inChannels: number;
  outChannels: number;
  numFeat: number;
  numBlock: number;
  numGrowCh: number;
  seed: number;
}

const conv3 = (i: number, o: number, rng: Random) => new Conv2d(i, o, 3, { padding: 1, seed: rng });
const lrelu = (x: Tensor) => leakyRelu(x, 0.2);

export class ResidualDenseBlock extends Module {
  readonly convs: Conv2d[];
  constructor(nf: number, gc: number, rng: Random) {
    super();
    this.convs = [0, 1, 2, 3, 4].map((i) =>
      this.child(`conv${i + 1}`, conv3(nf + i * gc, i === 4 ? nf : gc, rng)),
    );
  }
  forward(x: Tensor): Tensor {
    let feats = [x];
    // A fresh array per concat: the tape keeps a reference to the inputs array it was given.
    for (let i = 0; i < 4; i++) feats = [...feats, lrelu(this.convs[i].call(concat(feats, 1)))];
    const x5 = this.convs[4].call(concat(feats, 1));
    return add(mul(x5, 0.2), x);
  }
}

export class Rrdb extends Module {
  readonly rdbs: ResidualDenseBlock[];
  constructor(nf: number, gc: number, rng: Random) {
    super();
    this.rdbs = [1, 2, 3].map((i) => this.child(`rdb${i}`, new ResidualDenseBlock(nf, gc, rng)));
  }
  forward(x: Tensor): Tensor {
    let out = x;
    for (const r of this.rdbs) out = r.call(out);
    return add(mul(out, 0.2), x);
  }
}

export class RrdbNet extends Module {
  static readonly defaults: RrdbNetConfig = {
    inChannels: 3,
    outChannels: 3,
    numFeat: 64,
    numBlock: 23,
    numGrowCh: 32,
    seed: 0,
  };
  static readonly range = [0, 1] as const;
  readonly config: RrdbNetConfig;
  readonly convFirst: Conv2d;
  readonly body: Sequential;
  readonly convBody: Conv2d;
  readonly convUp1: Conv2d;
  readonly convUp2: Conv2d;
  readonly convHr: Conv2d;
  readonly convLast: Conv2d;

  constructor(
    readonly scale: number,
    config: Partial<RrdbNetConfig> = {},
  ) {
    super();
    if (![1, 2, 4].includes(scale)) {
      throw new Error(`RrdbNet: scale ${scale} is not supported (BasicSR's RRDBNet: 1, 2 or 4)`);
    }
    const c = { ...RrdbNet.defaults, ...config };
    this.config = c;
    const rng = new Random(c.seed);
    const nf = c.numFeat;
    const inCh = c.inChannels * (scale === 2 ? 4 : scale === 1 ? 16 : 1);
    this.convFirst = this.child("conv_first", conv3(inCh, nf, rng));
    const blocks = Array.from({ length: c.numBlock }, () => new Rrdb(nf, c.numGrowCh, rng));
    this.body = this.child("body", new Sequential(...blocks));
    this.convBody = this.child("conv_body", conv3(nf, nf, rng));
    this.convUp1 = this.child("conv_up1", conv3(nf, nf, rng));
    this.convUp2 = this.child("conv_up2", conv3(nf, nf, rng));
    this.convHr = this.child("conv_hr", conv3(nf, nf, rng));
    this.convLast = this.child("conv_last", conv3(nf, c.outChannels, rng));
  }

  forward(x: Tensor): Tensor {
    const folded =
      this.scale === 2 ? pixelUnshuffle(x, 2) : this.scale === 1 ? pixelUnshuffle(x, 4) : x;
    let feat = this.convFirst.call(folded);
    feat = add(feat, this.convBody.call(this.body.call(feat)));
    feat = lrelu(this.convUp1.callOnUpsampled(feat, 2));
    feat = lrelu(this.convUp2.callOnUpsampled(feat, 2));
    return this.convLast.call(lrelu(this.convHr.call(feat)));
  }
}
