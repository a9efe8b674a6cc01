/**
 * EDSR (Lim et al. 2017), as in EDSR-PyTorch `model/edsr.py`: sub_mean -> head -> body (residual
 * blocks + conv, with a long skip) -> tail (upsampler + conv) -> add_mean. Inputs and outputs are
 * RGB in [0, rgbRange] (the official models use rgbRange 255; the mean shift scales with it).
 * Published configs: baseline 16 blocks x 64 channels, res_scale 1; full 32 x 256, res_scale 0.1.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add } from "../../ops/binary.ts";
import { Random } from "../../random.ts";
import { MeanShift } from "../nn/mean-shift.ts";
import { Module } from "../nn/module.ts";
import { Sequential } from "../nn/sequential.ts";
import { checkScale, defaultConv, ResBlock, upsampler } from "./common.ts";

export interface EdsrConfig {
  nResblocks: number;
  nFeats: number;
  resScale: number;
  nColors: number;
  rgbRange: number;
  seed: number;
}

export const EDSR_BASELINE: Omit<EdsrConfig, "seed"> = {
  nResblocks: 16,
  nFeats: 64,
  resScale: 1,
  nColors: 3,
  rgbRange: 255,
};
export const EDSR_FULL: Omit<EdsrConfig, "seed"> = {
  nResblocks: 32,
  nFeats: 256,
  resScale: 0.1,
  nColors: 3,
  rgbRange: 255,
};

export class Edsr extends Module {
  static readonly defaults: EdsrConfig = { ...EDSR_BASELINE, seed: 0 };
  readonly config: EdsrConfig;
  readonly subMean: MeanShift;
  readonly head: Sequential;
  readonly body: Sequential;
  readonly tail: Sequential;
  readonly addMean: MeanShift;

  /** `config` defaults to EDSR-baseline; pass EDSR_FULL for the full model. */
  constructor(
    readonly scale: number,
    config: Partial<EdsrConfig> = {},
  ) {
    super();
    checkScale("Edsr", scale);
    const c = { ...Edsr.defaults, ...config };
    this.config = c;
    const rng = new Random(c.seed);
    const f = c.nFeats;
    this.subMean = this.child("sub_mean", new MeanShift(c.rgbRange, undefined, -1));
    this.head = this.child("head", new Sequential(defaultConv(c.nColors, f, 3, rng)));
    const blocks = Array.from({ length: c.nResblocks }, () => new ResBlock(f, 3, rng, c.resScale));
    this.body = this.child("body", new Sequential(...blocks, defaultConv(f, f, 3, rng)));
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
