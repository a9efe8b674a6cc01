/**
 * DRLN (Anwar & Barnes 2020, "Densely Residual Laplacian Super-Resolution"), with the key names of
 * saeed-anwar/DRLN (TestCode/code/model/{drln,ops}.py): 20 dense residual blocks in 6 cascades
 * (the 5th and 6th cascades hold 4 blocks, the others 3), each fused by 3x3 conv+ReLU (c1..c20),
 * with residual connections a1..a6 and a long skip. Each block ends in Laplacian attention:
 * three dilated (3, 5, 7) convs on the pooled descriptor, concatenated, then conv + sigmoid.
 * The published forward feeds block b5 with a1 (not o4); that is kept. The mean shift subtracts
 * the DIV2K mean in [0, 1] units (ops.MeanShift) whatever the input range.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { mean } from "../../ops/reduce.ts";
import { relu } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { ReLU, Sigmoid } from "../nn/activation.ts";
import { Conv2d } from "../nn/conv.ts";
import { DIV2K_RGB_MEAN, ShifterMeanShift } from "../nn/mean-shift.ts";
import { Module } from "../nn/module.ts";
import { Sequential } from "../nn/sequential.ts";
import { checkScale, upsampler } from "./common.ts";

/** DRLN's width (channels), channel-attention reduction and init seed. */
export interface DrlnConfig {
  channels: number;
  reduction: number;
  seed: number;
}

/** ops.BasicBlock / BasicBlockSig: conv (k, pad, dilation) + ReLU or Sigmoid as body.{0,1}. */
class ConvAct extends Module {
  readonly body: Sequential;
  constructor(
    i: number,
    o: number,
    k: number,
    pad: number,
    rng: Random,
    o2: { dilation?: number; sigmoid?: boolean } = {},
  ) {
    super();
    const conv = new Conv2d(i, o, k, { padding: pad, dilation: o2.dilation ?? 1, seed: rng });
    this.body = this.child("body", new Sequential(conv, o2.sigmoid ? new Sigmoid() : new ReLU()));
  }
  forward(x: Tensor): Tensor {
    return this.body.call(x);
  }
}

/** ops.ResidualBlock: relu(conv(relu(conv(x))) + x). */
class ResidualBlock extends Module {
  readonly body: Sequential;
  constructor(ch: number, rng: Random) {
    super();
    const c3 = () => new Conv2d(ch, ch, 3, { padding: 1, seed: rng });
    this.body = this.child("body", new Sequential(c3(), new ReLU(), c3()));
  }
  forward(x: Tensor): Tensor {
    return relu(add(this.body.call(x), x));
  }
}

/** Laplacian attention (drln.CALayer). */
class LaplacianAttention extends Module {
  readonly branches: ConvAct[];
  readonly c4: ConvAct;
  constructor(ch: number, reduction: number, rng: Random) {
    super();
    const mid = Math.floor(ch / reduction);
    this.branches = [3, 5, 7].map((d, i) =>
      this.child(`c${i + 1}`, new ConvAct(ch, mid, 3, d, rng, { dilation: d })),
    );
    this.c4 = this.child("c4", new ConvAct(mid * 3, ch, 3, 1, rng, { sigmoid: true }));
  }
  forward(x: Tensor): Tensor {
    const y = mean(x, [2, 3], true);
    const gate = this.c4.call(
      concat(
        this.branches.map((b) => b.call(y)),
        1,
      ),
    );
    return mul(x, gate);
  }
}

/** drln.Block: dense residual blocks r1..r3 (widths C, 2C, 4C), 1x1 fusion g, attention ca. */
class DenseResidualBlock extends Module {
  readonly r: ResidualBlock[];
  readonly g: ConvAct;
  readonly ca: LaplacianAttention;
  constructor(ch: number, reduction: number, rng: Random) {
    super();
    this.r = [1, 2, 4].map((w, i) => this.child(`r${i + 1}`, new ResidualBlock(ch * w, rng)));
    this.g = this.child("g", new ConvAct(ch * 8, ch, 1, 0, rng));
    this.ca = this.child("ca", new LaplacianAttention(ch, reduction, rng));
  }
  forward(x: Tensor): Tensor {
    let c = x;
    for (const r of this.r) c = concat([c, r.call(c)], 1);
    return this.ca.call(this.g.call(c));
  }
}

/** Blocks per cascade (they sum to 20); fusion c_k of the j-th block in a cascade takes (j + 2) C channels. */
const CASCADES = [3, 3, 3, 3, 4, 4];

export class Drln extends Module {
  static readonly defaults: DrlnConfig = { channels: 64, reduction: 16, seed: 0 };
  readonly config: DrlnConfig;
  readonly subMean: ShifterMeanShift;
  readonly addMean: ShifterMeanShift;
  readonly head: Conv2d;
  readonly blocks: DenseResidualBlock[] = [];
  readonly fuse: ConvAct[] = [];
  readonly upsample: Module;
  readonly tail: Conv2d;

  constructor(
    readonly scale: number,
    config: Partial<DrlnConfig> = {},
  ) {
    super();
    checkScale("Drln", scale, [2, 3, 4, 8]);
    const c = { ...Drln.defaults, ...config };
    this.config = c;
    const rng = new Random(c.seed);
    const ch = c.channels;
    this.subMean = this.child("sub_mean", new ShifterMeanShift(DIV2K_RGB_MEAN, -1));
    this.addMean = this.child("add_mean", new ShifterMeanShift(DIV2K_RGB_MEAN, 1));
    this.head = this.child("head", new Conv2d(3, ch, 3, { padding: 1, seed: rng }));
    for (let i = 1; i <= 20; i++) {
      this.blocks.push(this.child(`b${i}`, new DenseResidualBlock(ch, c.reduction, rng)));
    }
    let k = 1;
    for (const n of CASCADES) {
      for (let j = 0; j < n; j++, k++) {
        this.fuse.push(this.child(`c${k}`, new ConvAct(ch * (j + 2), ch, 3, 1, rng)));
      }
    }
    this.upsample = this.child("upsample", new UpsampleBlock(ch, scale, rng));
    this.tail = this.child("tail", new Conv2d(ch, 3, 3, { padding: 1, seed: rng }));
  }

  forward(x: Tensor): Tensor {
    const x0 = this.head.call(this.subMean.call(x));
    let a = x0; // the running residual a_k (a_0 = the head output)
    let o = x0; // the last fused output
    let k = 0;
    for (let cascade = 0; cascade < CASCADES.length; cascade++) {
      let c: Tensor | null = null;
      for (let j = 0; j < CASCADES[cascade]; j++, k++) {
        // Block inputs: a_k for the first block of a cascade, and (as published) for b5.
        const input = j === 0 || k === 4 ? a : o;
        const b = this.blocks[k].call(input);
        // The first concat of a cascade pairs the previous fused output (c0 = x in cascade 1).
        c = concat([c ?? o, b], 1);
        o = this.fuse[k].call(c);
      }
      a = add(o, a);
    }
    return this.addMean.call(this.tail.call(this.upsample.call(add(a, x0))));
  }
}

/** ops.UpsampleBlock (single scale): `up.body` = [conv, ReLU, PixelShuffle] stages. */
class UpsampleBlock extends Module {
  readonly up: Module;
  constructor(ch: number, scale: number, rng: Random) {
    super();
    this.up = this.child("up", new UpsampleBody(ch, scale, rng));
  }
  forward(x: Tensor): Tensor {
    return this.up.call(x);
  }
}

class UpsampleBody extends Module {
  readonly body: Sequential;
  constructor(ch: number, scale: number, rng: Random) {
    super();
    this.body = this.child("body", upsampler(scale, ch, rng, { relu: true }));
  }
  forward(x: Tensor): Tensor {
    return this.body.call(x);
  }
}
