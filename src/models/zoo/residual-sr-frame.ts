/**
 * The frame EDSR and RCAN share (EDSR-PyTorch `model/edsr.py`, `model/rcan.py`): sub_mean -> head
 * conv -> body (the network's own blocks + a conv, with a long skip) -> tail (upsampler + conv)
 * -> add_mean. Child names and creation order match PyTorch's so official keys load unchanged and
 * seeded initialisations draw in the same order.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add } from "../../ops/binary.ts";
import type { Random } from "../../random.ts";
import { MeanShift } from "../nn/mean-shift.ts";
import { Module } from "../nn/module.ts";
import { Sequential } from "../nn/sequential.ts";
import { checkScale, defaultConv, upsampler } from "./common.ts";

export interface ResidualSrShape {
  nFeats: number;
  nColors: number;
  rgbRange: number;
}

export class ResidualSrFrame extends Module {
  readonly subMean: MeanShift;
  readonly head: Sequential;
  readonly body: Sequential;
  readonly tail: Sequential;
  readonly addMean: MeanShift;

  /** `blocks` builds the body's blocks (after the head, so the rng is drawn in PyTorch's order). */
  constructor(
    net: string,
    readonly scale: number,
    c: ResidualSrShape,
    rng: Random,
    blocks: () => Module[],
  ) {
    super();
    checkScale(net, scale);
    const f = c.nFeats;
    this.subMean = this.child("sub_mean", new MeanShift(c.rgbRange, undefined, -1));
    this.head = this.child("head", new Sequential(defaultConv(c.nColors, f, 3, rng)));
    this.body = this.child("body", new Sequential(...blocks(), defaultConv(f, f, 3, rng)));
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
