/**
 * The GEMM template behind matmul and the shared-memory conv: C[z][m][n] = sum_k A[z][m][k] *
 * B[z][k][n] over a 32x32 output tile per 8x8 workgroup, 4x4 outputs per thread. The caller
 * supplies WGSL hooks `mm_readA(z, m, k)`, `mm_readB(z, k, n)` (always called with in-range
 * indices) and `mm_write(z, m, n, v)`, plus uniforms `M`, `N`, `K` (tfjs's mm_readA/mm_write shape).
 *
 * Two variants of the same tiling:
 * - "shared": A and B tiles (32 x 16) staged in workgroup memory between barriers; the fast
 *   choice on real GPUs.
 * - "registers": no workgroup memory and no barriers; each thread streams its rows of A and
 *   columns of B from memory (caches serve the reuse). Software adapters (lavapipe, SwiftShader)
 *   run it several times faster because barriers there are expensive.
 */
import type { Tiling } from "../context.ts";

const TILE = 32;
const TK = 16;

export function gemmGroups(M: number, N: number, batch: number): [number, number, number] {
  return [Math.ceil(N / TILE), Math.ceil(M / TILE), batch];
}

function writes(): string {
  const lines: string[] = [];
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      lines.push(
        `if (m0 + ${r} < u.M && n0 + ${c} < u.N) { mm_write(z, m0 + ${r}, n0 + ${c}, acc${r}[${c}]); }`,
      );
    }
  }
  return lines.join("\n  ");
}

function registersMain(): string {
  return /* wgsl */ `
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = i32(gid.x) * 4;
  let m0 = i32(gid.y) * 4;
  let z = i32(gid.z);
  if (m0 >= u.M || n0 >= u.N) { return; }
  // Rows/columns past the edge are clamped so every load stays in range; they are not written.
  let ms = min(vec4<i32>(m0, m0 + 1, m0 + 2, m0 + 3), vec4<i32>(u.M - 1));
  let ns = min(vec4<i32>(n0, n0 + 1, n0 + 2, n0 + 3), vec4<i32>(u.N - 1));
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0; k < u.K; k++) {
    let b = vec4<f32>(mm_readB(z, k, ns.x), mm_readB(z, k, ns.y), mm_readB(z, k, ns.z), mm_readB(z, k, ns.w));
    acc0 = fma(vec4<f32>(mm_readA(z, ms.x, k)), b, acc0);
    acc1 = fma(vec4<f32>(mm_readA(z, ms.y, k)), b, acc1);
    acc2 = fma(vec4<f32>(mm_readA(z, ms.z, k)), b, acc2);
    acc3 = fma(vec4<f32>(mm_readA(z, ms.w, k)), b, acc3);
  }
  ${writes()}
}`;
}

function sharedMain(): string {
  return /* wgsl */ `
var<workgroup> As: array<f32, ${TK * TILE}>;
var<workgroup> Bs: array<f32, ${TK * TILE}>;
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tid = i32(lid.y * 8u + lid.x);
  let mBase = i32(wid.y) * ${TILE};
  let nBase = i32(wid.x) * ${TILE};
  let z = i32(wid.z);
  let tm = i32(lid.y) * 4;
  let tn = i32(lid.x) * 4;
  let m0 = mBase + tm;
  let n0 = nBase + tn;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0; k0 < u.K; k0 += ${TK}) {
    // 64 threads stage a ${TK}x${TILE} slice of A and of B, zero outside the matrices.
    for (var l = 0; l < ${(TK * TILE) / 64}; l++) {
      let e = tid + l * 64;
      let kk = k0 + e / ${TILE};
      let gm = mBase + e % ${TILE};
      let gn = nBase + e % ${TILE};
      let kc = min(kk, u.K - 1);
      As[e] = select(0.0, mm_readA(z, min(gm, u.M - 1), kc), gm < u.M && kk < u.K);
      Bs[e] = select(0.0, mm_readB(z, kc, min(gn, u.N - 1)), gn < u.N && kk < u.K);
    }
    workgroupBarrier();
    for (var kk = 0; kk < ${TK}; kk++) {
      let row = kk * ${TILE};
      let b = vec4<f32>(Bs[row + tn], Bs[row + tn + 1], Bs[row + tn + 2], Bs[row + tn + 3]);
      acc0 = fma(vec4<f32>(As[row + tm]), b, acc0);
      acc1 = fma(vec4<f32>(As[row + tm + 1]), b, acc1);
      acc2 = fma(vec4<f32>(As[row + tm + 2]), b, acc2);
      acc3 = fma(vec4<f32>(As[row + tm + 3]), b, acc3);
    }
    workgroupBarrier();
  }
  ${writes()}
}`;
}

/** The entry point for a tiling; the caller's WGSL must define u (with M, N, K) and the hooks. */
export function gemmMain(tiling: Tiling): string {
  return tiling === "shared" ? sharedMain() : registersMain();
}
