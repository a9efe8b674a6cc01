/** The CPU backend: TypeScript loops over typed arrays. Always available; the reference for parity. */

import type {
  Backend,
  BinaryOp,
  DataHandle,
  DType,
  PadMode,
  ReduceOp,
  TensorInfo,
  TypedArray,
  UnaryOp,
  UnaryParams,
} from "../backend.ts";
import type { Conv2dGeometry } from "../conv-geometry.ts";
import { matmulGeometry } from "../matmul-geometry.ts";
import type { PoolGeometry } from "../pool-geometry.ts";
import { sizeOf } from "../shape.ts";
import type { AxisMap } from "../sparse-map.ts";
import { applyAxisMap } from "./apply-axis-map.ts";
import { allocF32, allocF32Unset, allocI32, noteLiveBytes, recycle } from "./buffers.ts";
import {
  conv2dBackpropFilter,
  conv2dFlippedKernel,
  conv2dForward,
  flippedKernelPays,
} from "./conv2d.ts";
import {
  conv2dInterleaved,
  conv2dInterleavedInputGrad,
  interleavedConvPays,
  interleavedInputGradPays,
} from "./conv2d-interleaved.ts";
import { CpuData, f32, valuesOf } from "./cpu-data.ts";
import * as ew from "./elementwise.ts";
import { gemm } from "./gemm.ts";
import * as layout from "./layout.ts";
import * as pool from "./pool2d.ts";
import * as red from "./reduce.ts";

export class CpuBackend implements Backend {
  readonly name = "cpu";
  private bytes = 0;

  private wrap(values: TypedArray): DataHandle {
    this.bytes += values.byteLength;
    noteLiveBytes(this.bytes);
    return new CpuData(values);
  }

  upload(values: TypedArray, _shape: readonly number[], dtype: DType): DataHandle {
    const copy = dtype === "int32" ? allocI32(values.length) : allocF32Unset(values.length);
    copy.set(values);
    return this.wrap(copy);
  }
  read(x: TensorInfo): Promise<TypedArray> {
    return Promise.resolve(this.readSync(x));
  }
  readSync(x: TensorInfo): TypedArray {
    // A copy (the caller may write to it), into a recycled buffer where one of that length is
    // pooled: reading a model's output in a loop then faults no fresh pages in (~11 us a page
    // on a VM: 2 ms for the 0.8 MB output of the CLI's RDN-like net).
    const v = valuesOf(x);
    const out = v instanceof Float32Array ? allocF32Unset(v.length) : allocI32(v.length);
    out.set(v);
    return out;
  }
  free(data: DataHandle): void {
    const { values } = data as CpuData;
    this.bytes -= values.byteLength;
    // Tensors never share a CpuData's array (every kernel returns a new one; reshapes share the
    // storage, freed once), so a freed array can be handed to the next kernel.
    recycle(values);
  }
  liveBytes(): number {
    return this.bytes;
  }

  fill(shape: readonly number[], value: number, dtype: DType): DataHandle {
    const n = sizeOf(shape);
    return this.wrap(dtype === "int32" ? allocI32(n).fill(value) : allocF32Unset(n).fill(value));
  }
  cast(x: TensorInfo, dtype: DType): DataHandle {
    const v = valuesOf(x);
    if (dtype === "float32") return this.wrap(Float32Array.from(v));
    // float -> int truncates toward zero, like a C cast.
    return this.wrap(Int32Array.from(v, (e) => Math.trunc(e)));
  }

  unary(op: UnaryOp, x: TensorInfo, params?: UnaryParams): DataHandle {
    return this.wrap(ew.unary(op, valuesOf(x), params));
  }
  binary(op: BinaryOp, a: TensorInfo, b: TensorInfo, outShape: readonly number[]): DataHandle {
    return this.wrap(ew.binary(op, valuesOf(a), a.shape, valuesOf(b), b.shape, outShape));
  }
  select(c: TensorInfo, a: TensorInfo, b: TensorInfo, outShape: readonly number[]): DataHandle {
    return this.wrap(
      ew.select(valuesOf(c), c.shape, valuesOf(a), a.shape, valuesOf(b), b.shape, outShape),
    );
  }
  reduce(op: ReduceOp, x: TensorInfo, axes: readonly number[]): DataHandle {
    return this.wrap(red.reduce(op, valuesOf(x), x.shape, axes));
  }
  argMax(x: TensorInfo, axis: number): DataHandle {
    return this.wrap(red.argMax(valuesOf(x), x.shape, axis));
  }

  transpose(x: TensorInfo, perm: readonly number[]): DataHandle {
    return this.wrap(layout.transpose(valuesOf(x), x.shape, perm));
  }
  slice(
    x: TensorInfo,
    begin: readonly number[],
    size: readonly number[],
    step: readonly number[],
  ): DataHandle {
    return this.wrap(layout.slice(valuesOf(x), x.shape, begin, size, step));
  }
  pad(
    x: TensorInfo,
    pads: readonly (readonly [number, number])[],
    mode: PadMode,
    value: number,
  ): DataHandle {
    return this.wrap(layout.pad(valuesOf(x), x.shape, pads, mode, value));
  }
  concat(xs: readonly TensorInfo[], axis: number, outShape: readonly number[]): DataHandle {
    const parts = xs.map((x) => ({ values: valuesOf(x), shape: x.shape }));
    return this.wrap(layout.concat(parts, axis, outShape));
  }
  interleave(xs: readonly TensorInfo[], r: number): DataHandle {
    return this.wrap(layout.interleave(xs.map(valuesOf) as Float32Array[], xs[0].shape, r));
  }
  gather(x: TensorInfo, indices: TensorInfo, axis: number): DataHandle {
    return this.wrap(layout.gather(valuesOf(x), x.shape, valuesOf(indices), axis));
  }
  scatterAdd(updates: TensorInfo, indices: TensorInfo, axis: number, length: number): DataHandle {
    return this.wrap(
      layout.scatterAdd(valuesOf(updates), updates.shape, valuesOf(indices), axis, length),
    );
  }

  matmul(a: TensorInfo, b: TensorInfo, transA: boolean, transB: boolean): DataHandle {
    const [ba, ar, ac] = a.shape;
    const [bb, br, bc] = b.shape;
    const { batch, m, k, n } = matmulGeometry(a.shape, b.shape, transA, transB);
    const out = allocF32(batch * m * n);
    const av = f32(a);
    const bv = f32(b);
    for (let i = 0; i < batch; i++) {
      gemm(
        m,
        n,
        k,
        av,
        ba === 1 ? 0 : i * ar * ac,
        ac,
        transA,
        bv,
        bb === 1 ? 0 : i * br * bc,
        bc,
        transB,
        out,
        i * m * n,
        n,
        false,
      );
    }
    return this.wrap(out);
  }

  conv2d(
    x: TensorInfo,
    w: TensorInfo,
    geom: Conv2dGeometry,
    bias: TensorInfo | null,
    relu: boolean,
  ): DataHandle {
    return this.wrap(conv2dForward(f32(x), f32(w), geom, bias ? f32(bias) : null, relu));
  }
  conv2dBackpropFilter(x: TensorInfo, dy: TensorInfo, geom: Conv2dGeometry): DataHandle {
    return this.wrap(conv2dBackpropFilter(f32(x), f32(dy), geom));
  }
  conv2dFlippedKernel(x: TensorInfo, w: TensorInfo, geom: Conv2dGeometry): DataHandle {
    return this.wrap(conv2dFlippedKernel(f32(x), f32(w), geom));
  }
  flippedKernelPays(geom: Conv2dGeometry): boolean {
    return flippedKernelPays(geom);
  }
  conv2dInterleaved(
    x: TensorInfo,
    ws: readonly TensorInfo[],
    geoms: readonly Conv2dGeometry[],
    bias: TensorInfo | null,
    relu: boolean,
  ): DataHandle {
    const weights = ws.map((w) => f32(w));
    return this.wrap(conv2dInterleaved(f32(x), weights, geoms, bias ? f32(bias) : null, relu));
  }
  interleavedConvPays(geoms: readonly Conv2dGeometry[]): boolean {
    return interleavedConvPays(geoms);
  }
  conv2dInterleavedInputGrad(
    dy: TensorInfo,
    ws: readonly TensorInfo[],
    geoms: readonly Conv2dGeometry[],
  ): DataHandle {
    const weights = ws.map((w) => f32(w));
    return this.wrap(conv2dInterleavedInputGrad(f32(dy), weights, geoms));
  }
  interleavedInputGradPays(geoms: readonly Conv2dGeometry[]): boolean {
    return interleavedInputGradPays(geoms);
  }

  maxPool2d(x: TensorInfo, geom: PoolGeometry): { out: DataHandle; argmax: DataHandle } {
    const { out, argmax } = pool.maxPool2d(f32(x), geom);
    return { out: this.wrap(out), argmax: this.wrap(argmax) };
  }
  maxPool2dBackward(dy: TensorInfo, argmax: TensorInfo, geom: PoolGeometry): DataHandle {
    return this.wrap(pool.maxPool2dBackward(f32(dy), valuesOf(argmax) as Int32Array, geom));
  }
  avgPool2d(x: TensorInfo, geom: PoolGeometry): DataHandle {
    return this.wrap(pool.avgPool2d(f32(x), geom));
  }
  avgPool2dBackward(dy: TensorInfo, geom: PoolGeometry): DataHandle {
    return this.wrap(pool.avgPool2dBackward(f32(dy), geom));
  }

  axisMap(x: TensorInfo, axis: number, map: AxisMap): DataHandle {
    return this.wrap(applyAxisMap(f32(x), x.shape, axis, map));
  }
}
