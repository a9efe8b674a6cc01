/**
 * Keras layer classes of a tfjs layers-model, each built as a salient op on NCHW tensors (the
 * graph converts at its edges). Weighted layers become nn modules named after the Keras layer;
 * their kernels are converted to PyTorch layouts when loaded.
 */
import type { Tensor } from "../../../autodiff/tensor.ts";
import { add, greater, maximum, minimum, mul, sub } from "../../../ops/binary.ts";
import { concat } from "../../../ops/concat.ts";
import { conv2d } from "../../../ops/conv.ts";
import { batchNorm } from "../../../ops/norm.ts";
import { pixelShuffle } from "../../../ops/pixel-shuffle.ts";
import { avgPool2d, maxPool2d } from "../../../ops/pool.ts";
import { mean } from "../../../ops/reduce.ts";
import { flatten, reshape } from "../../../ops/reshape.ts";
import { resize } from "../../../ops/resize.ts";
import { where } from "../../../ops/select.ts";
import { softmax } from "../../../ops/softmax.ts";
import { transpose } from "../../../ops/transpose.ts";
import { clamp, exp, gelu, leakyRelu, relu, sigmoid, softplus, tanh } from "../../../ops/unary.ts";
import { Conv2d } from "../../nn/conv.ts";
import { Linear } from "../../nn/linear.ts";
import type { Module } from "../../nn/module.ts";
import { BatchNorm2d } from "../../nn/norm.ts";
import { convKernelToOihw, denseKernelToOutIn } from "./keras-kernels.ts";
import type { NamedWeight } from "./weights.ts";

// Keras configs are loosely typed JSON.
// biome-ignore lint/suspicious/noExplicitAny: JSON config
export type KerasConfig = Record<string, any>;

export interface BuiltLayer {
  /** Holds the layer's weights (registered under the layer name). */
  module?: Module;
  /** State-dict entries for `module`, keyed relative to it. */
  state?: Map<string, NamedWeight>;
  apply(inputs: Tensor[]): Tensor;
  /**
   * Layers whose activation is fused in (Conv2D, Dense with activation != linear): the output
   * before the activation, and the activation; apply(xs) = activate(apply(xs)) here.
   */
  preActivation?: { apply(inputs: Tensor[]): Tensor; activate(y: Tensor): Tensor };
}

export interface LayerContext {
  name: string;
  className: string;
  config: KerasConfig;
  /** The layer's weight by its Keras name ("kernel", "bias", ...); throws if absent. */
  weight(kind: string): NamedWeight;
  hasWeight(kind: string): boolean;
}

const pair = (v: unknown, what: string, ctx: LayerContext): [number, number] => {
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v) && v.length === 2) return [v[0], v[1]];
  throw new Error(
    `tfjs layer "${ctx.name}" (${ctx.className}): ${what} ${JSON.stringify(v)} is not a pair`,
  );
};

function one(inputs: Tensor[], ctx: LayerContext): Tensor {
  if (inputs.length !== 1) {
    throw new Error(
      `tfjs layer "${ctx.name}" (${ctx.className}) takes one input, got ${inputs.length}`,
    );
  }
  return inputs[0];
}

function channelsLast(ctx: LayerContext): void {
  const f = ctx.config.data_format;
  if (f !== undefined && f !== "channels_last") {
    throw new Error(
      `tfjs layer "${ctx.name}" (${ctx.className}): data_format "${f}" is not supported (only channels_last)`,
    );
  }
}

/** A Keras axis (channels-last) as the NCHW axis of a rank-r tensor. */
function nchwAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (rank < 3 || a === 0) return a;
  return a === rank - 1 ? 1 : a + 1;
}

const ACTIVATIONS: Record<string, (x: Tensor) => Tensor> = {
  linear: (x) => x,
  relu,
  relu6: (x) => clamp(x, 0, 6),
  sigmoid,
  tanh,
  softplus,
  gelu,
  swish: (x) => mul(x, sigmoid(x)),
  silu: (x) => mul(x, sigmoid(x)),
  elu: (x) => where(greater(x, 0), x, sub(exp(minimum(x, 0)), 1)),
  softmax: (x) => softmax(x, x.rank >= 3 ? 1 : -1),
};

export function activation(name: unknown, ctx: LayerContext): (x: Tensor) => Tensor {
  const key = typeof name === "string" ? name : (name as KerasConfig | undefined)?.class_name;
  const fn = ACTIVATIONS[String(key ?? "linear").toLowerCase()];
  if (!fn) {
    throw new Error(
      `tfjs layer "${ctx.name}" (${ctx.className}): activation "${key}" is not supported (supported: ${Object.keys(ACTIVATIONS).join(", ")})`,
    );
  }
  return fn;
}

function conv2dLayer(ctx: LayerContext): BuiltLayer {
  channelsLast(ctx);
  const c = ctx.config;
  const kernel = convKernelToOihw(ctx.weight("kernel"), `${ctx.name}/kernel`);
  const [out, inPerGroup, kh, kw] = kernel.shape;
  const groups = c.groups ?? 1;
  if (c.filters !== undefined && c.filters !== out) {
    throw new Error(
      `tfjs layer "${ctx.name}": kernel has ${out} filters, config says ${c.filters}`,
    );
  }
  const padding = c.padding ?? "valid";
  if (padding !== "same" && padding !== "valid") {
    throw new Error(
      `tfjs layer "${ctx.name}" (Conv2D): padding "${padding}" is not supported (same, valid)`,
    );
  }
  const act = c.activation ?? "linear";
  const fuseRelu = act === "relu";
  const actFn = activation(act, ctx);
  const post = fuseRelu ? null : actFn;
  const useBias = c.use_bias ?? true;
  const m = new Conv2d(inPerGroup * groups, out, [kh, kw], {
    stride: pair(c.strides ?? 1, "strides", ctx),
    dilation: pair(c.dilation_rate ?? 1, "dilation_rate", ctx),
    padding,
    groups,
    bias: useBias,
    relu: fuseRelu,
  });
  const state = new Map([["weight", kernel]]);
  if (useBias) state.set("bias", ctx.weight("bias"));
  // The unfused conv, for a tap on the output before the activation.
  const linearPart = (xs: Tensor[]) =>
    conv2d(one(xs, ctx), m.weight, {
      bias: m.bias,
      stride: m.config.stride,
      padding: m.config.padding,
      dilation: m.config.dilation,
      groups: m.config.groups,
    });
  return {
    module: m,
    state,
    apply: (xs) => {
      const y = m.forward(one(xs, ctx));
      return post ? post(y) : y;
    },
    preActivation:
      actFn === ACTIVATIONS.linear ? undefined : { apply: linearPart, activate: actFn },
  };
}

function denseLayer(ctx: LayerContext): BuiltLayer {
  const c = ctx.config;
  const w = denseKernelToOutIn(ctx.weight("kernel"), `${ctx.name}/kernel`);
  const [out, inF] = w.shape;
  const useBias = c.use_bias ?? true;
  const post = activation(c.activation ?? "linear", ctx);
  const m = new Linear(inF, out, { bias: useBias });
  const state = new Map([["weight", w]]);
  if (useBias) state.set("bias", ctx.weight("bias"));
  // On [N, C, H, W] a Keras Dense acts on the channel axis: a 1x1 conv with the same weights.
  const apply = (x: Tensor) => {
    if (x.rank === 2) return m.forward(x);
    if (x.rank !== 4) {
      throw new Error(`tfjs layer "${ctx.name}" (Dense): input rank ${x.rank} is not supported`);
    }
    const nhwc = transpose(x, [0, 2, 3, 1]);
    const [n, h, wd, ch] = nhwc.shape;
    const y = m.forward(reshape(nhwc, [n * h * wd, ch]));
    return transpose(reshape(y, [n, h, wd, out]), [0, 3, 1, 2]);
  };
  return {
    module: m,
    state,
    apply: (xs) => post(apply(one(xs, ctx))),
    preActivation:
      post === ACTIVATIONS.linear
        ? undefined
        : { apply: (xs) => apply(one(xs, ctx)), activate: post },
  };
}

function batchNormLayer(ctx: LayerContext): BuiltLayer {
  const c = ctx.config;
  const axis = Array.isArray(c.axis) ? c.axis[0] : (c.axis ?? -1);
  if (axis !== -1 && axis !== 3) {
    throw new Error(
      `tfjs layer "${ctx.name}" (BatchNormalization): axis ${axis} is not supported (channels only)`,
    );
  }
  const mm = ctx.weight("moving_mean");
  const ch = mm.shape[0];
  const m = new BatchNorm2d(ch, c.epsilon ?? 1e-3);
  const ones = { shape: [ch], values: new Float32Array(ch).fill(1) };
  const zeros = { shape: [ch], values: new Float32Array(ch) };
  const state = new Map<string, NamedWeight>([
    ["weight", c.scale === false ? ones : ctx.weight("gamma")],
    ["bias", c.center === false ? zeros : ctx.weight("beta")],
    ["running_mean", mm],
    ["running_var", ctx.weight("moving_variance")],
  ]);
  return {
    module: m,
    state,
    apply: (xs) => {
      const x = one(xs, ctx);
      return batchNorm(x, {
        runningMean: m.runningMean,
        runningVar: m.runningVar,
        weight: m.weight,
        bias: m.bias,
        eps: m.eps,
      });
    },
  };
}

function pooling(ctx: LayerContext, kind: "max" | "avg"): BuiltLayer {
  channelsLast(ctx);
  const c = ctx.config;
  if ((c.padding ?? "valid") !== "valid") {
    throw new Error(
      `tfjs layer "${ctx.name}" (${ctx.className}): padding "${c.padding}" is not supported (valid only)`,
    );
  }
  const kernel = pair(c.pool_size ?? 2, "pool_size", ctx);
  const stride = pair(c.strides ?? kernel, "strides", ctx);
  const op = kind === "max" ? maxPool2d : avgPool2d;
  return { apply: (xs) => op(one(xs, ctx), { kernel, stride }) };
}

function upSampling(ctx: LayerContext): BuiltLayer {
  channelsLast(ctx);
  const [sh, sw] = pair(ctx.config.size ?? 2, "size", ctx);
  const interp = ctx.config.interpolation ?? "nearest";
  if (interp !== "nearest") {
    throw new Error(
      `tfjs layer "${ctx.name}" (UpSampling2D): interpolation "${interp}" is not supported (nearest only)`,
    );
  }
  return {
    apply: (xs) => {
      const x = one(xs, ctx);
      return resize(x, [x.shape[2] * sh, x.shape[3] * sw], { mode: "nearest" });
    },
  };
}

function reluLayer(ctx: LayerContext): BuiltLayer {
  const c = ctx.config;
  if (c.threshold) {
    throw new Error(`tfjs layer "${ctx.name}" (ReLU): threshold ${c.threshold} is not supported`);
  }
  const slope = c.negative_slope ?? 0;
  const cap = c.max_value ?? null;
  return {
    apply: (xs) => {
      const x = one(xs, ctx);
      const y = slope ? leakyRelu(x, slope) : relu(x);
      return cap === null ? y : minimum(y, cap);
    },
  };
}

const merge =
  (f: (a: Tensor, b: Tensor) => Tensor) =>
  (ctx: LayerContext): BuiltLayer => ({
    apply: (xs) => {
      if (xs.length < 2)
        throw new Error(`tfjs layer "${ctx.name}" (${ctx.className}) needs at least two inputs`);
      return xs.slice(1).reduce(f, xs[0]);
    },
  });

/** Builders by Keras class name; PixelShuffleNx is matched separately. */
export const LAYER_BUILDERS: Record<string, (ctx: LayerContext) => BuiltLayer> = {
  Conv2D: conv2dLayer,
  Dense: denseLayer,
  BatchNormalization: batchNormLayer,
  Activation: (ctx) => {
    const f = activation(ctx.config.activation, ctx);
    return { apply: (xs) => f(one(xs, ctx)) };
  },
  ReLU: reluLayer,
  LeakyReLU: (ctx) => ({ apply: (xs) => leakyRelu(one(xs, ctx), ctx.config.alpha ?? 0.3) }),
  Concatenate: (ctx) => ({
    apply: (xs) => concat(xs, nchwAxis(ctx.config.axis ?? -1, xs[0].rank)),
  }),
  Add: merge(add),
  Subtract: merge(sub),
  Multiply: merge(mul),
  Maximum: merge(maximum),
  Minimum: merge(minimum),
  Average: (ctx) => ({ apply: (xs) => mul(merge(add)(ctx).apply(xs), 1 / xs.length) }),
  UpSampling2D: upSampling,
  MaxPooling2D: (ctx) => pooling(ctx, "max"),
  AveragePooling2D: (ctx) => pooling(ctx, "avg"),
  GlobalAveragePooling2D: (ctx) => {
    channelsLast(ctx);
    const keep = ctx.config.keepdims ?? false;
    return { apply: (xs) => mean(one(xs, ctx), [2, 3], keep) };
  },
  // Keras flattens channels-last: move channels last first so Dense weights line up.
  Flatten: (ctx) => ({
    apply: (xs) => {
      const x = one(xs, ctx);
      return flatten(x.rank === 4 ? transpose(x, [0, 2, 3, 1]) : x, 1);
    },
  }),
  Dropout: (ctx) => ({ apply: (xs) => one(xs, ctx) }),
  // UpscalerJS's custom layer: multiply by beta (0.2 in the RRDN models).
  MultiplyBeta: (ctx) => {
    const beta = ctx.config.beta ?? 0.2;
    return { apply: (xs) => mul(one(xs, ctx), beta) };
  },
};

/** UpscalerJS's PixelShuffle{r}x: tf.depthToSpace(x, r, "NHWC"), i.e. our "tf" channel order. */
export function pixelShuffleLayer(ctx: LayerContext, factorFromName: number): BuiltLayer {
  const r = ctx.config.scale ?? factorFromName;
  if (r !== factorFromName) {
    throw new Error(`tfjs layer "${ctx.name}": class ${ctx.className} but config scale ${r}`);
  }
  return { apply: (xs) => pixelShuffle(one(xs, ctx), r, "tf") };
}

export const SUPPORTED_CLASSES = [...Object.keys(LAYER_BUILDERS), "InputLayer", "PixelShuffle<r>x"];
