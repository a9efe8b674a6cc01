/**
 * FSRCNN (Dong et al. 2016): feature extraction 5x5 -> shrink 1x1 -> m x mapping 3x3 -> expand
 * 1x1, each with a per-channel PReLU, then a 9x9 transposed conv of stride `scale` to upsample.
 * Key names follow the widely used PyTorch port (yjn870/FSRCNN-pytorch): first_part.{0,1},
 * mid_part.{0..2m+3}, last_part. It works on the luminance (Y) channel in [0, 1].
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { conv2d } from "../../ops/conv.ts";
import { zeros } from "../../ops/creation.ts";
import { gather } from "../../ops/gather.ts";
import { pixelShuffle } from "../../ops/pixel-shuffle.ts";
import { reshape } from "../../ops/reshape.ts";
import { Random } from "../../random.ts";
import { PReLU } from "../nn/activation.ts";
import { Conv2d, ConvTranspose2d } from "../nn/conv.ts";
import { Module } from "../nn/module.ts";
import { Sequential } from "../nn/sequential.ts";
import { applyTap } from "../nn/taps.ts";

/** FSRCNN's channels and sizes d, s, m (published: one channel, 56, 12, 4). */
export interface FsrcnnConfig {
  /** Input/output channels: 1 (Y) as published; 3 for RGB variants. */
  channels: number;
  /** Feature width d, shrunk width s, mapping depth m (published: 56, 12, 4). */
  d: number;
  s: number;
  m: number;
  seed: number;
}

export class Fsrcnn extends Module {
  static readonly defaults: FsrcnnConfig = { channels: 1, d: 56, s: 12, m: 4, seed: 0 };
  /** Input and output range. */
  static readonly range = [0, 1] as const;
  readonly config: FsrcnnConfig;
  readonly firstPart: Sequential;
  readonly midPart: Sequential;
  readonly lastPart: ConvTranspose2d;

  constructor(
    readonly scale: number,
    config: Partial<FsrcnnConfig> = {},
  ) {
    super();
    if (!Number.isInteger(scale) || scale < 1) {
      throw new Error(`Fsrcnn: scale must be a positive integer, got ${scale}`);
    }
    const c = { ...Fsrcnn.defaults, ...config };
    this.config = c;
    const rng = new Random(c.seed);
    this.firstPart = this.child(
      "first_part",
      new Sequential(new Conv2d(c.channels, c.d, 5, { padding: 2, seed: rng }), new PReLU(c.d)),
    );
    const mid: Module[] = [new Conv2d(c.d, c.s, 1, { seed: rng }), new PReLU(c.s)];
    for (let i = 0; i < c.m; i++) {
      mid.push(new Conv2d(c.s, c.s, 3, { padding: 1, seed: rng }), new PReLU(c.s));
    }
    mid.push(new Conv2d(c.s, c.d, 1, { seed: rng }), new PReLU(c.d));
    this.midPart = this.child("mid_part", new Sequential(...mid));
    // padding 4 and output padding scale - 1 make the output exactly scale x the input.
    this.lastPart = this.child(
      "last_part",
      new ConvTranspose2d(c.d, c.channels, 9, {
        stride: scale,
        padding: 4,
        outputPadding: scale - 1,
        seed: rng,
      }),
    );
  }

  forward(x: Tensor): Tensor {
    const features = this.midPart.call(this.firstPart.call(x));
    // The 9x9 stride-s transposed conv, computed as s*s sub-pixel convs on the low-resolution grid
    // (identical values, about s*s times fewer multiplications than dilating the input).
    const t = this.lastPart;
    const y = subPixelTransposedConv(features, t.weight, t.bias, this.scale);
    return applyTap(t.path, y);
  }
}

/**
 * ConvTranspose2d(kernel k, stride s, padding p, output padding s - 1) with k - 2p - 1 = 0 (so the
 * output is exactly s times the input) as one stride-1 conv producing s*s phases per output channel,
 * then PixelShuffle. Phase (a, b) of output pixel (s*i + a, s*j + b) sums x[i - d, j - e] times
 * W[:, :, s*d + a + p, s*e + b + p] over the taps d, e that land inside the kernel.
 */
export function subPixelTransposedConv(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  s: number,
  p = 4,
): Tensor {
  const [cin, cout, k] = weight.shape;
  if (k - 2 * p - 1 !== 0)
    throw new Error(`subPixelTransposedConv: kernel ${k} with padding ${p} is not size-preserving`);
  const dMin = Math.ceil(-(s - 1 + p) / s);
  const dMax = Math.floor((k - 1 - p) / s);
  const taps = dMax - dMin + 1;
  const idx = phaseKernelIndex(cin, cout, k, s, p, dMax, taps);
  const flat = concat([reshape(weight, [cin * cout * k * k]), zeros([1])], 0);
  const g = reshape(gather(flat, idx), [cout * s * s, cin, taps, taps]);
  const phases = conv2d(x, g, { padding: [dMax, -dMin, dMax, -dMin] });
  const y = pixelShuffle(phases, s, "torch");
  return bias ? add(y, reshape(bias, [1, cout, 1, 1])) : y;
}

const indexCache = new Map<string, number[]>();

/** For each entry of the phase kernel [cout*s*s, cin, taps, taps], its index in W (or the zero slot). */
function phaseKernelIndex(
  cin: number,
  cout: number,
  k: number,
  s: number,
  p: number,
  dMax: number,
  taps: number,
) {
  const key = [cin, cout, k, s, p].join(",");
  const hit = indexCache.get(key);
  if (hit) return hit;
  const zero = cin * cout * k * k;
  const idx: number[] = [];
  for (let oc = 0; oc < cout; oc++)
    for (let a = 0; a < s; a++)
      for (let b = 0; b < s; b++)
        for (let ic = 0; ic < cin; ic++)
          for (let u = 0; u < taps; u++)
            for (let v = 0; v < taps; v++) {
              const ky = s * (dMax - u) + a + p;
              const kx = s * (dMax - v) + b + p;
              const inside = ky >= 0 && ky < k && kx >= 0 && kx < k;
              idx.push(inside ? ((ic * cout + oc) * k + ky) * k + kx : zero);
            }
  indexCache.set(key, idx);
  return idx;
}
