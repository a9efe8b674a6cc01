/**
 * sum / max / min over any set of axes, and argMax along one axis.
 *
 * Kept and reduced axes are coalesced separately; each thread reduces a contiguous chunk of one
 * output's reduction group, walking the reduced axes with an odometer (one division per chunk,
 * not per element). When there are few outputs and long groups, the work is split into partial
 * results per chunk and reduced again by the same kernel, so a full sum is not one serial thread.
 */
import type { ReduceOp, TensorInfo } from "../../backend.ts";
import { coalesceAxes, sizeOf, stridesOf } from "../../shape.ts";
import type { KernelContext } from "../context.ts";
import { bufferOf, type GpuData } from "../gpu-data.ts";
import { at, elemType, flatGroups, flatMain, NAN_HELPERS, vec4Count } from "../wgsl-common.ts";
import { packed } from "./index-math.ts";

/** Aim for about this many threads before splitting groups further. */
const TARGET_THREADS = 8192;
/** Never split a group into chunks shorter than this. */
const MIN_CHUNK = 64;

function combine(op: ReduceOp): string {
  if (op === "sum") return "acc = acc + v;";
  const cmp = op === "max" ? ">" : "<";
  return `if (is_nan(v)) { acc = v; break; }\n    if (v ${cmp} acc) { acc = v; }`;
}

function init(op: ReduceOp): string {
  return op === "sum" ? "0.0" : op === "max" ? "-inf_f32()" : "inf_f32()";
}

interface Plan {
  keptShape: number[];
  keptStrides: number[];
  redShape: number[];
  redStrides: number[];
}

function plan(shape: readonly number[], axes: readonly number[]): Plan {
  const st = stridesOf(shape);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const k = coalesceAxes(
    kept.map((i) => shape[i]),
    [kept.map((i) => st[i])],
  );
  const r = coalesceAxes(
    axes.map((i) => shape[i]),
    [axes.map((i) => st[i])],
  );
  return {
    keptShape: k.shape,
    keptStrides: k.strides[0],
    redShape: r.shape,
    redStrides: r.strides[0],
  };
}

/** One pass: out[o * parts + p] = reduction of chunk p of output o's group. */
function reducePass(
  ctx: KernelContext,
  op: ReduceOp,
  x: GPUBuffer,
  dtype: "float32" | "int32",
  p: Plan,
  parts: number,
  outShape: readonly number[],
): GpuData {
  const kr = p.keptShape.length;
  const rr = p.redShape.length;
  const groupSize = sizeOf(p.redShape);
  const outputs = sizeOf(p.keptShape);
  const chunk = Math.ceil(groupSize / parts);
  const out = ctx.output(outShape, "float32", op);
  const n = outputs * parts;
  if (n === 0) return out;
  const t = elemType(dtype);
  const k = ctx.rt.kernel(`reduce:${op}:${t}:k${kr}:r${rr}`, () => {
    const kc = vec4Count(kr);
    const rc = vec4Count(rr);
    const lines: string[] = [];
    // base offset of output o from the kept axes
    lines.push("var rem = o;", "var off = 0;");
    for (let ax = kr - 1; ax >= 0; ax--) {
      const d = at("kshape", ax);
      lines.push(ax === 0 ? "let k0 = rem;" : `let k${ax} = rem % ${d}; rem = rem / ${d};`);
      lines.push(`off += k${ax} * ${at("kstride", ax)};`);
    }
    // odometer start at r0 within the reduced axes
    lines.push("var rrem = r0;");
    for (let ax = rr - 1; ax >= 0; ax--) {
      const d = at("rshape", ax);
      lines.push(ax === 0 ? "var q0 = rrem;" : `var q${ax} = rrem % ${d}; rrem = rrem / ${d};`);
      lines.push(`off += q${ax} * ${at("rstride", ax)};`);
    }
    const carry: string[] = [];
    for (let ax = rr - 1; ax >= 1; ax--) {
      carry.push(
        `if (q${ax} == ${at("rshape", ax)}) { q${ax} = 0; off -= ${at("rshape", ax)} * ${at("rstride", ax)}; q${ax - 1} += 1; off += ${at("rstride", ax - 1)}; }`,
      );
    }
    const step =
      rr === 0
        ? ""
        : `q${rr - 1} += 1; off += ${at("rstride", rr - 1)};\n    ${carry.join("\n    ")}`;
    return {
      name: `reduce ${op} (kept rank ${kr}, reduced rank ${rr})`,
      uniforms: [
        { name: "size", type: "i32" },
        { name: "parts", type: "i32" },
        { name: "chunk", type: "i32" },
        { name: "group", type: "i32" },
        { name: "kshape", type: "vec4i", count: kc },
        { name: "kstride", type: "vec4i", count: kc },
        { name: "rshape", type: "vec4i", count: rc },
        { name: "rstride", type: "vec4i", count: rc },
      ],
      wgsl: /* wgsl */ `
struct Params {
  size: i32, parts: i32, chunk: i32, group: i32,
  kshape: array<vec4<i32>, ${kc}>, kstride: array<vec4<i32>, ${kc}>,
  rshape: array<vec4<i32>, ${rc}>, rstride: array<vec4<i32>, ${rc}>,
}
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<${t}>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${NAN_HELPERS}
${flatMain(`  let o = i / u.parts;
  let r0 = (i % u.parts) * u.chunk;
  let r1 = min(r0 + u.chunk, u.group);
  ${lines.join("\n  ")}
  var acc = ${init(op)};
  for (var r = r0; r < r1; r++) {
    let v = f32(x[off]);
    ${combine(op)}
    ${step}
  }
  out[i] = acc;`)}`,
    };
  });
  ctx.rt.dispatch(
    k,
    { x, out: out.buffer },
    {
      size: n,
      parts,
      chunk,
      group: groupSize,
      kshape: packed(p.keptShape),
      kstride: packed(p.keptStrides),
      rshape: packed(p.redShape),
      rstride: packed(p.redStrides),
    },
    flatGroups(n),
  );
  return out;
}

export function reduce(
  ctx: KernelContext,
  op: ReduceOp,
  x: TensorInfo,
  axes: readonly number[],
): GpuData {
  const outShape = x.shape.filter((_, i) => !axes.includes(i));
  let p = plan(x.shape, axes);
  const outputs = sizeOf(p.keptShape);
  let src = bufferOf(x);
  let dtype = x.dtype;
  let partial: GpuData | null = null;
  for (;;) {
    const group = sizeOf(p.redShape);
    const want = Math.min(
      Math.ceil(TARGET_THREADS / Math.max(outputs, 1)),
      Math.floor(group / MIN_CHUNK),
    );
    const parts = want > 1 ? Math.ceil(group / Math.ceil(group / want)) : 1;
    const out = reducePass(ctx, op, src, dtype, p, parts, parts > 1 ? [outputs, parts] : outShape);
    if (partial) ctx.free(partial);
    if (parts === 1) return out;
    // Reduce the partial results [outputs, parts] along their last axis.
    partial = out;
    src = out.buffer;
    dtype = "float32";
    p = {
      keptShape: outputs > 1 ? [outputs] : [],
      keptStrides: outputs > 1 ? [parts] : [],
      redShape: [parts],
      redStrides: [1],
    };
  }
}

export function argMax(ctx: KernelContext, x: TensorInfo, axis: number): GpuData {
  const outShape = x.shape.filter((_, i) => i !== axis);
  const out = ctx.output(outShape, "int32", "argMax");
  const n = sizeOf(outShape);
  if (n === 0) return out;
  const len = x.shape[axis];
  const inner = sizeOf(x.shape.slice(axis + 1));
  const t = elemType(x.dtype);
  const k = ctx.rt.kernel(`argMax:${t}`, () => ({
    name: "argMax",
    uniforms: [
      { name: "size", type: "i32" },
      { name: "len", type: "i32" },
      { name: "inner", type: "i32" },
    ],
    wgsl: /* wgsl */ `
struct Params { size: i32, len: i32, inner: i32, }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<${t}>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;
${NAN_HELPERS}
${flatMain(`  let base = (i / u.inner) * u.len * u.inner + i % u.inner;
  var best = 0;
  var bestV = f32(x[base]);
  // First maximum wins; the first NaN beats every number (CPU backend rule).
  for (var j = 1; j < u.len; j++) {
    let v = f32(x[base + j * u.inner]);
    if (!is_nan(bestV) && (is_nan(v) || v > bestV)) { best = j; bestV = v; }
  }
  out[i] = best;`)}`,
  }));
  ctx.rt.dispatch(k, { x: bufferOf(x), out: out.buffer }, { size: n, len, inner }, flatGroups(n));
  return out;
}
