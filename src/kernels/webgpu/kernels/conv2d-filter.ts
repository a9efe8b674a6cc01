/**
 * dW of the generalised conv as a split-K GEMM: dW_g[o, k] = sum_r dy[n, o, p] * col[k, (n, p)]
 * with the reduction index r = (n, p) running over batch x output pixels. Each thread owns a
 * 4 (channels) x 4 (taps) block of dW for one contiguous slice of r (the slice index is the
 * dispatch's z), writes a partial result, and a second pass sums the slices. Nothing is one
 * thread per weight looping over the whole image, and no atomics are needed.
 */
import type { TensorInfo } from "../../backend.ts";
import type { Conv2dGeometry } from "../../conv-geometry.ts";
import type { KernelContext } from "../context.ts";
import { bufferOf, type GpuData } from "../gpu-data.ts";
import { CONV_UNIFORMS, convUniforms } from "./conv2d.ts";
import { reduce } from "./reduce.ts";

/** Aim for about this many threads in total over all slices. */
const TARGET_THREADS = 4096;
/** Shortest reduction slice worth a thread. */
const MIN_SLICE = 64;

function wgsl(holes: boolean): string {
  const inRange =
    "(Y >= vec4<i32>(0)) & (Y <= vec4<i32>((u.H - 1) * u.idh)) & (X >= vec4<i32>(0)) & (X <= vec4<i32>((u.W - 1) * u.idw))";
  const valid = holes
    ? `${inRange} & (Y % u.idh == vec4<i32>(0)) & (X % u.idw == vec4<i32>(0))`
    : inRange;
  const addr = holes ? "img + plane + (Y / u.idh) * u.W + X / u.idw" : "img + plane + Y * u.W + X";
  const fields = CONV_UNIFORMS.map((f) => `${f.name}: i32,`).join(" ");
  return /* wgsl */ `
struct Params { ${fields} R: i32, slice: i32, }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k0 = i32(gid.x) * 4;
  let o0 = i32(gid.y) * 4;
  let z = i32(gid.z);
  if (k0 >= u.K || o0 >= u.og) { return; }
  let g = z % u.G;
  let s = z / u.G;
  // The thread's four taps k -> (c, ky, kx), fixed over the whole reduction.
  let kk = min(vec4<i32>(k0, k0 + 1, k0 + 2, k0 + 3), vec4<i32>(u.K - 1));
  let khw = u.kh * u.kw;
  let tap = kk % khw;
  let plane = (g * u.cg + kk / khw) * u.H * u.W;
  let offY = (tap / u.kw) * u.dh - u.padT;
  let offX = (tap % u.kw) * u.dw - u.padL;
  let dyRow0 = (g * u.og + min(o0, u.og - 1)) * u.P;
  let dyRow1 = (g * u.og + min(o0 + 1, u.og - 1)) * u.P;
  let dyRow2 = (g * u.og + min(o0 + 2, u.og - 1)) * u.P;
  let dyRow3 = (g * u.og + min(o0 + 3, u.og - 1)) * u.P;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let r0 = s * u.slice;
  let r1 = min(r0 + u.slice, u.R);
  // Walk r = (n, oy, ox) with an odometer: one division for the whole slice.
  var n = r0 / u.P;
  var oy = (r0 % u.P) / u.outW;
  var ox = r0 % u.outW;
  for (var r = r0; r < r1; r++) {
    let Y = oy * u.sh + offY;
    let X = ox * u.sw + offX;
    let img = n * u.C * u.H * u.W;
    let valid = ${valid};
    let src = select(vec4<i32>(0), ${addr}, valid);
    let xv = select(vec4<f32>(0.0), vec4<f32>(x[src.x], x[src.y], x[src.z], x[src.w]), valid);
    let d = n * u.O * u.P + oy * u.outW + ox;
    acc0 = fma(vec4<f32>(dy[d + dyRow0]), xv, acc0);
    acc1 = fma(vec4<f32>(dy[d + dyRow1]), xv, acc1);
    acc2 = fma(vec4<f32>(dy[d + dyRow2]), xv, acc2);
    acc3 = fma(vec4<f32>(dy[d + dyRow3]), xv, acc3);
    ox++;
    if (ox == u.outW) {
      ox = 0;
      oy++;
      if (oy == u.outH) { oy = 0; n++; }
    }
  }
  let base = s * u.O * u.K;
  ${[0, 1, 2, 3]
    .map((t) =>
      [0, 1, 2, 3]
        .map(
          (j) =>
            `if (o0 + ${t} < u.og && k0 + ${j} < u.K) { partial[base + (g * u.og + o0 + ${t}) * u.K + k0 + ${j}] = acc${t}[${j}]; }`,
        )
        .join("\n  "),
    )
    .join("\n  ")}
}`;
}

export function conv2dBackpropFilter(
  ctx: KernelContext,
  x: TensorInfo,
  dy: TensorInfo,
  g: Conv2dGeometry,
): GpuData {
  const u = convUniforms(g);
  const wShape = [g.outChannels, u.cg, g.kernelH, g.kernelW];
  const R = g.batch * u.P;
  const tiles = Math.ceil(u.og / 4) * Math.ceil(u.K / 4) * g.groups;
  const want = Math.max(1, Math.min(Math.ceil(TARGET_THREADS / tiles), Math.floor(R / MIN_SLICE)));
  const slice = Math.max(1, Math.ceil(R / want));
  const slices = Math.max(1, Math.ceil(R / slice));
  const holes = g.inputDilation[0] > 1 || g.inputDilation[1] > 1;
  const k = ctx.rt.kernel(`conv2dBackpropFilter:${holes}`, () => ({
    name: `conv2dBackpropFilter (split-K${holes ? ", input dilation" : ""})`,
    uniforms: [...CONV_UNIFORMS, { name: "R", type: "i32" }, { name: "slice", type: "i32" }],
    wgsl: wgsl(holes),
  }));
  const partialShape = slices > 1 ? [slices, g.outChannels * u.K] : wShape;
  const partial = ctx.output(partialShape, "float32", "conv2dBackpropFilter");
  if (g.outChannels * u.K === 0) return partial;
  ctx.rt.dispatch(
    k,
    { x: bufferOf(x), dy: bufferOf(dy), partial: partial.buffer },
    { ...u, R, slice },
    [Math.ceil(u.K / 32), Math.ceil(u.og / 32), slices * g.groups],
  );
  if (slices === 1) return partial;
  const dW = reduce(ctx, "sum", { handle: partial, shape: partialShape, dtype: "float32" }, [0]);
  ctx.free(partial);
  return dW;
}
