/**
 * Data movement: transpose, strided slice, pad, concat, gather and scatterAdd. The copies move
 * raw 32-bit words (array<u32>), so one pipeline serves float32 and int32 tensors alike.
 */
import type { PadMode, TensorInfo } from "../../backend.ts";
import { coalesceAxes, sizeOf, stridesOf } from "../../shape.ts";
import type { KernelContext } from "../context.ts";
import { bufferOf, type GpuData, gpuData } from "../gpu-data.ts";
import { at, elemType, flatGroups, flatMain, vec4Count } from "../wgsl-common.ts";
import { packed, stridedFields, stridedOffsets, stridedStructMembers } from "./index-math.ts";

/** out[i] = x[base + sum_ax idx_ax * strides_ax]: transpose and slice are both this. */
function stridedCopy(
  ctx: KernelContext,
  op: string,
  x: TensorInfo,
  outShape: readonly number[],
  base: number,
  strides: readonly number[],
): GpuData {
  const out = ctx.output(outShape, x.dtype, op);
  const n = sizeOf(outShape);
  if (n === 0) return out;
  const c = coalesceAxes(outShape, [strides]);
  const rank = c.shape.length;
  const k = ctx.rt.kernel(`strided:r${rank}`, () => ({
    name: `strided copy (rank ${rank})`,
    uniforms: [
      { name: "size", type: "i32" },
      { name: "base", type: "i32" },
      ...stridedFields(rank, ["x"]),
    ],
    wgsl: /* wgsl */ `
struct Params {
  size: i32, base: i32,
  ${stridedStructMembers(rank, ["x"])}
}
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
${flatMain(`  ${stridedOffsets(rank, ["x"])}\n  out[i] = x[u.base + off_x];`)}`,
  }));
  ctx.rt.dispatch(
    k,
    { x: bufferOf(x), out: out.buffer },
    { size: n, base, shape: packed(c.shape), st_x: packed(c.strides[0]) },
    flatGroups(n),
  );
  return out;
}

export function transpose(ctx: KernelContext, x: TensorInfo, perm: readonly number[]): GpuData {
  const st = stridesOf(x.shape);
  return stridedCopy(
    ctx,
    "transpose",
    x,
    perm.map((p) => x.shape[p]),
    0,
    perm.map((p) => st[p]),
  );
}

export function slice(
  ctx: KernelContext,
  x: TensorInfo,
  begin: readonly number[],
  size: readonly number[],
  step: readonly number[],
): GpuData {
  const st = stridesOf(x.shape);
  const base = begin.reduce((acc, b, ax) => acc + b * st[ax], 0);
  return stridedCopy(
    ctx,
    "slice",
    x,
    size,
    base,
    step.map((s, ax) => s * st[ax]),
  );
}

/** Source index along one axis for padded position p (reflect = reflect-101, as on the CPU). */
function padSourceWgsl(mode: PadMode): string {
  if (mode === "constant") return "return select(-1, p, p >= 0 && p < n);";
  if (mode === "replicate") return "return clamp(p, 0, n - 1);";
  return `if (p >= 0 && p < n) { return p; }
  if (n == 1) { return 0; }
  let period = 2 * (n - 1);
  var q = ((p % period) + period) % period;
  if (q >= n) { q = period - q; }
  return q;`;
}

export function pad(
  ctx: KernelContext,
  x: TensorInfo,
  pads: readonly (readonly [number, number])[],
  mode: PadMode,
  value: number,
): GpuData {
  const outShape = x.shape.map((d, ax) => d + pads[ax][0] + pads[ax][1]);
  const out = ctx.output(outShape, x.dtype, "pad");
  const n = sizeOf(outShape);
  if (n === 0) return out;
  const rank = x.shape.length;
  const cnt = vec4Count(rank);
  const k = ctx.rt.kernel(`pad:${mode}:r${rank}`, () => {
    const lines = ["var rem = i;", "var off = 0;", "var inside = true;"];
    for (let ax = rank - 1; ax >= 0; ax--) {
      const d = at("oshape", ax);
      lines.push(
        ax === 0 ? "let c0 = rem;" : `let c${ax} = rem % ${d}; rem = rem / ${d};`,
        `let s${ax} = src(c${ax} - ${at("before", ax)}, ${at("ishape", ax)});`,
        `inside = inside && s${ax} >= 0;`,
        `off += s${ax} * ${at("istride", ax)};`,
      );
    }
    return {
      name: `pad ${mode} (rank ${rank})`,
      uniforms: [
        { name: "size", type: "i32" },
        { name: "value", type: "u32" },
        { name: "oshape", type: "vec4i", count: cnt },
        { name: "ishape", type: "vec4i", count: cnt },
        { name: "istride", type: "vec4i", count: cnt },
        { name: "before", type: "vec4i", count: cnt },
      ],
      wgsl: /* wgsl */ `
struct Params {
  size: i32, value: u32,
  oshape: array<vec4<i32>, ${cnt}>, ishape: array<vec4<i32>, ${cnt}>,
  istride: array<vec4<i32>, ${cnt}>, before: array<vec4<i32>, ${cnt}>,
}
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
fn src(p: i32, n: i32) -> i32 {
  ${padSourceWgsl(mode)}
}
${flatMain(`  ${lines.join("\n  ")}\n  out[i] = select(u.value, x[max(off, 0)], inside);`)}`,
    };
  });
  // The fill value as raw bits of the tensor's dtype.
  const bits =
    x.dtype === "int32" ? value | 0 : new Uint32Array(new Float32Array([value]).buffer)[0];
  ctx.rt.dispatch(
    k,
    { x: bufferOf(x), out: out.buffer },
    {
      size: n,
      value: bits >>> 0,
      oshape: packed(outShape),
      ishape: packed(x.shape),
      istride: packed(stridesOf(x.shape)),
      before: packed(pads.map((p) => p[0])),
    },
    flatGroups(n),
  );
  return out;
}

export function concat(
  ctx: KernelContext,
  xs: readonly TensorInfo[],
  axis: number,
  outShape: readonly number[],
): GpuData {
  const out = ctx.output(outShape, xs[0].dtype, "concat");
  const outer = sizeOf(outShape.slice(0, axis));
  const innerOut = sizeOf(outShape.slice(axis));
  const k = ctx.rt.kernel("concat", () => ({
    name: "concat (one input's block copy)",
    uniforms: [
      { name: "size", type: "i32" },
      { name: "chunk", type: "i32" },
      { name: "innerOut", type: "i32" },
      { name: "offset", type: "i32" },
    ],
    wgsl: /* wgsl */ `
struct Params { size: i32, chunk: i32, innerOut: i32, offset: i32, }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
${flatMain("  out[(i / u.chunk) * u.innerOut + u.offset + i % u.chunk] = x[i];")}`,
  }));
  let offset = 0;
  for (const x of xs) {
    const chunk = sizeOf(x.shape.slice(axis));
    const n = outer * chunk;
    if (n > 0) {
      ctx.rt.dispatch(
        k,
        { x: bufferOf(x), out: out.buffer },
        { size: n, chunk, innerOut, offset },
        flatGroups(n),
      );
    }
    offset += chunk;
  }
  return out;
}

/** Backend.interleave: one dispatch per phase, each writing its pixels of the output. */
export function interleave(ctx: KernelContext, xs: readonly TensorInfo[], r: number): GpuData {
  const [n, c, h, w] = xs[0].shape;
  const out = ctx.output([n, c, h * r, w * r], "float32", "interleave");
  const k = ctx.rt.kernel("interleave", () => ({
    name: "interleave (one phase's strided copy)",
    uniforms: [
      { name: "size", type: "i32" },
      { name: "h", type: "i32" },
      { name: "w", type: "i32" },
      { name: "r", type: "i32" },
      { name: "a", type: "i32" },
      { name: "b", type: "i32" },
    ],
    wgsl: /* wgsl */ `
struct Params { size: i32, h: i32, w: i32, r: i32, a: i32, b: i32, }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
${flatMain(`  let plane = u.h * u.w;
  let p = i / plane;
  let y = (i % plane) / u.w;
  let col = i % u.w;
  out[p * plane * u.r * u.r + (u.r * y + u.a) * u.w * u.r + u.r * col + u.b] = x[i];`)}`,
  }));
  const size = n * c * h * w;
  if (size > 0) {
    xs.forEach((x, phase) => {
      ctx.rt.dispatch(
        k,
        { x: bufferOf(x), out: out.buffer },
        { size, h, w, r, a: Math.floor(phase / r), b: phase % r },
        flatGroups(size),
      );
    });
  }
  return out;
}

function checkIndices(host: Int32Array | null, n: number, op: string): void {
  if (!host) return;
  for (const i of host) {
    if (!(i >= 0 && i < n)) {
      throw new Error(`${op}: index ${i} is out of range for an axis of length ${n}`);
    }
  }
}

/**
 * out[o, j, k] = x[o, indices[j], k]. Indices whose values are known on the host are range-checked
 * like on the CPU; indices computed on the GPU cannot be, and an out-of-range one yields 0.
 */
export function gather(
  ctx: KernelContext,
  x: TensorInfo,
  indices: TensorInfo,
  axis: number,
): GpuData {
  const m = sizeOf(indices.shape);
  const len = x.shape[axis];
  checkIndices(gpuData(indices).host, len, "gather");
  const outShape = [...x.shape.slice(0, axis), m, ...x.shape.slice(axis + 1)];
  const out = ctx.output(outShape, x.dtype, "gather");
  const n = sizeOf(outShape);
  if (n === 0) return out;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const k = ctx.rt.kernel("gather", () => ({
    name: "gather",
    uniforms: [
      { name: "size", type: "i32" },
      { name: "inner", type: "i32" },
      { name: "m", type: "i32" },
      { name: "len", type: "i32" },
    ],
    wgsl: /* wgsl */ `
struct Params { size: i32, inner: i32, m: i32, len: i32, }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> indices: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
${flatMain(`  let kk = i % u.inner;
  let t = i / u.inner;
  let j = t % u.m;
  let o = t / u.m;
  let idx = indices[j];
  let ok = idx >= 0 && idx < u.len;
  out[i] = select(0u, x[(o * u.len + select(0, idx, ok)) * u.inner + kk], ok);`)}`,
  }));
  ctx.rt.dispatch(
    k,
    { x: bufferOf(x), indices: bufferOf(indices), out: out.buffer },
    { size: n, inner, m, len },
    flatGroups(n),
  );
  return out;
}

/**
 * The adjoint of gather, as a gather (no atomics): each output element sums the updates whose
 * index hits it. With indices known on the host, their inverse (CSR: position -> the j's that
 * hit it, in ascending j like the CPU loop) is built there; otherwise each output scans them all.
 */
export function scatterAdd(
  ctx: KernelContext,
  updates: TensorInfo,
  indices: TensorInfo,
  axis: number,
  length: number,
): GpuData {
  const m = sizeOf(indices.shape);
  const host = gpuData(indices).host;
  checkIndices(host, length, "scatterAdd");
  const outShape = [...updates.shape.slice(0, axis), length, ...updates.shape.slice(axis + 1)];
  const out = ctx.output(outShape, "float32", "scatterAdd");
  const n = sizeOf(outShape);
  if (n === 0) return out;
  const inner = sizeOf(updates.shape.slice(axis + 1));
  const uniforms = [
    { name: "size", type: "i32" },
    { name: "inner", type: "i32" },
    { name: "m", type: "i32" },
    { name: "len", type: "i32" },
  ] as const;
  const header = /* wgsl */ `
struct Params { size: i32, inner: i32, m: i32, len: i32, }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> updates: array<${elemType(updates.dtype)}>;`;
  const prologue = `  let kk = i % u.inner;
  let t = i / u.inner;
  let l = t % u.len;
  let o = t / u.len;
  var acc = 0.0;`;
  const values = { size: n, inner, m, len: length };
  if (host) {
    const rowStart = new Int32Array(length + 1);
    for (const i of host) rowStart[i + 1]++;
    for (let l = 0; l < length; l++) rowStart[l + 1] += rowStart[l];
    const fillAt = rowStart.slice(0, length);
    const hits = new Int32Array(Math.max(m, 1));
    host.forEach((i, j) => {
      hits[fillAt[i]++] = j;
    });
    const k = ctx.rt.kernel(`scatterAdd:csr:${updates.dtype}`, () => ({
      name: "scatterAdd (host-inverted indices)",
      uniforms,
      wgsl: /* wgsl */ `${header}
@group(0) @binding(2) var<storage, read> rowStart: array<i32>;
@group(0) @binding(3) var<storage, read> hits: array<i32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
${flatMain(`${prologue}
  for (var e = rowStart[l]; e < rowStart[l + 1]; e++) {
    acc += f32(updates[(o * u.m + hits[e]) * u.inner + kk]);
  }
  out[i] = acc;`)}`,
    }));
    ctx.rt.dispatch(
      k,
      {
        updates: bufferOf(updates),
        rowStart: ctx.rt.scratchData(rowStart),
        hits: ctx.rt.scratchData(hits),
        out: out.buffer,
      },
      values,
      flatGroups(n),
    );
    return out;
  }
  const k = ctx.rt.kernel(`scatterAdd:scan:${updates.dtype}`, () => ({
    name: "scatterAdd (scan of indices)",
    uniforms,
    wgsl: /* wgsl */ `${header}
@group(0) @binding(2) var<storage, read> indices: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${flatMain(`${prologue}
  for (var j = 0; j < u.m; j++) {
    if (indices[j] == l) { acc += f32(updates[(o * u.m + j) * u.inner + kk]); }
  }
  out[i] = acc;`)}`,
  }));
  ctx.rt.dispatch(
    k,
    { updates: bufferOf(updates), indices: bufferOf(indices), out: out.buffer },
    values,
    flatGroups(n),
  );
  return out;
}
