/**
 * EDSR (Lim et al. 2017), as in EDSR-PyTorch `model/edsr.py`: sub_mean -> head -> body (residual
 * blocks + conv, with a long skip) -> tail (upsampler + conv) -> add_mean. Inputs and outputs are
 * RGB in [0, rgbRange] (the official models use rgbRange 255; the mean shift scales with it).
 * Published configs: baseline 16 blocks x 64 channels, res_scale 1; full 32 x 256, res_scale 0.1.
 */
import { Random } from "../../random.ts";
import { ResBlock } from "./common.ts";
import { ResidualSrFrame } from "./residual-sr-frame.ts";

/** EDSR's size: residual blocks, features, residual scaling, colour channels and value range. */
export interface EdsrConfig {
  nResblocks: number;
  nFeats: number;
  resScale: number;
  nColors: number;
  rgbRange: number;
  seed: number;
}

/** EDSR baseline: 16 blocks x 64 channels, residual scale 1. */
export const EDSR_BASELINE: Omit<EdsrConfig, "seed"> = {
  nResblocks: 16,
  nFeats: 64,
  resScale: 1,
  nColors: 3,
  rgbRange: 255,
};
/** EDSR full: 32 blocks x 256 channels, residual scale 0.1. */
export const EDSR_FULL: Omit<EdsrConfig, "seed"> = {
  nResblocks: 32,
  nFeats: 256,
  resScale: 0.1,
  nColors: 3,
  rgbRange: 255,
};

/** EDSR (Lim et al. 2017) with EDSR-PyTorch's state-dict keys; RGB in [0, rgbRange]. */
export class Edsr extends ResidualSrFrame {
  static readonly defaults: EdsrConfig = { ...EDSR_BASELINE, seed: 0 };
  readonly config: EdsrConfig;

  /** `config` defaults to EDSR-baseline; pass EDSR_FULL for the full model. */
  constructor(scale: number, config: Partial<EdsrConfig> = {}) {
    const c = { ...Edsr.defaults, ...config };
    const rng = new Random(c.seed);
    super("Edsr", scale, c, rng, () =>
      Array.from({ length: c.nResblocks }, () => new ResBlock(c.nFeats, 3, rng, c.resScale)),
    );
    this.config = c;
  }
}
