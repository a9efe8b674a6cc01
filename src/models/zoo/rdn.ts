/**
 * RDN (Zhang et al. 2018, "Residual Dense Network") in the form of idealo's image-super-resolution
 * Keras models that UpscalerJS ships (esrgan-slim, esrgan-medium, default-model). Modules are named
 * after the Keras layers (F_m1, F_0, F_d_c, LFF_d, GFF_1, GFF_2, UPN1..3, SR), so
 * `kerasConvStateDict` of the package weights loads as is, and every Keras layer name can be
 * tapped (Add/Concatenate outputs too: LRL_d, FDF). Input and output are RGB in [0, 255].
 * UpscalerJS configs: slim C1 D2 G4 G0 64; medium C1 D10 G64 G0 64.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { pixelShuffle } from "../../ops/pixel-shuffle.ts";
import { relu } from "../../ops/unary.ts";
import { Random } from "../../random.ts";
import { Conv2d } from "../nn/conv.ts";
import { Module } from "../nn/module.ts";
import { applyTap } from "../nn/taps.ts";

/**
 * RDN's size in idealo's notation: C conv layers per block, D blocks, G growth, G0 features, and
 * the upscaling layer.
 */
export interface RdnConfig {
  /** Conv layers per residual dense block. */
  C: number;
  /** Residual dense blocks. */
  D: number;
  /** Growth (channels of each conv in a block). */
  G: number;
  /** Feature channels between blocks. */
  G0: number;
  /** "ups": UpSampling2D after UPN3 (the UpscalerJS models); "shuffle": depth-to-space. */
  upscaling: "ups" | "shuffle";
  seed: number;
}

/** The size of UpscalerJS esrgan-slim (C1 D2 G4 G0 64). */
export const RDN_SLIM: Omit<RdnConfig, "seed"> = { C: 1, D: 2, G: 4, G0: 64, upscaling: "ups" };
/** The size of UpscalerJS esrgan-medium (C1 D10 G64 G0 64). */
export const RDN_MEDIUM: Omit<RdnConfig, "seed"> = { C: 1, D: 10, G: 64, G0: 64, upscaling: "ups" };

export class Rdn extends Module {
  static readonly defaults: RdnConfig = { ...RDN_SLIM, seed: 0 };
  static readonly range = [0, 255] as const;
  readonly config: RdnConfig;
  private readonly convs = new Map<string, Conv2d>();

  constructor(
    readonly scale: number,
    config: Partial<RdnConfig> = {},
  ) {
    super();
    if (!Number.isInteger(scale) || scale < 2) {
      throw new Error(`Rdn: scale must be an integer >= 2, got ${scale}`);
    }
    const c = { ...Rdn.defaults, ...config };
    this.config = c;
    const rng = new Random(c.seed);
    const conv = (name: string, i: number, o: number, k: number) =>
      this.convs.set(name, this.child(name, new Conv2d(i, o, k, { padding: "same", seed: rng })));
    conv("F_m1", 3, c.G0, 3);
    conv("F_0", c.G0, c.G0, 3);
    for (let d = 1; d <= c.D; d++) {
      for (let k = 1; k <= c.C; k++) conv(`F_${d}_${k}`, c.G0 + (k - 1) * c.G, c.G, 3);
      conv(`LFF_${d}`, c.G0 + c.C * c.G, c.G0, 1);
    }
    conv("GFF_1", c.D * c.G0, c.G0, 1);
    conv("GFF_2", c.G0, c.G0, 3);
    conv("UPN1", c.G0, 64, 5);
    conv("UPN2", 64, 32, 3);
    conv("UPN3", 32, 3 * scale * scale, 3);
    conv("SR", c.upscaling === "ups" ? 3 * scale * scale : 3, 3, 3);
  }

  private conv(name: string, x: Tensor): Tensor {
    return this.convs.get(name)!.call(x);
  }

  forward(x: Tensor): Tensor {
    const c = this.config;
    const fm1 = this.conv("F_m1", x);
    let h = this.conv("F_0", fm1);
    const lrls: Tensor[] = [];
    for (let d = 1; d <= c.D; d++) {
      let cat = h;
      for (let k = 1; k <= c.C; k++) {
        cat = concat([cat, applyTap(`F_${d}_${k}_Relu`, relu(this.conv(`F_${d}_${k}`, cat)))], 1);
      }
      h = applyTap(`LRL_${d}`, add(this.conv(`LFF_${d}`, cat), h));
      lrls.push(h);
    }
    const gff = this.conv("GFF_2", this.conv("GFF_1", concat(lrls, 1)));
    const fdf = applyTap("FDF", add(gff, fm1));
    const u = relu(this.conv("UPN2", relu(this.conv("UPN1", fdf))));
    const up3 = this.conv("UPN3", u);
    // UpSampling2D + SR conv run as one low-resolution conv and a depth-to-space.
    if (c.upscaling === "ups") return this.convs.get("SR")!.callOnUpsampled(up3, this.scale);
    return this.conv("SR", pixelShuffle(up3, this.scale, "tf"));
  }
}
