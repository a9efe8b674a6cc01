/** Max and average pooling (NCHW), adaptive and global average pooling. */
import { backendOf, fromHandle, requireFloat } from "../autodiff/make.ts";
import { defineOp, type OpDef, runOp } from "../autodiff/op.ts";
import type { Tensor } from "../autodiff/tensor.ts";
import { type PoolParams, poolGeometry } from "../kernels/pool-geometry.ts";
import { adaptiveAvgPoolMap } from "../kernels/resample-maps.ts";
import { add, mul } from "./binary.ts";
import { cast } from "./cast.ts";
import { arange } from "./creation.ts";
import { gather } from "./gather.ts";
import { mapAxis } from "./map-axis.ts";
import { mean } from "./reduce.ts";
import { reshape } from "./reshape.ts";

type PoolAttrs = PoolParams & { ceilMode: boolean };

const outShape = (x: Tensor, a: PoolAttrs, op: string) => {
  const g = poolGeometry(x.shape, a, a.ceilMode, op);
  return { g, shape: [g.batch, g.channels, g.outHeight, g.outWidth] };
};

export const maxPool2dOp: OpDef<"maxPool2d"> = defineOp({
  name: "maxPool2d",
  forward([x], attrs) {
    const backend = backendOf("maxPool2d", [x]);
    const { g, shape } = outShape(x, attrs, "maxPool2d");
    const { out, argmax } = backend.maxPool2d(x, g);
    return {
      out: fromHandle(out, shape, "float32", backend),
      saved: [fromHandle(argmax, shape, "int32", backend)],
    };
  },
  vjp(dy, { inputs: [x], attrs, saved: [argmax] }) {
    return [() => runOp(maxPool2dBackwardOp, [dy, argmax], { ...attrs, xShape: x.shape })];
  },
});

/** Routes dy to the recorded winners; linear in dy, so its own gradient gathers at the winners. */
export const maxPool2dBackwardOp: OpDef<"maxPool2dBackward"> = defineOp({
  name: "maxPool2dBackward",
  forward([dy, argmax], attrs) {
    const backend = backendOf("maxPool2dBackward", [dy, argmax]);
    const g = poolGeometry(attrs.xShape, attrs, attrs.ceilMode, "maxPool2d");
    return fromHandle(backend.maxPool2dBackward(dy, argmax, g), attrs.xShape, "float32", backend);
  },
  vjp(gx, { inputs: [dy, argmax] }) {
    return [
      () => {
        // out[n, c, i] = gx[n, c, argmax[n, c, i]]: one gather over the flattened planes.
        const [n, c, h, w] = gx.shape;
        const planes = reshape(gx, [n * c, h * w]);
        return gatherPerPlane(planes, argmax, dy.shape);
      },
      null,
    ];
  },
});

function gatherPerPlane(planes: Tensor, argmax: Tensor, shape: readonly number[]): Tensor {
  const [rows, cols] = planes.shape;
  const per = argmax.size / rows;
  // flat index = row * cols + argmax
  const rowBase = mul(reshape(arange(0, rows), [rows, 1]), cols);
  const flatIdx = cast(
    reshape(add(rowBase, reshape(cast(argmax, "float32"), [rows, per])), [-1]),
    "int32",
  );
  return reshape(gather(reshape(planes, [-1]), flatIdx, 0), shape);
}

export const avgPool2dOp: OpDef<"avgPool2d"> = defineOp({
  name: "avgPool2d",
  forward([x], attrs) {
    const backend = backendOf("avgPool2d", [x]);
    const { g, shape } = outShape(x, attrs, "avgPool2d");
    return fromHandle(backend.avgPool2d(x, g), shape, "float32", backend);
  },
  vjp(dy, { inputs: [x], attrs }) {
    return [() => runOp(avgPool2dBackwardOp, [dy], { ...attrs, xShape: x.shape })];
  },
});

/** The adjoint of avgPool2d, whose own gradient is avgPool2d again. */
export const avgPool2dBackwardOp: OpDef<"avgPool2dBackward"> = defineOp({
  name: "avgPool2dBackward",
  forward([dy], attrs) {
    const backend = backendOf("avgPool2dBackward", [dy]);
    const g = poolGeometry(attrs.xShape, attrs, attrs.ceilMode, "avgPool2d");
    return fromHandle(backend.avgPool2dBackward(dy, g), attrs.xShape, "float32", backend);
  },
  vjp(gx, { attrs }) {
    const { xShape: _, ...pool } = attrs;
    return [() => runOp(avgPool2dOp, [gx], pool)];
  },
});

/** PyTorch's pooling options: kernel, stride (default the kernel), padding, ceil mode. */
export interface Pool2dOptions {
  kernel: number | readonly [number, number];
  /** Defaults to the kernel size (PyTorch). */
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  ceilMode?: boolean;
  /** Average pooling only: count padded zeros in the divisor (PyTorch default true). */
  countIncludePad?: boolean;
}

const pair = (v: number | readonly [number, number]): [number, number] =>
  typeof v === "number" ? [v, v] : [v[0], v[1]];

function poolAttrs(o: Pool2dOptions): PoolAttrs {
  const kernel = pair(o.kernel);
  const [ph, pw] = pair(o.padding ?? 0);
  return {
    kernel,
    stride: pair(o.stride ?? kernel),
    pad: [ph, ph, pw, pw],
    countIncludePad: o.countIncludePad ?? true,
    ceilMode: o.ceilMode ?? false,
  };
}

/**
 * 2-D max pooling of [N, C, H, W] (PyTorch F.max_pool2d); the gradient goes to the first maximum of
 * each window.
 */
export function maxPool2d(x: Tensor, o: Pool2dOptions): Tensor {
  requireFloat("maxPool2d", x);
  const a = poolAttrs(o);
  poolGeometry(x.shape, a, a.ceilMode, "maxPool2d");
  return runOp(maxPool2dOp, [x], a);
}

/** 2-D average pooling of [N, C, H, W] (PyTorch F.avg_pool2d). */
export function avgPool2d(x: Tensor, o: Pool2dOptions): Tensor {
  requireFloat("avgPool2d", x);
  const a = poolAttrs(o);
  poolGeometry(x.shape, a, a.ceilMode, "avgPool2d");
  return runOp(avgPool2dOp, [x], a);
}

/** PyTorch AdaptiveAvgPool2d: separable, so two sparse axis maps. */
export function adaptiveAvgPool2d(x: Tensor, size: number | readonly [number, number]): Tensor {
  if (x.rank !== 4) throw new Error(`adaptiveAvgPool2d: expected [N, C, H, W], got [${x.shape}]`);
  const [oh, ow] = pair(size);
  return mapAxis(
    mapAxis(x, 2, adaptiveAvgPoolMap(x.shape[2], oh)),
    3,
    adaptiveAvgPoolMap(x.shape[3], ow),
  );
}

/** Mean over H and W, keeping [N, C, 1, 1]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  if (x.rank !== 4) throw new Error(`globalAvgPool2d: expected [N, C, H, W], got [${x.shape}]`);
  return mean(x, [2, 3], true);
}
