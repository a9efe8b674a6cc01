/**
 * The primitive kernels every backend implements. The autodiff layer composes all user-facing ops
 * (softmax, batch norm, pixel shuffle, ...) from these, so a backend that implements this list runs
 * every model and every attribution method.
 *
 * Conventions: row-major (C order) contiguous buffers; images are NCHW, conv weights OIHW.
 * Kernels never mutate their inputs and always return freshly allocated data.
 */

import type { Conv2dGeometry } from "./conv-geometry.ts";
import type { PoolGeometry } from "./pool-geometry.ts";
import type { AxisMap } from "./sparse-map.ts";

export type DType = "float32" | "int32";
export type TypedArray = Float32Array | Int32Array;

/** Opaque per-backend storage (a Float32Array on CPU, a GPUBuffer on WebGPU). */
export type DataHandle = object;

/** Where a tensor's values sit in a GPUBuffer: bytes [byteOffset, byteOffset + byteLength). */
export interface GPUBufferView {
  buffer: GPUBuffer;
  byteOffset: number;
  byteLength: number;
}

export interface TensorInfo {
  readonly handle: DataHandle;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export const UNARY_OPS = [
  "neg",
  "abs",
  "exp",
  "log",
  "log1p",
  "sqrt",
  "rsqrt",
  "square",
  "reciprocal",
  "sigmoid",
  "tanh",
  "relu",
  "step",
  "sign",
  "softplus",
  "gelu",
  "erf",
  "sin",
  "cos",
  "floor",
  "isnan",
  "leakyRelu",
  "clamp",
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];
/** Scalar parameters of the parametrised unary ops (leakyRelu: a = slope; clamp: a = lo, b = hi). */
export interface UnaryParams {
  a?: number;
  b?: number;
}

export const BINARY_OPS = [
  "add",
  "sub",
  "mul",
  "div",
  "max",
  "min",
  "pow",
  "greater",
  "greaterEqual",
  "less",
  "lessEqual",
  "equal",
  "mulStep",
] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

const REDUCE_OPS = ["sum", "max", "min"] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];

export type PadMode = "constant" | "reflect" | "replicate";

/**
 * The primitive kernels every backend implements (CPU, WebGPU); ops are written once on top of
 * them. Handles are opaque storage owned by the backend.
 */
export interface Backend {
  readonly name: string;

  /** Copies host values into new backend storage. */
  upload(values: TypedArray, shape: readonly number[], dtype: DType): DataHandle;
  /** Reads a tensor's values back to the host. */
  read(x: TensorInfo): Promise<TypedArray>;
  /** Synchronous readback, only where the backend can (CPU); undefined otherwise. */
  readSync?(x: TensorInfo): TypedArray;
  /** Releases storage (to the backend's pool). */
  free(data: DataHandle): void;
  /** Bytes currently held by live buffers (for leak tests and memory reports). */
  liveBytes(): number;
  /** GPU backends: storage over a GPUBuffer the application owns (zero-copy; never destroyed). */
  wrapGPUBuffer?(buffer: GPUBuffer, shape: readonly number[], dtype: DType): DataHandle;
  /** GPU backends: the GPUBuffer holding x's values, with pending work on it submitted. */
  exportGPUBuffer?(x: TensorInfo): GPUBufferView;

  /** New storage with every element `value`. */
  fill(shape: readonly number[], value: number, dtype: DType): DataHandle;
  /** x converted to dtype. */
  cast(x: TensorInfo, dtype: DType): DataHandle;

  /** An elementwise unary op. */
  unary(op: UnaryOp, x: TensorInfo, params?: UnaryParams): DataHandle;
  /** NumPy broadcasting; outShape is the broadcast shape. Comparisons return 0/1 floats. */
  binary(op: BinaryOp, a: TensorInfo, b: TensorInfo, outShape: readonly number[]): DataHandle;
  /** cond ? a : b elementwise with broadcasting of all three to outShape. */
  select(cond: TensorInfo, a: TensorInfo, b: TensorInfo, outShape: readonly number[]): DataHandle;
  /** Reduces over `axes` (sorted, unique); the reduced axes are removed from the shape. */
  reduce(op: ReduceOp, x: TensorInfo, axes: readonly number[]): DataHandle;
  /** Index of the max along one axis (first on ties), int32, axis removed. */
  argMax(x: TensorInfo, axis: number): DataHandle;

  /** x with its axes permuted by `perm`. */
  transpose(x: TensorInfo, perm: readonly number[]): DataHandle;
  /** Strided slice: out[i] = x[begin + i * step] per axis; size is the output shape. */
  slice(
    x: TensorInfo,
    begin: readonly number[],
    size: readonly number[],
    step: readonly number[],
  ): DataHandle;
  /** pads[axis] = [before, after], both >= 0. */
  pad(
    x: TensorInfo,
    pads: readonly (readonly [number, number])[],
    mode: PadMode,
    value: number,
  ): DataHandle;
  /** xs joined along `axis` into `outShape`. */
  concat(xs: readonly TensorInfo[], axis: number, outShape: readonly number[]): DataHandle;
  /**
   * r*r float32 [N, C, H, W] phases interleaved into [N, C, H r, W r]: out[n, c, r y + a, r x + b]
   * = xs[a r + b][n, c, y, x] (depth-to-space of phases kept apart).
   */
  interleave(xs: readonly TensorInfo[], r: number): DataHandle;
  /** out = x indexed along `axis` by int32 `indices` (flat); out shape replaces that axis by indices.length. */
  gather(x: TensorInfo, indices: TensorInfo, axis: number): DataHandle;
  /** The adjoint of gather: out (axis of length `length`) accumulates updates at the given indices. */
  scatterAdd(updates: TensorInfo, indices: TensorInfo, axis: number, length: number): DataHandle;

  /** Batched matmul: a [B|1, M, K] (or [B|1, K, M] when transA), b [B|1, K, N] (or [.., N, K]). */
  matmul(a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean): DataHandle;

  /** Generalised 2-D convolution (stride, dilation, input dilation, groups), optional fused bias and ReLU. */
  conv2d(
    x: TensorInfo,
    w: TensorInfo,
    geom: Conv2dGeometry,
    bias: TensorInfo | null,
    relu: boolean,
  ): DataHandle;
  /** dW[o, i, ky, kx] of conv2d for upstream gradient dy [N, O, outH, outW]. */
  conv2dBackpropFilter(x: TensorInfo, dy: TensorInfo, geom: Conv2dGeometry): DataHandle;
  /**
   * Optional: conv2d(x, w') for w [C, O, kh, kw] and w'[o, c, i, j] = w[c, o, kh-1-i, kw-1-j],
   * the input gradient of a conv with weights w, without building w'. Called only where
   * flippedKernelPays(geom) (geom: stride 1, one group, w' as the kernel); backends without it
   * get w' from transpose and reverse.
   */
  conv2dFlippedKernel?(x: TensorInfo, w: TensorInfo, geom: Conv2dGeometry): DataHandle;
  flippedKernelPays?(geom: Conv2dGeometry): boolean;
  /**
   * Optional: four convs of x (kernels ws[p], geometries geoms[p]: the same but for their pads),
   * each with the bias and ReLU, interleaved as the phases p = a * 2 + b of a [N, O, 2 outH,
   * 2 outW] output (out[n, o, 2 y + a, 2 x + b]), in one pass. Called only where
   * interleavedConvPays(geoms); backends without it run the four convs and `interleave`.
   */
  conv2dInterleaved?(
    x: TensorInfo,
    ws: readonly TensorInfo[],
    geoms: readonly Conv2dGeometry[],
    bias: TensorInfo | null,
    relu: boolean,
  ): DataHandle;
  interleavedConvPays?(geoms: readonly Conv2dGeometry[]): boolean;
  /**
   * Optional: the input gradient of conv2dInterleaved(x, ws, geoms) for its output gradient dy
   * [N, O, 2 outH, 2 outW] (the sum of each phase conv's input gradient for its phase of dy), in
   * one pass. Called only where interleavedInputGradPays(geoms); backends without it slice dy
   * into phases and sum four input gradients.
   */
  conv2dInterleavedInputGrad?(
    dy: TensorInfo,
    ws: readonly TensorInfo[],
    geoms: readonly Conv2dGeometry[],
  ): DataHandle;
  interleavedInputGradPays?(geoms: readonly Conv2dGeometry[]): boolean;

  /** Max pooling; also returns, per output, the flat index (y * W + x) of the winner in its input plane. */
  maxPool2d(x: TensorInfo, geom: PoolGeometry): { out: DataHandle; argmax: DataHandle };
  /** Gradient of maxPool2d: routes dy to the recorded winners (sums where windows overlap). */
  maxPool2dBackward(dy: TensorInfo, argmax: TensorInfo, geom: PoolGeometry): DataHandle;
  /** 2-D average pooling of [N, C, H, W] with the given geometry. */
  avgPool2d(x: TensorInfo, geom: PoolGeometry): DataHandle;
  /** The input gradient of avgPool2d. */
  avgPool2dBackward(dy: TensorInfo, geom: PoolGeometry): DataHandle;

  /** Applies a sparse linear map along one axis (resize, blur, adaptive pooling are all such maps). */
  axisMap(x: TensorInfo, axis: number, map: AxisMap): DataHandle;
}
