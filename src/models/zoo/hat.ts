/**
 * HAT, the Hybrid Attention Transformer (Chen et al. 2023, "Activating More Pixels in Image
 * Super-Resolution Transformer"), as in the official `hat_arch.py` (XPixelGroup/HAT), with its
 * state-dict keys so released checkpoints load. It is SwinIR plus two things:
 * - each hybrid attention block (HAB) adds a channel-attention conv branch (CAB: conv -> GELU ->
 *   conv -> squeeze-excite gate), scaled by `convScale`, beside the shifted-window attention;
 * - each residual group ends in an overlapping cross-attention block (OCAB): queries from a
 *   window, keys and values from a larger window around it (zero-padded at the border).
 * The relative position indices live once on the network (`relative_position_index_SA`/`_OCA`)
 * and the shifted-window mask is computed for the input size, as there. Only the classical
 * "pixelshuffle" upsampler exists in the official forward; inputs are RGB in [0, 1], padded by
 * reflection to a multiple of the window and cropped back (the official test-time wrapper).
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul } from "../../ops/binary.ts";
import { tensor } from "../../ops/creation.ts";
import { gather } from "../../ops/gather.ts";
import { matmul } from "../../ops/matmul.ts";
import { pad2d } from "../../ops/pad.ts";
import { reshape } from "../../ops/reshape.ts";
import { slice } from "../../ops/slice.ts";
import { softmax } from "../../ops/softmax.ts";
import { transpose } from "../../ops/transpose.ts";
import { Random } from "../../random.ts";
import { GELU, ReLU, Sigmoid } from "../nn/activation.ts";
import { Conv2d } from "../nn/conv.ts";
import { Module } from "../nn/module.ts";
import { LayerNorm } from "../nn/norm.ts";
import { AdaptiveAvgPool2d } from "../nn/pooling.ts";
import { ModuleList, Sequential } from "../nn/sequential.ts";
import {
  checkStages,
  Mlp,
  ResidualConvStage,
  relativePositionIndex,
  roll2d,
  SwinStyleSr,
  shiftedWindowMask,
  TokenLinear,
  toChannelsFirst,
  toChannelsLast,
  WindowAttention,
  windowPaddedForward,
  windowPartition,
  windowReverse,
} from "./swinir.ts";

/** HAT's hyper-parameters (the official argument names in camelCase). */
export interface HatConfig {
  inChans: number;
  embedDim: number;
  depths: number[];
  numHeads: number[];
  windowSize: number;
  /** CAB's first conv keeps embedDim / compressRatio channels. */
  compressRatio: number;
  /** The channel-attention bottleneck keeps embedDim / squeezeFactor channels. */
  squeezeFactor: number;
  /** Weight of the CAB branch in each HAB. */
  convScale: number;
  /** OCAB's key/value window is windowSize * (1 + overlapRatio). */
  overlapRatio: number;
  mlpRatio: number;
  numFeat: number;
  imgRange: number;
  seed: number;
}

/** The official HAT-S x2..x4 model (embed 144, 6 groups of 6 blocks, window 16, compress 24). */
export const HAT_S: Omit<HatConfig, "seed"> = {
  inChans: 3,
  embedDim: 144,
  depths: [6, 6, 6, 6, 6, 6],
  numHeads: [6, 6, 6, 6, 6, 6],
  windowSize: 16,
  compressRatio: 24,
  squeezeFactor: 24,
  convScale: 0.01,
  overlapRatio: 0.5,
  mlpRatio: 2,
  numFeat: 64,
  imgRange: 1,
};

/** The official HAT x2..x4 model (embed 180, 6 groups of 6 blocks, window 16). */
export const HAT_BASE: Omit<HatConfig, "seed"> = {
  ...HAT_S,
  embedDim: 180,
  compressRatio: 3,
  squeezeFactor: 30,
};

/**
 * OCAB's relative position index [ws*ws, wse*wse] into a (ws + wse - 1)^2-row table, with the
 * official offsets, which leave some entries negative: PyTorch's indexing counts those from the
 * end of the table (HatContext keeps the wrapped copy).
 */
export function overlapRelativePositionIndex(ws: number, wse: number): Int32Array {
  const side = ws + wse - 1;
  const out = new Int32Array(ws * ws * wse * wse);
  for (let i = 0; i < ws * ws; i++)
    for (let j = 0; j < wse * wse; j++) {
      const dy = Math.floor(j / wse) - Math.floor(i / ws) + ws - wse + 1;
      const dx = (j % wse) - (i % ws) + ws - wse + 1;
      out[i * wse * wse + j] = dy * side + dx;
    }
  return out;
}

/** RCAN-style channel attention with HAT's keys (`attention.1`, `attention.3`). */
class HatChannelAttention extends Module {
  constructor(channels: number, squeeze: number, rng: Random) {
    super();
    const mid = Math.floor(channels / squeeze);
    if (mid < 1)
      throw new Error(`Hat: embedDim ${channels} / squeezeFactor ${squeeze} leaves no channel`);
    this.child(
      "attention",
      new Sequential(
        new AdaptiveAvgPool2d(1),
        new Conv2d(channels, mid, 1, { seed: rng }),
        new ReLU(),
        new Conv2d(mid, channels, 1, { seed: rng }),
        new Sigmoid(),
      ),
    );
  }
  forward(x: Tensor): Tensor {
    return mul(x, this.module("attention").call(x));
  }
}

/** The channel attention block: conv -> GELU -> conv -> channel attention (key `cab`). */
class Cab extends Module {
  constructor(dim: number, compress: number, squeeze: number, rng: Random) {
    super();
    const mid = Math.floor(dim / compress);
    if (mid < 1)
      throw new Error(`Hat: embedDim ${dim} / compressRatio ${compress} leaves no channel`);
    this.child(
      "cab",
      new Sequential(
        new Conv2d(dim, mid, 3, { padding: 1, seed: rng }),
        new GELU(),
        new Conv2d(mid, dim, 3, { padding: 1, seed: rng }),
        new HatChannelAttention(dim, squeeze, rng),
      ),
    );
  }
  forward(x: Tensor): Tensor {
    return this.module("cab").call(x);
  }
}

/** What every block of a HAT network shares: the window, the indices and the per-size masks. */
class HatContext {
  private readonly masks = new Map<string, Tensor>();
  constructor(
    readonly windowSize: number,
    readonly overlapWindow: number,
    readonly ocaIndex: number[],
  ) {}
  /** The shifted-window mask for an h x w token grid (shift windowSize / 2). */
  mask(h: number, w: number): Tensor {
    const key = `${h}x${w}`;
    let m = this.masks.get(key);
    if (!m) {
      const ws = this.windowSize;
      const nW = (h / ws) * (w / ws);
      m = tensor(shiftedWindowMask(h, w, ws, ws / 2), [nW, ws * ws, ws * ws]);
      m.kept = true;
      this.masks.set(key, m);
    }
    return m;
  }
}

/** Hybrid attention block on channels-last tokens [B, H, W, C]. */
class Hab extends Module {
  private readonly convScale: number;
  constructor(
    dim: number,
    heads: number,
    readonly shift: number,
    c: HatConfig,
    private readonly ctx: HatContext,
    rng: Random,
  ) {
    super();
    this.child("norm1", new LayerNorm([dim]));
    this.child("attn", new WindowAttention(dim, c.windowSize, heads, rng, { indexBuffer: false }));
    this.child("conv_block", new Cab(dim, c.compressRatio, c.squeezeFactor, rng));
    this.child("norm2", new LayerNorm([dim]));
    this.child("mlp", new Mlp(dim, Math.floor(dim * c.mlpRatio), rng));
    this.convScale = c.convScale;
  }

  forward(x: Tensor): Tensor {
    const [, h, w] = x.shape;
    const ws = this.ctx.windowSize;
    const y = this.module("norm1").call(x);
    const conv = toChannelsLast(this.module("conv_block").call(toChannelsFirst(y)));
    const shifted = this.shift ? roll2d(y, -this.shift) : y;
    const attn = this.module("attn") as WindowAttention;
    const windows = attn.attend(
      windowPartition(shifted, ws),
      this.shift ? this.ctx.mask(h, w) : null,
    );
    let a = windowReverse(windows, ws, h, w);
    if (this.shift) a = roll2d(a, this.shift);
    const z = add(add(x, a), mul(conv, this.convScale));
    return add(z, this.module("mlp").call(this.module("norm2").call(z)));
  }
}

/**
 * Overlapping cross-attention: each ws x ws window of queries attends to the wse x wse window of
 * keys/values centred on it (official OCAB; its nn.Unfold is a gather over the zero-padded grid).
 */
class Ocab extends Module {
  readonly table: Tensor;
  private readonly gatherCache = new Map<string, number[]>();
  constructor(
    readonly dim: number,
    readonly heads: number,
    c: HatConfig,
    private readonly ctx: HatContext,
    rng: Random,
  ) {
    super();
    const ws = ctx.windowSize;
    const wse = ctx.overlapWindow;
    this.child("norm1", new LayerNorm([dim]));
    this.child("qkv", new TokenLinear(dim, 3 * dim, { seed: rng }));
    const rows = (ws + wse - 1) ** 2;
    this.table = this.param(
      "relative_position_bias_table",
      tensor(
        Float32Array.from({ length: rows * heads }, () => 0.02 * rng.normal()),
        [rows, heads],
      ),
    );
    this.child("proj", new TokenLinear(dim, dim, { seed: rng }));
    this.child("norm2", new LayerNorm([dim]));
    this.child("mlp", new Mlp(dim, Math.floor(dim * c.mlpRatio), rng));
  }

  /** Flat indices into the padded (h + 2p) x (w + 2p) grid, window by window, row-major. */
  private unfoldIndex(h: number, w: number): number[] {
    const key = `${h}x${w}`;
    let idx = this.gatherCache.get(key);
    if (!idx) {
      const ws = this.ctx.windowSize;
      const wse = this.ctx.overlapWindow;
      const wp = w + (wse - ws);
      idx = [];
      for (let wy = 0; wy < h / ws; wy++)
        for (let wx = 0; wx < w / ws; wx++)
          for (let i = 0; i < wse; i++)
            for (let j = 0; j < wse; j++) idx.push((wy * ws + i) * wp + wx * ws + j);
      this.gatherCache.set(key, idx);
    }
    return idx;
  }

  forward(x: Tensor): Tensor {
    const [b, h, w, c] = x.shape;
    const ws = this.ctx.windowSize;
    const wse = this.ctx.overlapWindow;
    const heads = this.heads;
    const d = c / heads;
    const p = (wse - ws) / 2;
    const qkv = this.module("qkv").call(this.module("norm1").call(x)); // [B, H, W, 3C]
    const q = slice(qkv, [0, 0, 0, 0], [b, h, w, c]);
    const kv = toChannelsFirst(slice(qkv, [0, 0, 0, c], [b, h, w, 2 * c]));
    const padded = toChannelsLast(pad2d(kv, [p, p, p, p]));
    const nW = (h / ws) * (w / ws);
    const flat = reshape(padded, [b, (h + 2 * p) * (w + 2 * p), 2 * c]);
    const kvWin = reshape(gather(flat, this.unfoldIndex(h, w), 1), [b * nW, wse * wse, 2 * c]);
    const heads4 = (t: Tensor, n: number) =>
      transpose(reshape(t, [b * nW, n, heads, d]), [0, 2, 1, 3]);
    const qh = heads4(windowPartition(q, ws), ws * ws);
    const kh = heads4(slice(kvWin, [0, 0, 0], [b * nW, wse * wse, c]), wse * wse);
    const vh = heads4(slice(kvWin, [0, 0, c], [b * nW, wse * wse, c]), wse * wse);
    const bias = transpose(
      reshape(gather(this.table, this.ctx.ocaIndex, 0), [ws * ws, wse * wse, heads]),
      [2, 0, 1],
    );
    const attn = add(matmul(mul(qh, d ** -0.5), kh, false, true), bias);
    const out = reshape(transpose(matmul(softmax(attn, -1), vh), [0, 2, 1, 3]), [
      b * nW,
      ws * ws,
      c,
    ]);
    const y = add(this.module("proj").call(windowReverse(out, ws, h, w)), x);
    return add(y, this.module("mlp").call(this.module("norm2").call(y)));
  }
}

/** The official AttenBlocks: HABs with alternating shifts, then one OCAB. */
class AttenBlocks extends Module {
  readonly blocks: ModuleList<Hab>;
  readonly overlapAttn: Ocab;
  constructor(
    dim: number,
    depth: number,
    heads: number,
    c: HatConfig,
    ctx: HatContext,
    rng: Random,
  ) {
    super();
    const ws = c.windowSize;
    this.blocks = this.child(
      "blocks",
      new ModuleList(
        Array.from(
          { length: depth },
          (_, i) => new Hab(dim, heads, i % 2 ? ws / 2 : 0, c, ctx, rng),
        ),
      ),
    );
    this.overlapAttn = this.child("overlap_attn", new Ocab(dim, heads, c, ctx, rng));
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const blk of this.blocks.items) y = blk.call(y);
    return this.overlapAttn.call(y);
  }
}

/** Residual hybrid attention group: AttenBlocks, then the stage's conv and skip. */
class Rhag extends ResidualConvStage {
  constructor(
    dim: number,
    depth: number,
    heads: number,
    c: HatConfig,
    ctx: HatContext,
    rng: Random,
  ) {
    super(dim, new AttenBlocks(dim, depth, heads, c, ctx, rng), rng);
  }
}

/** HAT with the official state-dict keys; RGB in [0, 1] -> [0, 1] at `scale`. */
export class Hat extends SwinStyleSr {
  static readonly defaults: HatConfig = { ...HAT_S, seed: 0 };
  readonly config: HatConfig;
  readonly layers: ModuleList<Rhag>;

  constructor(
    readonly scale: number,
    config: Partial<HatConfig> = {},
  ) {
    super();
    const c = { ...Hat.defaults, ...config };
    checkStages("Hat", c);
    const ws = c.windowSize;
    const wse = ws + Math.floor(c.overlapRatio * ws);
    if ((wse - ws) % 2)
      throw new Error(
        `Hat: windowSize * overlapRatio must be an even integer (the overlap is split over both sides), got ${ws} * ${c.overlapRatio}`,
      );
    this.config = c;
    const rng = new Random(c.seed);
    const dim = c.embedDim;
    const ocaIndex = overlapRelativePositionIndex(ws, wse);
    const rows = (ws + wse - 1) ** 2;
    const ctx = new HatContext(
      ws,
      wse,
      Array.from(ocaIndex, (k) => (k < 0 ? k + rows : k)),
    );
    this.buffer(
      "relative_position_index_SA",
      tensor(Float32Array.from(relativePositionIndex(ws)), [ws * ws, ws * ws]),
    );
    this.buffer(
      "relative_position_index_OCA",
      tensor(Float32Array.from(ocaIndex), [ws * ws, wse * wse]),
    );
    this.addHead(c.inChans, dim, rng);
    this.layers = this.child(
      "layers",
      new ModuleList(c.depths.map((d, i) => new Rhag(dim, d, c.numHeads[i], c, ctx, rng))),
    );
    this.addBodyEnd(dim, rng);
    this.addPixelShuffleTail(dim, c.numFeat, c.inChans, scale, rng);
  }

  forward(x: Tensor): Tensor {
    const c = this.config;
    return windowPaddedForward(x, c.windowSize, this.scale, this.mean, c.imgRange, (y) =>
      this.pixelShuffleTail(this.body(y)),
    );
  }
}
