/**
 * RRDN in the form of idealo's image-super-resolution Keras model that UpscalerJS ships as
 * esrgan-thick: T residual-in-residual dense blocks (each D dense blocks of C convs with growth G,
 * 3x3 local fusion LFF, residual scaling beta 0.2), a global residual, a conv to 3 * scale^2
 * channels and TensorFlow-order depth-to-space. Modules are named after the Keras layers
 * (Pre_blocks_conv, F_t_d_c, LFF_t_d, post_blocks_conv, PreShuffle, SR). RGB in [0, 1] (as the
 * UpscalerJS definition for esrgan-thick says). UpscalerJS config: C4 D3 G32 G0 64 T10.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { pixelShuffle } from "../../ops/pixel-shuffle.ts";
import { relu } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { Conv2d } from "../nn/conv.ts";
import { Module } from "../nn/module.ts";
import { applyTap } from "../nn/taps.ts";

/** RRDN's size in idealo's notation (C, D, G, G0, T) and the residual scaling beta. */
export interface RrdnConfig {
  C: number;
  D: number;
  G: number;
  G0: number;
  T: number;
  beta: number;
  seed: number;
}

export class Rrdn extends Module {
  static readonly defaults: RrdnConfig = { C: 4, D: 3, G: 32, G0: 64, T: 10, beta: 0.2, seed: 0 };
  static readonly range = [0, 1] as const;
  readonly config: RrdnConfig;
  private readonly convs = new Map<string, Conv2d>();

  constructor(
    readonly scale: number,
    config: Partial<RrdnConfig> = {},
  ) {
    super();
    if (!Number.isInteger(scale) || scale < 2) {
      throw new Error(`Rrdn: scale must be an integer >= 2, got ${scale}`);
    }
    const c = { ...Rrdn.defaults, ...config };
    this.config = c;
    const rng = new Random(c.seed);
    const conv = (name: string, i: number, o: number) =>
      this.convs.set(name, this.child(name, new Conv2d(i, o, 3, { padding: "same", seed: rng })));
    conv("Pre_blocks_conv", 3, c.G0);
    for (let t = 1; t <= c.T; t++) {
      for (let d = 1; d <= c.D; d++) {
        for (let k = 1; k <= c.C; k++) conv(`F_${t}_${d}_${k}`, c.G0 + (k - 1) * c.G, c.G);
        conv(`LFF_${t}_${d}`, c.G0 + c.C * c.G, c.G0);
      }
    }
    conv("post_blocks_conv", c.G0, c.G0);
    conv("PreShuffle", c.G0, 3 * scale * scale);
    conv("SR", 3, 3);
  }

  private conv(name: string, x: Tensor): Tensor {
    return this.convs.get(name)!.call(x);
  }

  forward(x: Tensor): Tensor {
    const c = this.config;
    const pre = this.conv("Pre_blocks_conv", x);
    let h = pre;
    for (let t = 1; t <= c.T; t++) {
      const input = h;
      for (let d = 1; d <= c.D; d++) {
        let cat = h;
        for (let k = 1; k <= c.C; k++) {
          cat = concat([cat, relu(this.conv(`F_${t}_${d}_${k}`, cat))], 1);
        }
        h = applyTap(`LRL_${t}_${d}`, add(h, mul(this.conv(`LFF_${t}_${d}`, cat), c.beta)));
      }
      h = applyTap(`RRDB_${t}_out`, add(input, mul(h, c.beta)));
    }
    const grl = applyTap("GRL", add(this.conv("post_blocks_conv", h), pre));
    return this.conv("SR", pixelShuffle(this.conv("PreShuffle", grl), this.scale, "tf"));
  }
}
