/**
 * Building blocks shared by the EDSR-family networks (EDSR-PyTorch `model/common.py`): the
 * same-padded conv, the residual block, and the conv + PixelShuffle upsampler. Child indices match
 * the PyTorch `nn.Sequential` layouts so official state-dict keys load unchanged.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul } from "../../ops/binary.ts";
import type { Random } from "../../random.ts";
import { ReLU } from "../nn/activation.ts";
import { Conv2d } from "../nn/conv.ts";
import { Module } from "../nn/module.ts";
import { PixelShuffle } from "../nn/reshaping.ts";
import { Sequential } from "../nn/sequential.ts";

/** common.default_conv: k x k conv with padding k // 2. */
export function defaultConv(
  inCh: number,
  outCh: number,
  kernel: number,
  rng: Random,
  o: { bias?: boolean; relu?: boolean } = {},
): Conv2d {
  return new Conv2d(inCh, outCh, kernel, {
    padding: Math.floor(kernel / 2),
    bias: o.bias,
    relu: o.relu,
    seed: rng,
  });
}

/** common.ResBlock: x + resScale * conv(relu(conv(x))), keys body.0 and body.2. */
export class ResBlock extends Module {
  readonly body: Sequential;
  constructor(
    channels: number,
    kernel: number,
    rng: Random,
    readonly resScale = 1,
  ) {
    super();
    this.body = this.child(
      "body",
      new Sequential(
        defaultConv(channels, channels, kernel, rng),
        new ReLU(),
        defaultConv(channels, channels, kernel, rng),
      ),
    );
  }
  forward(x: Tensor): Tensor {
    const r = this.body.call(x);
    return add(this.resScale === 1 ? r : mul(r, this.resScale), x);
  }
}

/** Scales the upsamplers support: powers of two (stages of x2) and 3. */
export function checkScale(net: string, scale: number, allowed?: readonly number[]): void {
  const ok = allowed
    ? allowed.includes(scale)
    : Number.isInteger(scale) && scale >= 2 && (scale === 3 || (scale & (scale - 1)) === 0);
  if (!ok) {
    throw new Error(
      `${net}: scale ${scale} is not supported (expected ${allowed ? allowed.join(", ") : "2, 3, 4, 8 or another power of two"})`,
    );
  }
}

/**
 * common.Upsampler: log2(scale) x [conv C->4C, PixelShuffle(2)], or [conv C->9C, PixelShuffle(3)].
 * With `relu` each conv is followed by a ReLU module (CARN/DRLN's _UpsampleBlock layout).
 */
export function upsampler(
  scale: number,
  channels: number,
  rng: Random,
  o: { relu?: boolean; groups?: number } = {},
): Sequential {
  const stages = scale === 3 ? [3] : Array<number>(Math.round(Math.log2(scale))).fill(2);
  const layers: Module[] = [];
  for (const r of stages) {
    layers.push(
      new Conv2d(channels, r * r * channels, 3, { padding: 1, groups: o.groups, seed: rng }),
    );
    if (o.relu) layers.push(new ReLU());
    layers.push(new PixelShuffle(r));
  }
  return new Sequential(...layers);
}
