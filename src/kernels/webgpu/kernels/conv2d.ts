/**
 * Generalised 2-D convolution (NCHW input, OIHW weight; stride, kernel dilation, input dilation,
 * pads that may be negative, groups) as an implicit GEMM per (image, group):
 * out[o, p] = sum_k W[o, k] * col[k, p], k = (c, ky, kx) over C/groups x kh x kw, p = output pixel,
 * with col read straight from the input (the im2col matrix is never materialised). Bias and ReLU
 * are fused into the epilogue. Input gradients reuse this kernel (the ops layer flips the kernel
 * and turns the stride into input dilation).
 */
import type { TensorInfo } from "../../backend.ts";
import type { Conv2dGeometry } from "../../conv-geometry.ts";
import type { KernelContext } from "../context.ts";
import { bufferOf, type GpuData } from "../gpu-data.ts";
import type { UniformField } from "../uniform-layout.ts";
import { NAN_HELPERS } from "../wgsl-common.ts";
import { gemmGroups, gemmMain } from "./gemm.ts";

const GEOMETRY = [
  "C",
  "H",
  "W",
  "O",
  "G",
  "cg",
  "og",
  "kh",
  "kw",
  "outH",
  "outW",
  "P",
  "K",
  "sh",
  "sw",
  "dh",
  "dw",
  "idh",
  "idw",
  "padT",
  "padL",
] as const;

export const CONV_UNIFORMS: readonly UniformField[] = GEOMETRY.map((name) => ({
  name,
  type: "i32",
}));
const CONV_STRUCT = `struct Params { ${GEOMETRY.map((n) => `${n}: i32,`).join(" ")} }`;

export function convUniforms(g: Conv2dGeometry): Record<string, number> {
  const cg = g.inChannels / g.groups;
  return {
    C: g.inChannels,
    H: g.inHeight,
    W: g.inWidth,
    O: g.outChannels,
    G: g.groups,
    cg,
    og: g.outChannels / g.groups,
    kh: g.kernelH,
    kw: g.kernelW,
    outH: g.outHeight,
    outW: g.outWidth,
    P: g.outHeight * g.outWidth,
    K: cg * g.kernelH * g.kernelW,
    sh: g.stride[0],
    sw: g.stride[1],
    dh: g.dilation[0],
    dw: g.dilation[1],
    idh: g.inputDilation[0],
    idw: g.inputDilation[1],
    padT: g.pad[0],
    padL: g.pad[2],
  };
}

/** Whether the kernel must test for input-dilation holes (specialised away when 1). */
function dilatedInput(g: Conv2dGeometry): boolean {
  return g.inputDilation[0] > 1 || g.inputDilation[1] > 1;
}

/**
 * WGSL fragment: for dilated-padded coordinates Y, X (vec4<i32>, one per pixel or tap) defines
 * `valid` (vec4<bool>) and `src` (vec4<i32> flat index into x, 0 where invalid) given the plane
 * offset `plane` (vec4<i32> or i32).
 */
function tapAddress(holes: boolean): string {
  const yMax = "(u.H - 1) * u.idh";
  const xMax = "(u.W - 1) * u.idw";
  const inRange = `(Y >= vec4<i32>(0)) & (Y <= vec4<i32>(${yMax})) & (X >= vec4<i32>(0)) & (X <= vec4<i32>(${xMax}))`;
  const onGrid = holes ? " & (Y % u.idh == vec4<i32>(0)) & (X % u.idw == vec4<i32>(0))" : "";
  const addr = holes ? "plane + (Y / u.idh) * u.W + X / u.idw" : "plane + Y * u.W + X";
  return `let valid = ${inRange}${onGrid};
      let src = select(vec4<i32>(0), ${addr}, valid);`;
}

const LOAD4 = "select(vec4<f32>(0.0), vec4<f32>(x[src.x], x[src.y], x[src.z], x[src.w]), valid)";

function epilogue(bias: boolean, relu: boolean): string {
  const b = bias ? "v + bias[o]" : "v";
  // Matches the CPU fused epilogue max(v, 0), NaN kept: compilers may fold NaN comparisons (and
  // max(NaN, 0) is 0 on lavapipe), so NaN is detected from its bits.
  return relu
    ? `let r = ${b}; out[at] = select(select(0.0, r, r > 0.0), r, is_nan(r));`
    : `out[at] = ${b};`;
}

/** Register-tiled conv: TM output channels x 4 output pixels per thread, no barriers. */
function registersWgsl(
  tm: 1 | 4,
  wg: readonly [number, number],
  holes: boolean,
  bias: boolean,
  relu: boolean,
): string {
  const ts = Array.from({ length: tm }, (_, t) => t);
  return /* wgsl */ `
@compute @workgroup_size(${wg[0]}, ${wg[1]}, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p0 = i32(gid.x) * 4;
  let o0 = i32(gid.y) * ${tm};
  let z = i32(gid.z);
  if (p0 >= u.P || o0 >= u.og) { return; }
  let n = z / u.G;
  let g = z % u.G;
  let pp = min(vec4<i32>(p0, p0 + 1, p0 + 2, p0 + 3), vec4<i32>(u.P - 1));
  let by = (pp / u.outW) * u.sh - u.padT;
  let bx = (pp % u.outW) * u.sw - u.padL;
  let xBase = (n * u.C + g * u.cg) * u.H * u.W;
  ${ts.map((t) => `let wRow${t} = (g * u.og + min(o0 + ${t}, u.og - 1)) * u.K;\n  var acc${t} = vec4<f32>(0.0);`).join("\n  ")}
  var kIdx = 0;
  for (var c = 0; c < u.cg; c++) {
    let plane = xBase + c * u.H * u.W;
    for (var ky = 0; ky < u.kh; ky++) {
      let Y = by + ky * u.dh;
      for (var kx = 0; kx < u.kw; kx++) {
        let X = bx + kx * u.dw;
        ${tapAddress(holes)}
        let xv = ${LOAD4};
        ${ts.map((t) => `acc${t} = fma(xv, vec4<f32>(w[wRow${t} + kIdx]), acc${t});`).join("\n        ")}
        kIdx++;
      }
    }
  }
  ${ts
    .map((t) =>
      [0, 1, 2, 3]
        .map(
          (j) => `if (o0 + ${t} < u.og && p0 + ${j} < u.P) {
    let o = g * u.og + o0 + ${t};
    let at = (n * u.O + o) * u.P + p0 + ${j};
    let v = acc${t}[${j}];
    ${epilogue(bias, relu)}
  }`,
        )
        .join("\n  "),
    )
    .join("\n  ")}
}`;
}

/** GEMM-template hooks: A = weights of group g, B = implicit im2col of image n. */
function sharedHooks(holes: boolean, bias: boolean, relu: boolean): string {
  return /* wgsl */ `
fn mm_readA(z: i32, m: i32, k: i32) -> f32 {
  return w[((z % u.G) * u.og + m) * u.K + k];
}
fn mm_readB(z: i32, k: i32, p: i32) -> f32 {
  let khw = u.kh * u.kw;
  let c = k / khw;
  let r = k % khw;
  let Y = vec4<i32>((p / u.outW) * u.sh + (r / u.kw) * u.dh - u.padT);
  let X = vec4<i32>((p % u.outW) * u.sw + (r % u.kw) * u.dw - u.padL);
  let plane = ((z / u.G) * u.C + (z % u.G) * u.cg + c) * u.H * u.W;
  ${tapAddress(holes)}
  return select(0.0, x[src.x], valid.x);
}
fn mm_write(z: i32, m: i32, p: i32, v: f32) {
  let o = (z % u.G) * u.og + m;
  let at = ((z / u.G) * u.O + o) * u.P + p;
  ${epilogue(bias, relu)}
}`;
}

export function conv2d(
  ctx: KernelContext,
  x: TensorInfo,
  w: TensorInfo,
  g: Conv2dGeometry,
  bias: TensorInfo | null,
  relu: boolean,
): GpuData {
  const out = ctx.output([g.batch, g.outChannels, g.outHeight, g.outWidth], "float32", "conv2d");
  const u = convUniforms(g);
  if (g.batch * g.outChannels * u.P === 0) return out;
  const holes = dilatedInput(g);
  const hasBias = bias !== null;
  const tiling = ctx.tiling;
  const tm: 1 | 4 = u.og >= 4 ? 4 : 1;
  const wg: [number, number] = tm === 1 ? [64, 1] : u.og >= 32 ? [8, 8] : [16, 4];
  const key = `conv2d:${tiling}:${tiling === "registers" ? `${tm}:${wg}` : ""}:${holes}:${hasBias}:${relu}`;
  const k = ctx.rt.kernel(key, () => ({
    name: `conv2d (${tiling} tiles${hasBias ? ", bias" : ""}${relu ? ", relu" : ""}${holes ? ", input dilation" : ""})`,
    uniforms:
      tiling === "shared"
        ? [...CONV_UNIFORMS, { name: "M", type: "i32" }, { name: "N", type: "i32" }]
        : CONV_UNIFORMS,
    wgsl: /* wgsl */ `
${relu ? NAN_HELPERS : ""}
${tiling === "shared" ? CONV_STRUCT.replace(" }", " M: i32, N: i32, }") : CONV_STRUCT}
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
${hasBias ? "@group(0) @binding(3) var<storage, read> bias: array<f32>;" : ""}
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
${tiling === "shared" ? `${sharedHooks(holes, hasBias, relu)}\n${gemmMain("shared")}` : registersWgsl(tm, wg, holes, hasBias, relu)}`,
  }));
  const buffers: Record<string, GPUBuffer> = { x: bufferOf(x), w: bufferOf(w), out: out.buffer };
  if (bias) buffers.bias = bufferOf(bias);
  const z = g.batch * g.groups;
  if (tiling === "shared") {
    ctx.rt.dispatch(k, buffers, { ...u, M: u.og, N: u.P }, gemmGroups(u.og, u.P, z));
  } else {
    ctx.rt.dispatch(k, buffers, u, [
      Math.ceil(u.P / (4 * wg[0])),
      Math.ceil(u.og / (tm * wg[1])),
      z,
    ]);
  }
  return out;
}
