/**
 * The explainer network: a small U-Net-like encoder-decoder from an image [N, 1, H, W] to one
 * mask logit per class at input resolution [N, C, H, W] (H, W divisible by 8). The encoder has
 * four 3x3 conv/ReLU stages with 2x2 max-pools between them (64 -> 8 for a 64 x 64 canvas), shaped
 * like MultiLabelCnn's so they can start from its weights, and a bottleneck conv. The decoder goes
 * back up FPN-style (1x1 conv, nearest x2, add the skip, 3x3 conv/ReLU), a fraction of the cost of
 * concatenating skips, and a 3x3 conv gives the logits. Small on purpose: it trains on the CPU.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add } from "../../ops/binary.ts";
import { maxPool2d } from "../../ops/pool.ts";
import { upsample } from "../../ops/resize.ts";
import { relu } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { Conv2d } from "../nn/conv.ts";
import { skipInit } from "../nn/init.ts";
import { Module, type StateDict } from "../nn/module.ts";

/** Shape and initialisation of an `ExplainerNet`. */
export interface ExplainerNetConfig {
  /** Mask logits per pixel, one per class (default 10). */
  classes?: number;
  /** Channels at full, 1/2, 1/4 and 1/8 resolution (default 8, 16, 32, 64). */
  channels?: readonly [number, number, number, number];
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
}

export class ExplainerNet extends Module {
  readonly channels: readonly [number, number, number, number];
  readonly classes: number;
  private readonly enc: Conv2d[];
  private readonly bottleneck: Conv2d;
  private readonly lateral: Conv2d[];
  private readonly dec: Conv2d[];
  private readonly head: Conv2d;

  constructor(o: ExplainerNetConfig = {}) {
    super();
    const rng = new Random(o.seed ?? 0);
    const ch = o.channels ?? [8, 16, 32, 64];
    this.channels = ch;
    this.classes = o.classes ?? 10;
    const conv3 = (name: string, i: number, j: number, relu = true) =>
      this.child(name, new Conv2d(i, j, 3, { padding: 1, relu, seed: rng }));
    const conv1 = (name: string, i: number, j: number) =>
      this.child(name, new Conv2d(i, j, 1, { seed: rng }));
    this.enc = [1, 2, 3, 4].map((k) => conv3(`enc${k}`, k === 1 ? 1 : ch[k - 2], ch[k - 1]));
    // A second conv at 1/8 widens the receptive field to the whole item (~50 px).
    this.bottleneck = conv3("bottleneck", ch[3], ch[3]);
    // lateral{k} maps level k+1 (coarser) to level k's channels before upsampling.
    this.lateral = [1, 2, 3].map((k) => conv1(`lateral${k}`, ch[k], ch[k - 1]));
    this.dec = [1, 2, 3].map((k) => conv3(`dec${k}`, ch[k - 1], ch[k - 1]));
    this.head = conv3("head", ch[0], this.classes, false);
  }

  /** [N, 1, H, W] to mask logits [N, classes, H, W]. */
  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[2] % 8 || x.shape[3] % 8) {
      throw new Error(
        `ExplainerNet: expected [N, 1, H, W] with H, W divisible by 8, got [${x.shape}]`,
      );
    }
    const skips: Tensor[] = [];
    let h = x;
    this.enc.forEach((conv, k) => {
      if (k > 0) h = maxPool2d(h, { kernel: 2 });
      h = conv.call(h);
      skips.push(h);
    });
    h = this.bottleneck.call(h);
    for (let k = 2; k >= 0; k--) {
      const up = upsample(this.lateral[k].call(h), 2, "nearest");
      h = this.dec[k].call(relu(add(up, skips[k])));
    }
    return this.head.call(h);
  }
}

/** An ExplainerNet with the weights of a state dict (channels and classes read from the shapes). */
export function explainerNetFrom(weights: StateDict): ExplainerNet {
  const ch = [1, 2, 3, 4].map((k) => weights.get(`enc${k}.weight`)?.shape[0]);
  const classes = weights.get("head.weight")?.shape[0];
  if (ch.some((c) => !c) || !classes) {
    throw new Error("explainerNetFrom: expected enc1..enc4.weight and head.weight");
  }
  const net = skipInit(
    () =>
      new ExplainerNet({ channels: ch as unknown as [number, number, number, number], classes }),
  );
  net.loadStateDict(weights);
  return net.eval();
}
