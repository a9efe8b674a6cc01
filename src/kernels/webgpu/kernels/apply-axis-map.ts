/**
 * Applies a CSR sparse linear map along one axis: out[b, o, k] = sum_j w[j] * x[b, cols[j], k] for
 * j in row o. Resize, blur and adaptive pooling are such maps; their gradients are the transposed
 * map, which the ops layer passes in as another map, so this gather is the only kernel needed.
 * The map (small: about outLength x taps) is uploaded once and kept in the runtime's bounded
 * constant cache, found again by the map object or by its content (resize and blur build a fresh
 * but identical map on every call), so repeated resizes upload nothing.
 */

import type { TensorInfo } from "../../backend.ts";
import { sizeOf } from "../../shape.ts";
import type { AxisMap } from "../../sparse-map.ts";
import type { KernelContext } from "../context.ts";
import { bufferOf, type GpuData } from "../gpu-data.ts";
import { flatGroups, flatMain } from "../wgsl-common.ts";

export function axisMap(ctx: KernelContext, x: TensorInfo, axis: number, map: AxisMap): GpuData {
  if (x.shape[axis] !== map.inLength) {
    throw new Error(
      `axisMap: shape[${axis}] = ${x.shape[axis]} but the map expects inLength ${map.inLength}`,
    );
  }
  const outShape = x.shape.map((d, i) => (i === axis ? map.outLength : d));
  const out = ctx.output(outShape, "float32", "axisMap");
  const n = sizeOf(outShape);
  if (n === 0) return out;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const k = ctx.rt.kernel("axisMap", () => ({
    name: "axisMap (CSR rows)",
    uniforms: [
      { name: "size", type: "i32" },
      { name: "inner", type: "i32" },
      { name: "inLen", type: "i32" },
      { name: "outLen", type: "i32" },
    ],
    wgsl: /* wgsl */ `
struct Params { size: i32, inner: i32, inLen: i32, outLen: i32, }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> rowStart: array<i32>;
@group(0) @binding(3) var<storage, read> cols: array<i32>;
@group(0) @binding(4) var<storage, read> weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
${flatMain(`  let kk = i % u.inner;
  let t = i / u.inner;
  let o = t % u.outLen;
  let src = (t / u.outLen) * u.inLen * u.inner + kk;
  var acc = 0.0;
  for (var j = rowStart[o]; j < rowStart[o + 1]; j++) {
    acc += weights[j] * x[src + cols[j] * u.inner];
  }
  out[i] = acc;`)}`,
  }));
  // An all-zero map has empty cols/weights; the cache gives those a zeroed (unused) buffer.
  const [rowStart, cols, weights] = ctx.rt.constantBuffers(
    map,
    [map.rowStart, map.cols, map.weights],
    `axisMap's map (${map.inLength} -> ${map.outLength})`,
  );
  ctx.rt.dispatch(
    k,
    { x: bufferOf(x), rowStart, cols, weights, out: out.buffer },
    { size: n, inner, inLen: map.inLength, outLen: map.outLength },
    flatGroups(n),
  );
  return out;
}
