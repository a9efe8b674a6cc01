/**
 * CARN and CARN-M (Ahn et al. 2018), with the key names of nmhkahn/CARN-pytorch (carn.py,
 * carn_m.py, ops.py): cascading blocks whose outputs are concatenated and fused by 1x1 convs at
 * both the block and the network level. CARN-M replaces the residual blocks by one efficient
 * residual block (grouped convs, group 4) applied three times with shared weights. RGB in [0, 1]
 * (the mean shift uses the DIV2K mean in those units). The official checkpoints are multi-scale:
 * upsample.up2/up3/up4 all exist and `scale` picks one.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { relu } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { ReLU } from "../nn/activation.ts";
import { Conv2d } from "../nn/conv.ts";
import { DIV2K_RGB_MEAN, ShifterMeanShift } from "../nn/mean-shift.ts";
import { Module } from "../nn/module.ts";
import { Sequential } from "../nn/sequential.ts";
import { checkScale, upsampler } from "./common.ts";

export interface CarnConfig {
  /** CARN-M: efficient residual blocks with shared weights and grouped convs. */
  mobile: boolean;
  /** Group count of the grouped convs (CARN-M: 4). Ignored by CARN's residual blocks. */
  group: number;
  /** Build up2, up3 and up4 like the official multi-scale checkpoints (else one `up`). */
  multiScale: boolean;
  channels: number;
  seed: number;
}

/** ops.BasicBlock: conv + ReLU as body.{0,1}. */
class BasicBlock extends Module {
  readonly body: Sequential;
  constructor(i: number, o: number, k: number, pad: number, rng: Random) {
    super();
    this.body = this.child(
      "body",
      new Sequential(new Conv2d(i, o, k, { padding: pad, seed: rng }), new ReLU()),
    );
  }
  forward(x: Tensor): Tensor {
    return this.body.call(x);
  }
}

/** ops.ResidualBlock (CARN) or ops.EResidualBlock (CARN-M): relu(body(x) + x). */
class ResidualBlock extends Module {
  readonly body: Sequential;
  constructor(ch: number, rng: Random, efficient: boolean, group: number) {
    super();
    const c3 = (g: number) => new Conv2d(ch, ch, 3, { padding: 1, groups: g, seed: rng });
    this.body = this.child(
      "body",
      efficient
        ? new Sequential(
            c3(group),
            new ReLU(),
            c3(group),
            new ReLU(),
            new Conv2d(ch, ch, 1, { seed: rng }),
          )
        : new Sequential(c3(1), new ReLU(), c3(1)),
    );
  }
  forward(x: Tensor): Tensor {
    return relu(add(this.body.call(x), x));
  }
}

/** Cascading block: b_k on the running output, concat with everything so far, 1x1 fusion c_k. */
class CascadingBlock extends Module {
  readonly residual: ResidualBlock[];
  readonly fuse: BasicBlock[];
  constructor(ch: number, rng: Random, mobile: boolean, group: number) {
    super();
    // CARN has b1, b2, b3; CARN-M has one b1 applied three times.
    this.residual = (mobile ? [1] : [1, 2, 3]).map((i) =>
      this.child(`b${i}`, new ResidualBlock(ch, rng, mobile, group)),
    );
    this.fuse = [1, 2, 3].map((i) =>
      this.child(`c${i}`, new BasicBlock(ch * (i + 1), ch, 1, 0, rng)),
    );
  }
  forward(x: Tensor): Tensor {
    let c = x;
    let o = x;
    for (let i = 0; i < 3; i++) {
      const b = this.residual[Math.min(i, this.residual.length - 1)].call(o);
      c = concat([c, b], 1);
      o = this.fuse[i].call(c);
    }
    return o;
  }
}

/** ops._UpsampleBlock: [conv, ReLU, PixelShuffle] stages held as `body`. */
class UpsampleBranch extends Module {
  readonly body: Sequential;
  constructor(ch: number, scale: number, group: number, rng: Random) {
    super();
    this.body = this.child("body", upsampler(scale, ch, rng, { relu: true, groups: group }));
  }
  forward(x: Tensor): Tensor {
    return this.body.call(x);
  }
}

/** ops.UpsampleBlock: one branch `up`, or up2/up3/up4 (multi-scale) of which `scale` is used. */
class UpsampleBlock extends Module {
  readonly active: UpsampleBranch;
  constructor(ch: number, scale: number, multiScale: boolean, group: number, rng: Random) {
    super();
    const scales = multiScale ? [2, 3, 4] : [scale];
    const branches = scales.map((s) =>
      this.child(multiScale ? `up${s}` : "up", new UpsampleBranch(ch, s, group, rng)),
    );
    this.active = branches[scales.indexOf(scale)];
  }
  forward(x: Tensor): Tensor {
    return this.active.call(x);
  }
}

export class Carn extends Module {
  static readonly defaults: CarnConfig = {
    mobile: false,
    group: 1,
    multiScale: true,
    channels: 64,
    seed: 0,
  };
  /** CARN-M's published settings. */
  static readonly mobileDefaults: CarnConfig = { ...Carn.defaults, mobile: true, group: 4 };
  static readonly range = [0, 1] as const;
  readonly config: CarnConfig;
  readonly subMean: ShifterMeanShift;
  readonly addMean: ShifterMeanShift;
  readonly entry: Conv2d;
  readonly blocks: CascadingBlock[];
  readonly fuse: BasicBlock[];
  readonly upsample: UpsampleBlock;
  readonly exit: Conv2d;

  constructor(
    readonly scale: number,
    config: Partial<CarnConfig> = {},
  ) {
    super();
    const c = { ...(config.mobile ? Carn.mobileDefaults : Carn.defaults), ...config };
    checkScale("Carn", scale, c.multiScale ? [2, 3, 4] : [2, 3, 4, 8]);
    this.config = c;
    const rng = new Random(c.seed);
    const ch = c.channels;
    this.subMean = this.child("sub_mean", new ShifterMeanShift(DIV2K_RGB_MEAN, -1));
    this.addMean = this.child("add_mean", new ShifterMeanShift(DIV2K_RGB_MEAN, 1));
    this.entry = this.child("entry", new Conv2d(3, ch, 3, { padding: 1, seed: rng }));
    this.blocks = [1, 2, 3].map((i) =>
      this.child(`b${i}`, new CascadingBlock(ch, rng, c.mobile, c.group)),
    );
    this.fuse = [1, 2, 3].map((i) =>
      this.child(`c${i}`, new BasicBlock(ch * (i + 1), ch, 1, 0, rng)),
    );
    this.upsample = this.child(
      "upsample",
      new UpsampleBlock(ch, scale, c.multiScale, c.group, rng),
    );
    this.exit = this.child("exit", new Conv2d(ch, 3, 3, { padding: 1, seed: rng }));
  }

  forward(x: Tensor): Tensor {
    const x0 = this.entry.call(this.subMean.call(x));
    let c = x0;
    let o = x0;
    for (let i = 0; i < 3; i++) {
      c = concat([c, this.blocks[i].call(o)], 1);
      o = this.fuse[i].call(c);
    }
    return this.addMean.call(this.exit.call(this.upsample.call(o)));
  }
}
