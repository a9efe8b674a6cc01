/** Batched matmul with optional transposes and batch broadcasting, on the GEMM template. */
import type { TensorInfo } from "../../backend.ts";
import { matmulGeometry } from "../../matmul-geometry.ts";
import type { KernelContext } from "../context.ts";
import { bufferOf, type GpuData } from "../gpu-data.ts";
import { gemmGroups, gemmMain } from "./gemm.ts";

export function matmul(
  ctx: KernelContext,
  a: TensorInfo,
  b: TensorInfo,
  transA: boolean,
  transB: boolean,
): GpuData {
  const [ba] = a.shape;
  const [bb] = b.shape;
  const { batch, m: M, k: K, n: N } = matmulGeometry(a.shape, b.shape, transA, transB);
  const out = ctx.output([batch, M, N], "float32", "matmul");
  if (batch * M * N === 0) return out;
  const tiling = ctx.tiling;
  const k = ctx.rt.kernel(`matmul:${transA}:${transB}:${tiling}`, () => ({
    name: `matmul (transA ${transA}, transB ${transB}, ${tiling} tiles)`,
    uniforms: [
      { name: "M", type: "i32" },
      { name: "N", type: "i32" },
      { name: "K", type: "i32" },
      { name: "aBatch", type: "i32" },
      { name: "bBatch", type: "i32" },
    ],
    wgsl: /* wgsl */ `
struct Params { M: i32, N: i32, K: i32, aBatch: i32, bBatch: i32, }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
fn mm_readA(z: i32, m: i32, k: i32) -> f32 {
  return a[z * u.aBatch + ${transA ? "k * u.M + m" : "m * u.K + k"}];
}
fn mm_readB(z: i32, k: i32, n: i32) -> f32 {
  return b[z * u.bBatch + ${transB ? "n * u.K + k" : "k * u.N + n"}];
}
fn mm_write(z: i32, m: i32, n: i32, v: f32) {
  out[(z * u.M + m) * u.N + n] = v;
}
${gemmMain(tiling)}`,
  }));
  ctx.rt.dispatch(
    k,
    { a: bufferOf(a), b: bufferOf(b), out: out.buffer },
    { M, N, K, aBatch: ba === 1 ? 0 : M * K, bBatch: bb === 1 ? 0 : K * N },
    gemmGroups(M, N, batch),
  );
  return out;
}
