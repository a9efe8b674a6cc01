/**
 * SwinIR (Liang et al. 2021), as in the official `network_swinir.py` (JingyunLiang/SwinIR), with
 * its state-dict keys so released checkpoints load: conv_first -> residual Swin transformer
 * blocks (shifted-window attention with a relative position bias, then a conv, with a skip) ->
 * norm -> conv_after_body (+ long skip) -> pixel-shuffle upsampler. Inputs are RGB in [0, 1]
 * (img_range 1), padded by reflection to a multiple of the window and cropped back, as there.
 *
 * Tokens are kept channels-last [B, H, W, C] (the official code flattens them to [B, H*W, C];
 * the arithmetic is the same), so every block knows the image size from its input's shape.
 */
import type { Tensor } from "../../autodiff/tensor.ts";
import { add, mul, sub } from "../../ops/binary.ts";
import { concat } from "../../ops/concat.ts";
import { tensor } from "../../ops/creation.ts";
import { gather } from "../../ops/gather.ts";
import { matmul } from "../../ops/matmul.ts";
import { pad2d } from "../../ops/pad.ts";
import { reshape } from "../../ops/reshape.ts";
import { slice } from "../../ops/slice.ts";
import { softmax } from "../../ops/softmax.ts";
import { transpose } from "../../ops/transpose.ts";
import { Random } from "../../random.ts";
import { GELU, LeakyReLU } from "../nn/activation.ts";
import { Conv2d } from "../nn/conv.ts";
import { Linear } from "../nn/linear.ts";
import { Module } from "../nn/module.ts";
import { LayerNorm } from "../nn/norm.ts";
import { PixelShuffle } from "../nn/reshaping.ts";
import { ModuleList, Sequential } from "../nn/sequential.ts";

/** SwinIR's hyper-parameters (the official argument names in camelCase). */
export interface SwinIrConfig {
  inChans: number;
  embedDim: number;
  depths: number[];
  numHeads: number[];
  windowSize: number;
  mlpRatio: number;
  /** Training patch size: sets the stored attention masks' shape (as in the official code). */
  imgSize: number;
  /** "pixelshuffle" (classical SR) or "pixelshuffledirect" (lightweight SR). */
  upsampler: "pixelshuffle" | "pixelshuffledirect";
  /** Features of the pixelshuffle upsampler. */
  numFeat: number;
  imgRange: number;
  seed: number;
}

/** The official lightweight x2/x3/x4 model (embed 60, 4 stages of 6 blocks, window 8). */
export const SWINIR_LIGHTWEIGHT: Omit<SwinIrConfig, "seed"> = {
  inChans: 3,
  embedDim: 60,
  depths: [6, 6, 6, 6],
  numHeads: [6, 6, 6, 6],
  windowSize: 8,
  mlpRatio: 2,
  imgSize: 64,
  upsampler: "pixelshuffledirect",
  numFeat: 64,
  imgRange: 1,
};

/** The official classical-SR model (embed 180, 6 stages of 6 blocks, window 8). */
export const SWINIR_CLASSICAL: Omit<SwinIrConfig, "seed"> = {
  ...SWINIR_LIGHTWEIGHT,
  embedDim: 180,
  depths: [6, 6, 6, 6, 6, 6],
  numHeads: [6, 6, 6, 6, 6, 6],
  imgSize: 48,
  upsampler: "pixelshuffle",
};

export const DIV2K_MEAN = [0.4488, 0.4371, 0.404];

/** For each pair of positions of a ws x ws window, the row of the relative position table. */
export function relativePositionIndex(ws: number): Int32Array {
  const n = ws * ws;
  const out = new Int32Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const dy = Math.floor(i / ws) - Math.floor(j / ws) + ws - 1;
      const dx = (i % ws) - (j % ws) + ws - 1;
      out[i * n + j] = dy * (2 * ws - 1) + dx;
    }
  return out;
}

/**
 * The shifted-window attention mask [nW, ws*ws, ws*ws] for an h x w image: 0 within a region,
 * -100 between the regions that the cyclic shift brought together (the official values).
 */
export function shiftedWindowMask(h: number, w: number, ws: number, shift: number): Float32Array {
  const label = new Int32Array(h * w);
  const band = (p: number, n: number) => (p < n - ws ? 0 : p < n - shift ? 1 : 2);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) label[y * w + x] = band(y, h) * 3 + band(x, w);
  const nh = h / ws;
  const nw = w / ws;
  const n = ws * ws;
  const out = new Float32Array(nh * nw * n * n);
  for (let wy = 0; wy < nh; wy++)
    for (let wx = 0; wx < nw; wx++) {
      const base = (wy * nw + wx) * n * n;
      const at = (i: number) => label[(wy * ws + Math.floor(i / ws)) * w + wx * ws + (i % ws)];
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) out[base + i * n + j] = at(i) === at(j) ? 0 : -100;
    }
  return out;
}

/** torch.roll of [B, H, W, C] by `shift` along axes 1 and 2. */
export function roll2d(x: Tensor, shift: number): Tensor {
  let y = x;
  for (const axis of [1, 2]) {
    const n = y.shape[axis];
    const s = ((shift % n) + n) % n;
    if (s === 0) continue;
    const begin = y.shape.map(() => 0);
    const head = y.shape.slice();
    head[axis] = n - s;
    const tailBegin = begin.slice();
    tailBegin[axis] = n - s;
    const tail = y.shape.slice();
    tail[axis] = s;
    y = concat([slice(y, tailBegin, tail), slice(y, begin, head)], axis);
  }
  return y;
}

/** [B, H, W, C] -> [B * nW, ws * ws, C], windows in row-major order. */
export function windowPartition(x: Tensor, ws: number): Tensor {
  const [b, h, w, c] = x.shape;
  const t = transpose(reshape(x, [b, h / ws, ws, w / ws, ws, c]), [0, 1, 3, 2, 4, 5]);
  return reshape(t, [b * (h / ws) * (w / ws), ws * ws, c]);
}

/** windowPartition's inverse. */
export function windowReverse(windows: Tensor, ws: number, h: number, w: number): Tensor {
  const c = windows.shape[2];
  const b = windows.shape[0] / ((h / ws) * (w / ws));
  const t = transpose(reshape(windows, [b, h / ws, w / ws, ws, ws, c]), [0, 1, 3, 2, 4, 5]);
  return reshape(t, [b, h, w, c]);
}

/** torch.nn.Linear on the last axis of a tensor of any rank (our Linear takes [N, in]). */
export class TokenLinear extends Linear {
  override forward(x: Tensor): Tensor {
    const lead = x.shape.slice(0, -1);
    const y = super.forward(reshape(x, [-1, x.shape[x.rank - 1]]));
    return reshape(y, [...lead, y.shape[1]]);
  }
}

/** Window multi-head self-attention with a relative position bias (official WindowAttention). */
export class WindowAttention extends Module {
  readonly table: Tensor;
  readonly qkv: TokenLinear;
  readonly proj: TokenLinear;
  private readonly index: number[];
  constructor(
    readonly dim: number,
    readonly windowSize: number,
    readonly heads: number,
    rng: Random,
    /** SwinIR stores the index per attention module; HAT keeps one copy on the network. */
    { indexBuffer = true }: { indexBuffer?: boolean } = {},
  ) {
    super();
    const rows = (2 * windowSize - 1) ** 2;
    // the official init is trunc_normal(std 0.02)
    this.table = this.param(
      "relative_position_bias_table",
      tensor(
        Float32Array.from({ length: rows * heads }, () => 0.02 * rng.normal()),
        [rows, heads],
      ),
    );
    const idx = relativePositionIndex(windowSize);
    this.index = [...idx];
    if (indexBuffer)
      this.buffer(
        "relative_position_index",
        tensor(Float32Array.from(idx), [windowSize ** 2, windowSize ** 2]),
      );
    this.qkv = this.child("qkv", new TokenLinear(dim, 3 * dim, { seed: rng }));
    this.proj = this.child("proj", new TokenLinear(dim, dim, { seed: rng }));
  }

  /** Bias [heads, N, N] from the table. */
  private bias(): Tensor {
    const n = this.windowSize ** 2;
    return transpose(reshape(gather(this.table, this.index, 0), [n, n, this.heads]), [2, 0, 1]);
  }

  /** Windows [B_, N, C] (and a mask [nW, N, N] for shifted windows) -> [B_, N, C]. */
  attend(x: Tensor, mask: Tensor | null): Tensor {
    const [bw, n, c] = x.shape;
    const h = this.heads;
    const d = c / h;
    const qkv = transpose(reshape(this.qkv.call(x), [bw, n, 3, h, d]), [2, 0, 3, 1, 4]);
    const part = (i: number) =>
      reshape(slice(qkv, [i, 0, 0, 0, 0], [1, bw, h, n, d]), [bw, h, n, d]);
    let attn = add(matmul(mul(part(0), d ** -0.5), part(1), false, true), this.bias());
    if (mask) {
      const nw = mask.shape[0];
      attn = add(reshape(attn, [bw / nw, nw, h, n, n]), reshape(mask, [1, nw, 1, n, n]));
      attn = reshape(attn, [bw, h, n, n]);
    }
    const out = matmul(softmax(attn, -1), part(2));
    return this.proj.call(reshape(transpose(out, [0, 2, 1, 3]), [bw, n, c]));
  }

  forward(x: Tensor): Tensor {
    return this.attend(x, null);
  }
}

/** The MLP of a transformer block: fc1 -> GELU -> fc2. */
export class Mlp extends Module {
  readonly fc1: TokenLinear;
  readonly fc2: TokenLinear;
  constructor(dim: number, hidden: number, rng: Random) {
    super();
    this.fc1 = this.child("fc1", new TokenLinear(dim, hidden, { seed: rng }));
    this.child("act", new GELU());
    this.fc2 = this.child("fc2", new TokenLinear(hidden, dim, { seed: rng }));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.call(this.module("act").call(this.fc1.call(x)));
  }
}

/** One Swin transformer block on channels-last tokens [B, H, W, C]. */
export class SwinTransformerBlock extends Module {
  readonly windowSize: number;
  readonly shift: number;
  readonly norm1: LayerNorm;
  readonly attn: WindowAttention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  private readonly masks = new Map<string, Tensor>();
  constructor(
    dim: number,
    resolution: number,
    heads: number,
    ws: number,
    shift: number,
    mlpRatio: number,
    rng: Random,
  ) {
    super();
    // the official rule: a window as large as the training patch is not shifted
    if (resolution <= ws) {
      ws = resolution;
      shift = 0;
    }
    this.windowSize = ws;
    this.shift = shift;
    this.norm1 = this.child("norm1", new LayerNorm([dim]));
    this.attn = this.child("attn", new WindowAttention(dim, ws, heads, rng));
    this.norm2 = this.child("norm2", new LayerNorm([dim]));
    this.mlp = this.child("mlp", new Mlp(dim, Math.floor(dim * mlpRatio), rng));
    if (shift > 0) {
      const nW = (resolution / ws) ** 2;
      this.buffer(
        "attn_mask",
        tensor(shiftedWindowMask(resolution, resolution, ws, shift), [nW, ws * ws, ws * ws]),
      );
    }
  }

  private mask(h: number, w: number): Tensor {
    const key = `${h}x${w}`;
    let m = this.masks.get(key);
    if (!m) {
      const n = this.windowSize ** 2;
      const nW = (h / this.windowSize) * (w / this.windowSize);
      m = tensor(shiftedWindowMask(h, w, this.windowSize, this.shift), [nW, n, n]);
      m.kept = true;
      this.masks.set(key, m);
    }
    return m;
  }

  forward(x: Tensor): Tensor {
    const [, h, w] = x.shape;
    const ws = this.windowSize;
    if (h % ws || w % ws)
      throw new Error(
        `SwinTransformerBlock: ${h}x${w} tokens are not a multiple of the window ${ws}`,
      );
    let y = this.norm1.call(x);
    if (this.shift) y = roll2d(y, -this.shift);
    const windows = this.attn.attend(windowPartition(y, ws), this.shift ? this.mask(h, w) : null);
    y = windowReverse(windows, ws, h, w);
    if (this.shift) y = roll2d(y, this.shift);
    const z = add(x, y);
    return add(z, this.mlp.call(this.norm2.call(z)));
  }
}

/** [B, H, W, C] <-> [B, C, H, W]. */
export const toChannelsFirst = (x: Tensor) => transpose(x, [0, 3, 1, 2]);
export const toChannelsLast = (x: Tensor) => transpose(x, [0, 2, 3, 1]);

/** The official BasicLayer: a run of Swin blocks with alternating shifts. */
class BasicLayer extends Module {
  readonly blocks: ModuleList<SwinTransformerBlock>;
  constructor(
    dim: number,
    resolution: number,
    depth: number,
    heads: number,
    ws: number,
    mlpRatio: number,
    rng: Random,
  ) {
    super();
    this.blocks = this.child(
      "blocks",
      new ModuleList(
        Array.from(
          { length: depth },
          (_, i) =>
            new SwinTransformerBlock(dim, resolution, heads, ws, i % 2 ? ws / 2 : 0, mlpRatio, rng),
        ),
      ),
    );
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const b of this.blocks.items) y = b.call(y);
    return y;
  }
}

/**
 * A stage of SwinIR (RSTB) and HAT (RHAG): `residual_group` (blocks on channels-last tokens), a
 * 3x3 conv, plus the input.
 */
export class ResidualConvStage extends Module {
  constructor(dim: number, group: Module, rng: Random) {
    super();
    this.child("residual_group", group);
    this.child("conv", new Conv2d(dim, dim, 3, { padding: 1, seed: rng }));
  }
  forward(x: Tensor): Tensor {
    const y = this.module("conv").call(toChannelsFirst(this.module("residual_group").call(x)));
    return add(toChannelsLast(y), x);
  }
}

/** Residual Swin transformer block: a BasicLayer, then the stage's conv and skip. */
export class Rstb extends ResidualConvStage {
  constructor(
    dim: number,
    resolution: number,
    depth: number,
    heads: number,
    ws: number,
    mlpRatio: number,
    rng: Random,
  ) {
    super(dim, new BasicLayer(dim, resolution, depth, heads, ws, mlpRatio, rng), rng);
  }
}

/**
 * What SwinIR and HAT share around their stages, with the official keys: the mean shift,
 * conv_first and patch_embed.norm before them; norm and conv_after_body (with its skip) after; the
 * pixel-shuffle reconstruction (conv_before_upsample, upsample, conv_last). Subclasses call the
 * `add*` steps in the official order, which is the order the seeded initialisation draws in.
 */
export abstract class SwinStyleSr extends Module {
  abstract readonly layers: ModuleList<Module>;
  protected mean!: Tensor;

  /** The per-channel mean (DIV2K's for RGB), conv_first and patch_embed.norm. */
  protected addHead(inChans: number, dim: number, rng: Random): void {
    this.mean = tensor(inChans === 3 ? DIV2K_MEAN : [0], [1, inChans, 1, 1]);
    this.mean.kept = true;
    this.child("conv_first", new Conv2d(inChans, dim, 3, { padding: 1, seed: rng }));
    const patch = new Module_("patch_embed");
    patch.add("norm", new LayerNorm([dim]));
    this.child("patch_embed", patch);
  }

  /** norm after the last stage and conv_after_body. */
  protected addBodyEnd(dim: number, rng: Random): void {
    this.child("norm", new LayerNorm([dim]));
    this.child("conv_after_body", new Conv2d(dim, dim, 3, { padding: 1, seed: rng }));
  }

  /** conv_before_upsample (conv + LeakyReLU), the pixel-shuffle upsample and conv_last. */
  protected addPixelShuffleTail(
    dim: number,
    numFeat: number,
    inChans: number,
    scale: number,
    rng: Random,
  ): void {
    this.child(
      "conv_before_upsample",
      new Sequential(new Conv2d(dim, numFeat, 3, { padding: 1, seed: rng }), new LeakyReLU(0.01)),
    );
    this.child("upsample", pixelShuffleUpsampler(scale, numFeat, rng));
    this.child("conv_last", new Conv2d(numFeat, inChans, 3, { padding: 1, seed: rng }));
  }

  /** [B, C, H, W] features -> the body's output features (before conv_after_body). */
  forwardFeatures(x: Tensor): Tensor {
    return stageFeatures(this, this.layers, x);
  }

  /** conv_first, the stages and conv_after_body, with the skip over them. */
  protected body(y: Tensor): Tensor {
    const first = this.module("conv_first").call(y);
    return add(this.module("conv_after_body").call(this.forwardFeatures(first)), first);
  }

  /** The pixel-shuffle reconstruction of the body's features. */
  protected pixelShuffleTail(body: Tensor): Tensor {
    const out = this.module("conv_before_upsample").call(body);
    return this.module("conv_last").call(this.module("upsample").call(out));
  }
}

/** SwinIR with the official state-dict keys; RGB in [0, 1] -> [0, 1] at `scale`. */
export class SwinIr extends SwinStyleSr {
  static readonly defaults: SwinIrConfig = { ...SWINIR_LIGHTWEIGHT, seed: 0 };
  readonly config: SwinIrConfig;
  readonly layers: ModuleList<Rstb>;

  constructor(
    readonly scale: number,
    config: Partial<SwinIrConfig> = {},
  ) {
    super();
    const c = { ...SwinIr.defaults, ...config };
    checkStages("SwinIr", c);
    this.config = c;
    const rng = new Random(c.seed);
    const dim = c.embedDim;
    this.addHead(c.inChans, dim, rng);
    this.layers = this.child(
      "layers",
      new ModuleList(
        c.depths.map(
          (d, i) => new Rstb(dim, c.imgSize, d, c.numHeads[i], c.windowSize, c.mlpRatio, rng),
        ),
      ),
    );
    this.addBodyEnd(dim, rng);
    if (c.upsampler === "pixelshuffle") {
      this.addPixelShuffleTail(dim, c.numFeat, c.inChans, scale, rng);
    } else {
      this.child(
        "upsample",
        new Sequential(
          new Conv2d(dim, scale * scale * c.inChans, 3, { padding: 1, seed: rng }),
          new PixelShuffle(scale),
        ),
      );
    }
  }

  forward(x: Tensor): Tensor {
    const c = this.config;
    return windowPaddedForward(x, c.windowSize, this.scale, this.mean, c.imgRange, (y) => {
      const body = this.body(y);
      return c.upsampler === "pixelshuffle"
        ? this.pixelShuffleTail(body)
        : this.module("upsample").call(body);
    });
  }
}

/** What SwinIR and HAT ask of their stages: one head count per depth, heads dividing the width, an even window. */
export function checkStages(
  name: string,
  c: {
    depths: readonly number[];
    numHeads: readonly number[];
    embedDim: number;
    windowSize: number;
  },
): void {
  if (c.depths.length !== c.numHeads.length || c.depths.length === 0)
    throw new Error(
      `${name}: depths [${c.depths}] and numHeads [${c.numHeads}] must have the same length >= 1`,
    );
  if (c.numHeads.some((h) => c.embedDim % h))
    throw new Error(
      `${name}: embedDim ${c.embedDim} must be divisible by every numHeads [${c.numHeads}]`,
    );
  if (c.windowSize % 2) throw new Error(`${name}: windowSize must be even, got ${c.windowSize}`);
}

/**
 * The body of SwinIR and HAT on [B, C, H, W] features: patch_embed.norm on the tokens, every
 * stage, then `norm`, back to channels-first.
 */
export function stageFeatures(model: Module, stages: ModuleList<Module>, x: Tensor): Tensor {
  let t = model.module("patch_embed.norm").call(toChannelsLast(x));
  for (const stage of stages.items) t = stage.call(t);
  return toChannelsFirst(model.module("norm").call(t));
}

/**
 * The image side of SwinIR and HAT: x reflect-padded (bottom, right) to whole windows and
 * normalised to (x - mean) * imgRange, `net` run on it, the normalisation undone and the output
 * cropped to `scale` times the input's size.
 */
export function windowPaddedForward(
  x: Tensor,
  ws: number,
  scale: number,
  mean: Tensor,
  imgRange: number,
  net: (y: Tensor) => Tensor,
): Tensor {
  const [, , h, w] = x.shape;
  const ph = (ws - (h % ws)) % ws;
  const pw = (ws - (w % ws)) % ws;
  const y = ph || pw ? pad2d(x, [0, ph, 0, pw], "reflect") : x;
  const out = add(mul(net(mul(sub(y, mean), imgRange)), 1 / imgRange), mean);
  return ph || pw
    ? slice(out, [0, 0, 0, 0], [out.shape[0], out.shape[1], h * scale, w * scale])
    : out;
}

/** A module that only holds named children (the official PatchEmbed keeps just its norm). */
export class Module_ extends Module {
  constructor(readonly label: string) {
    super();
  }
  add(name: string, m: Module): void {
    this.child(name, m);
  }
  forward(): Tensor {
    throw new Error(`${this.label} is a container; its children are called directly`);
  }
}

/** The official Upsample: (conv to 4 F + PixelShuffle(2)) per factor 2, or conv to 9 F + PS(3). */
export function pixelShuffleUpsampler(scale: number, f: number, rng: Random): Sequential {
  const layers: Module[] = [];
  if (Number.isInteger(Math.log2(scale))) {
    for (let i = 0; i < Math.log2(scale); i++)
      layers.push(new Conv2d(f, 4 * f, 3, { padding: 1, seed: rng }), new PixelShuffle(2));
  } else if (scale === 3) {
    layers.push(new Conv2d(f, 9 * f, 3, { padding: 1, seed: rng }), new PixelShuffle(3));
  } else {
    throw new Error(`pixel-shuffle upsampler: scale ${scale} is not supported (2^n or 3)`);
  }
  return new Sequential(...layers);
}
