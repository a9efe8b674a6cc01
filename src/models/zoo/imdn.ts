/**
 * IMDN (Hui et al. 2019), with the key names of Zheng222/IMDN (model/architecture.py, block.py):
 * fea_conv -> 6 information multi-distillation blocks (IMDB1..6) -> c (1x1 fusion + LeakyReLU)
 * -> LR_conv + skip -> upsampler (conv + PixelShuffle). Each IMDB splits off a quarter of the
 * channels after every conv (progressive refinement), fuses the distilled parts through the
 * contrast-aware channel attention (cca) and a 1x1 conv (c5), plus a residual. LeakyReLU slope
 * 0.05. RGB in [0, 1].
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { split } from "../../ops/slice.ts";
import { leakyRelu } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { LeakyReLU } from "../nn/activation.ts";
import { ContrastChannelAttention } from "../nn/channel-attention.ts";
import { Conv2d } from "../nn/conv.ts";
import { Module } from "../nn/module.ts";
import { PixelShuffle } from "../nn/reshaping.ts";
import { Sequential } from "../nn/sequential.ts";

/** IMDN's size: input and output channels, features and number of blocks. */
export interface ImdnConfig {
  inChannels: number;
  outChannels: number;
  nf: number;
  numModules: number;
  seed: number;
}

const SLOPE = 0.05;
/** block.conv_layer: padding (k - 1) / 2. */
const convLayer = (i: number, o: number, k: number, rng: Random) =>
  new Conv2d(i, o, k, { padding: (k - 1) >> 1, seed: rng });

/** IMDModule with distillation rate 0.25. */
export class Imdb extends Module {
  readonly distilled: number;
  readonly remaining: number;
  readonly c1: Conv2d;
  readonly c2: Conv2d;
  readonly c3: Conv2d;
  readonly c4: Conv2d;
  readonly c5: Conv2d;
  readonly cca: ContrastChannelAttention;
  constructor(ch: number, rng: Random) {
    super();
    this.distilled = Math.floor(ch * 0.25);
    this.remaining = ch - this.distilled;
    this.c1 = this.child("c1", convLayer(ch, ch, 3, rng));
    this.c2 = this.child("c2", convLayer(this.remaining, ch, 3, rng));
    this.c3 = this.child("c3", convLayer(this.remaining, ch, 3, rng));
    this.c4 = this.child("c4", convLayer(this.remaining, this.distilled, 3, rng));
    this.c5 = this.child("c5", convLayer(this.distilled * 4, ch, 1, rng));
    this.cca = this.child("cca", new ContrastChannelAttention(this.distilled * 4, 16, rng));
  }
  forward(x: Tensor): Tensor {
    const sizes = [this.distilled, this.remaining];
    const parts: Tensor[] = [];
    let rest = x;
    for (const conv of [this.c1, this.c2, this.c3]) {
      const [d, r] = split(leakyRelu(conv.call(rest), SLOPE), sizes, 1);
      parts.push(d);
      rest = r;
    }
    parts.push(this.c4.call(rest));
    return add(this.c5.call(this.cca.call(concat(parts, 1))), x);
  }
}

export class Imdn extends Module {
  static readonly defaults: ImdnConfig = {
    inChannels: 3,
    outChannels: 3,
    nf: 64,
    numModules: 6,
    seed: 0,
  };
  static readonly range = [0, 1] as const;
  readonly config: ImdnConfig;
  readonly feaConv: Conv2d;
  readonly blocks: Imdb[];
  readonly c: Sequential;
  readonly lrConv: Conv2d;
  readonly upsampler: Sequential;

  constructor(
    readonly scale: number,
    config: Partial<ImdnConfig> = {},
  ) {
    super();
    if (!Number.isInteger(scale) || scale < 1) {
      throw new Error(`Imdn: scale must be a positive integer, got ${scale}`);
    }
    const c = { ...Imdn.defaults, ...config };
    this.config = c;
    const rng = new Random(c.seed);
    this.feaConv = this.child("fea_conv", convLayer(c.inChannels, c.nf, 3, rng));
    this.blocks = Array.from({ length: c.numModules }, (_, i) =>
      this.child(`IMDB${i + 1}`, new Imdb(c.nf, rng)),
    );
    this.c = this.child(
      "c",
      new Sequential(convLayer(c.nf * c.numModules, c.nf, 1, rng), new LeakyReLU(SLOPE)),
    );
    this.lrConv = this.child("LR_conv", convLayer(c.nf, c.nf, 3, rng));
    this.upsampler = this.child(
      "upsampler",
      new Sequential(
        convLayer(c.nf, c.outChannels * scale * scale, 3, rng),
        new PixelShuffle(scale),
      ),
    );
  }

  forward(x: Tensor): Tensor {
    const fea = this.feaConv.call(x);
    const outs: Tensor[] = [];
    let h = fea;
    for (const b of this.blocks) {
      h = b.call(h);
      outs.push(h);
    }
    const lr = add(this.lrConv.call(this.c.call(concat(outs, 1))), fea);
    return this.upsampler.call(lr);
  }
}
