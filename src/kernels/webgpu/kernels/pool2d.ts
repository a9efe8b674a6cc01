/**
 * Max and average pooling and their gradients, with the CPU backend's (PyTorch's) window, tie,
 * NaN and divisor rules. Both gradients are gathers: each input pixel visits the few windows
 * that cover it, so overlapping windows need no atomics.
 */
import type { TensorInfo } from "../../backend.ts";
import type { PoolGeometry } from "../../pool-geometry.ts";
import type { KernelContext } from "../context.ts";
import { bufferOf, type GpuData } from "../gpu-data.ts";
import type { UniformField } from "../uniform-layout.ts";
import { flatGroups, flatMain, NAN_HELPERS } from "../wgsl-common.ts";

const FIELDS = [
  "size",
  "H",
  "W",
  "OH",
  "OW",
  "kh",
  "kw",
  "sh",
  "sw",
  "padT",
  "padB",
  "padL",
  "padR",
  "includePad",
] as const;
const UNIFORMS: UniformField[] = FIELDS.map((name) => ({ name, type: "i32" }));
const STRUCT = `struct Params { ${FIELDS.map((f) => `${f}: i32,`).join(" ")} }
@group(0) @binding(0) var<uniform> u: Params;`;

function values(g: PoolGeometry, size: number): Record<string, number> {
  return {
    size,
    H: g.inHeight,
    W: g.inWidth,
    OH: g.outHeight,
    OW: g.outWidth,
    kh: g.kernel[0],
    kw: g.kernel[1],
    sh: g.stride[0],
    sw: g.stride[1],
    padT: g.pad[0],
    padB: g.pad[1],
    padL: g.pad[2],
    padR: g.pad[3],
    includePad: g.countIncludePad ? 1 : 0,
  };
}

/**
 * Output windows covering input pixel (ih, iw): oh in [ohLo, ohHi), ow in [owLo, owHi).
 * Window oh spans [oh*sh - padT, oh*sh - padT + kh).
 */
const COVER = /* wgsl */ `
  let ty = ih + u.padT;
  let tx = iw + u.padL;
  let ohLo = select(0, (ty - u.kh) / u.sh + 1, ty >= u.kh);
  let ohHi = min(ty / u.sh + 1, u.OH);
  let owLo = select(0, (tx - u.kw) / u.sw + 1, tx >= u.kw);
  let owHi = min(tx / u.sw + 1, u.OW);`;

/** PyTorch's avg-pool divisor for output (oh, ow) and its window clipped to the input. */
const AVG_WINDOW = /* wgsl */ `
fn axis_window(o: i32, n: i32, k: i32, s: i32, padA: i32, padB: i32) -> vec3<i32> {
  let i0 = o * s - padA;
  let i1 = min(i0 + k, n + padB);
  let start = max(i0, 0);
  let end = min(i1, n);
  return vec3<i32>(start, end, select(end - start, i1 - i0, u.includePad != 0));
}`;

export function maxPool2d(
  ctx: KernelContext,
  x: TensorInfo,
  g: PoolGeometry,
): { out: GpuData; argmax: GpuData } {
  const shape = [g.batch, g.channels, g.outHeight, g.outWidth];
  const out = ctx.output(shape, "float32", "maxPool2d");
  const argmax = ctx.output(shape, "int32", "maxPool2d");
  const n = g.batch * g.channels * g.outHeight * g.outWidth;
  if (n === 0) return { out, argmax };
  const k = ctx.rt.kernel("maxPool2d", () => ({
    name: "maxPool2d",
    uniforms: UNIFORMS,
    wgsl: /* wgsl */ `
${STRUCT}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> argmax: array<i32>;
${NAN_HELPERS}
${flatMain(`  let ow = i % u.OW;
  let oh = (i / u.OW) % u.OH;
  let plane = (i / (u.OW * u.OH)) * u.H * u.W;
  let h0 = oh * u.sh - u.padT;
  let w0 = ow * u.sw - u.padL;
  let hs = max(h0, 0);
  let he = min(h0 + u.kh, u.H);
  let ws = max(w0, 0);
  let we = min(w0 + u.kw, u.W);
  var best = -inf_f32();
  var at = select(-1, hs * u.W + ws, hs < he && ws < we);
  for (var ih = hs; ih < he; ih++) {
    for (var iw = ws; iw < we; iw++) {
      let v = x[plane + ih * u.W + iw];
      // First maximum wins ties; any NaN wins, and a later NaN over an earlier one.
      if (is_nan(v) || (!is_nan(best) && v > best)) { best = v; at = ih * u.W + iw; }
    }
  }
  out[i] = best;
  argmax[i] = at;`)}`,
  }));
  ctx.rt.dispatch(
    k,
    { x: bufferOf(x), out: out.buffer, argmax: argmax.buffer },
    values(g, n),
    flatGroups(n),
  );
  return { out, argmax };
}

export function maxPool2dBackward(
  ctx: KernelContext,
  dy: TensorInfo,
  argmax: TensorInfo,
  g: PoolGeometry,
): GpuData {
  const dx = ctx.output(
    [g.batch, g.channels, g.inHeight, g.inWidth],
    "float32",
    "maxPool2dBackward",
  );
  const n = g.batch * g.channels * g.inHeight * g.inWidth;
  if (n === 0) return dx;
  const k = ctx.rt.kernel("maxPool2dBackward", () => ({
    name: "maxPool2dBackward (gather)",
    uniforms: UNIFORMS,
    wgsl: /* wgsl */ `
${STRUCT}
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> argmax: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
${flatMain(`  let iw = i % u.W;
  let ih = (i / u.W) % u.H;
  let q0 = (i / (u.W * u.H)) * u.OH * u.OW;
  let me = ih * u.W + iw;
  ${COVER}
  var acc = 0.0;
  for (var oh = ohLo; oh < ohHi; oh++) {
    for (var ow = owLo; ow < owHi; ow++) {
      let q = q0 + oh * u.OW + ow;
      if (argmax[q] == me) { acc += dy[q]; }
    }
  }
  dx[i] = acc;`)}`,
  }));
  ctx.rt.dispatch(
    k,
    { dy: bufferOf(dy), argmax: bufferOf(argmax), dx: dx.buffer },
    values(g, n),
    flatGroups(n),
  );
  return dx;
}

export function avgPool2d(ctx: KernelContext, x: TensorInfo, g: PoolGeometry): GpuData {
  const out = ctx.output([g.batch, g.channels, g.outHeight, g.outWidth], "float32", "avgPool2d");
  const n = g.batch * g.channels * g.outHeight * g.outWidth;
  if (n === 0) return out;
  const k = ctx.rt.kernel("avgPool2d", () => ({
    name: "avgPool2d",
    uniforms: UNIFORMS,
    wgsl: /* wgsl */ `
${STRUCT}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${AVG_WINDOW}
${flatMain(`  let ow = i % u.OW;
  let oh = (i / u.OW) % u.OH;
  let plane = (i / (u.OW * u.OH)) * u.H * u.W;
  let hw = axis_window(oh, u.H, u.kh, u.sh, u.padT, u.padB);
  let ww = axis_window(ow, u.W, u.kw, u.sw, u.padL, u.padR);
  var acc = 0.0;
  for (var ih = hw.x; ih < hw.y; ih++) {
    for (var iw = ww.x; iw < ww.y; iw++) { acc += x[plane + ih * u.W + iw]; }
  }
  let empty = hw.x >= hw.y || ww.x >= ww.y;
  out[i] = select(acc / f32(hw.z * ww.z), 0.0, empty);`)}`,
  }));
  ctx.rt.dispatch(k, { x: bufferOf(x), out: out.buffer }, values(g, n), flatGroups(n));
  return out;
}

export function avgPool2dBackward(ctx: KernelContext, dy: TensorInfo, g: PoolGeometry): GpuData {
  const dx = ctx.output(
    [g.batch, g.channels, g.inHeight, g.inWidth],
    "float32",
    "avgPool2dBackward",
  );
  const n = g.batch * g.channels * g.inHeight * g.inWidth;
  if (n === 0) return dx;
  const k = ctx.rt.kernel("avgPool2dBackward", () => ({
    name: "avgPool2dBackward (gather)",
    uniforms: UNIFORMS,
    wgsl: /* wgsl */ `
${STRUCT}
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
${AVG_WINDOW}
${flatMain(`  let iw = i % u.W;
  let ih = (i / u.W) % u.H;
  let q0 = (i / (u.W * u.H)) * u.OH * u.OW;
  ${COVER}
  var acc = 0.0;
  for (var oh = ohLo; oh < ohHi; oh++) {
    let hw = axis_window(oh, u.H, u.kh, u.sh, u.padT, u.padB);
    for (var ow = owLo; ow < owHi; ow++) {
      let ww = axis_window(ow, u.W, u.kw, u.sw, u.padL, u.padR);
      acc += dy[q0 + oh * u.OW + ow] / f32(hw.z * ww.z);
    }
  }
  dx[i] = acc;`)}`,
  }));
  ctx.rt.dispatch(k, { dy: bufferOf(dy), dx: dx.buffer }, values(g, n), flatGroups(n));
  return dx;
}
