/** fill, cast, unary, broadcasting binary and select. */
import type { BinaryOp, DType, TensorInfo, UnaryOp, UnaryParams } from "../../backend.ts";
import { broadcastStrides, coalesceAxes, sizeOf } from "../../shape.ts";
import type { KernelContext } from "../context.ts";
import { bufferOf, type GpuData } from "../gpu-data.ts";
import { elemType, flatGroups, flatMain, NAN_HELPERS } from "../wgsl-common.ts";
import { packed, stridedFields, stridedOffsets, stridedStructMembers } from "./index-math.ts";
import { UNARY_HELPERS, unaryExpr } from "./unary-wgsl.ts";

export function fill(
  ctx: KernelContext,
  shape: readonly number[],
  value: number,
  dtype: DType,
): GpuData {
  const out = ctx.output(shape, dtype, "fill");
  const n = sizeOf(shape);
  if (n === 0) return out;
  const t = elemType(dtype);
  const k = ctx.rt.kernel(`fill:${t}`, () => ({
    name: `fill(${dtype})`,
    uniforms: [
      { name: "size", type: "i32" },
      { name: "value", type: t },
    ],
    wgsl: /* wgsl */ `
struct Params { size: i32, value: ${t}, }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read_write> out: array<${t}>;
${flatMain("  out[i] = u.value;")}`,
  }));
  ctx.rt.dispatch(k, { out: out.buffer }, { size: n, value }, flatGroups(n));
  return out;
}

export function cast(ctx: KernelContext, x: TensorInfo, dtype: DType): GpuData {
  const out = ctx.output(x.shape, dtype, "cast");
  const n = sizeOf(x.shape);
  if (n === 0) return out;
  const from = elemType(x.dtype);
  const to = elemType(dtype);
  // f32 -> i32 truncates toward zero (WGSL conversion rounds toward zero, like Math.trunc).
  const expr = from === to ? "x[i]" : `${to}(x[i])`;
  const k = ctx.rt.kernel(`cast:${from}:${to}`, () => ({
    name: `cast(${x.dtype} -> ${dtype})`,
    uniforms: [{ name: "size", type: "i32" }],
    wgsl: /* wgsl */ `
struct Params { size: i32, }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> x: array<${from}>;
@group(0) @binding(2) var<storage, read_write> out: array<${to}>;
${flatMain(`  out[i] = ${expr};`)}`,
  }));
  ctx.rt.dispatch(k, { x: bufferOf(x), out: out.buffer }, { size: n }, flatGroups(n));
  return out;
}

export function unary(
  ctx: KernelContext,
  op: UnaryOp,
  x: TensorInfo,
  p: UnaryParams = {},
): GpuData {
  const out = ctx.output(x.shape, "float32", op);
  const n = sizeOf(x.shape);
  if (n === 0) return out;
  const t = elemType(x.dtype);
  const k = ctx.rt.kernel(`unary:${op}:${t}`, () => ({
    name: `unary ${op}`,
    uniforms: [
      { name: "size", type: "i32" },
      { name: "a", type: "f32" },
      { name: "b", type: "f32" },
    ],
    wgsl: /* wgsl */ `
struct Params { size: i32, a: f32, b: f32, }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> xs: array<${t}>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${NAN_HELPERS}
${UNARY_HELPERS}
${flatMain(`  let x = f32(xs[i]);\n  out[i] = ${unaryExpr(op)};`)}`,
  }));
  const defaults =
    op === "leakyRelu"
      ? { a: p.a ?? 0.01, b: 0 }
      : { a: p.a ?? Number.NEGATIVE_INFINITY, b: p.b ?? Number.POSITIVE_INFINITY };
  ctx.rt.dispatch(k, { xs: bufferOf(x), out: out.buffer }, { size: n, ...defaults }, flatGroups(n));
  return out;
}

const BINARY_HELPERS = /* wgsl */ `
fn max_(a: f32, b: f32) -> f32 {
  if (is_nan(a)) { return a; }
  if (is_nan(b)) { return b; }
  return max(a, b);
}
fn min_(a: f32, b: f32) -> f32 {
  if (is_nan(a)) { return a; }
  if (is_nan(b)) { return b; }
  return min(a, b);
}
fn pow_(a: f32, b: f32) -> f32 {
  // Math.pow semantics: x^0 = 1 (even NaN), negative bases only with integer exponents.
  if (b == 0.0) { return 1.0; }
  if (is_nan(a) || is_nan(b)) { return nan_f32(); }
  if (b == 1.0) { return a; }
  if (b == 2.0) { return a * a; }
  let m = exp2(b * log2(abs(a)));
  if (a >= 0.0) { return m; }
  if (floor(b) != b) { return nan_f32(); }
  return select(m, -m, abs(b) % 2.0 == 1.0);
}
fn ordered(a: f32, b: f32) -> bool { return !(is_nan(a) || is_nan(b)); }
`;

function binaryExpr(op: BinaryOp): string {
  switch (op) {
    case "add":
      return "a + b";
    case "sub":
      return "a - b";
    case "mul":
      return "a * b";
    case "div":
      return "a / b";
    case "max":
      return "max_(a, b)";
    case "min":
      return "min_(a, b)";
    case "pow":
      return "pow_(a, b)";
    case "greater":
      return "select(0.0, 1.0, ordered(a, b) && a > b)";
    case "greaterEqual":
      return "select(0.0, 1.0, ordered(a, b) && a >= b)";
    case "less":
      return "select(0.0, 1.0, ordered(a, b) && a < b)";
    case "lessEqual":
      return "select(0.0, 1.0, ordered(a, b) && a <= b)";
    case "equal":
      return "select(0.0, 1.0, ordered(a, b) && a == b)";
    case "mulStep":
      return "a * select(select(0.0, 1.0, b > 0.0), b, is_nan(b))";
  }
}

/**
 * Shared body of binary and select: operands broadcast to outShape, dims coalesced, then either
 * a flat kernel (every operand contiguous or scalar) or a rank-specialised strided one.
 */
function broadcastKernel(
  ctx: KernelContext,
  opName: string,
  inputs: readonly TensorInfo[],
  names: readonly string[],
  outShape: readonly number[],
  helpers: string,
  body: string,
): GpuData {
  const out = ctx.output(outShape, "float32", opName);
  const n = sizeOf(outShape);
  if (n === 0) return out;
  const { shape, strides } = coalesceAxes(
    outShape,
    inputs.map((x) => broadcastStrides(x.shape, outShape)),
  );
  const rank = shape.length;
  const types = inputs.map((x) => elemType(x.dtype));
  // Flat when each operand is either contiguous like the output or a single broadcast value.
  const flat = rank <= 1;
  const key = `${opName}:${types.join(",")}:${flat ? `flat:${strides.map((s) => s[0] ?? 0).join(",")}` : `r${rank}`}`;
  const k = ctx.rt.kernel(key, () => {
    const decls = names
      .map(
        (nm, j) => `@group(0) @binding(${j + 1}) var<storage, read> in_${nm}: array<${types[j]}>;`,
      )
      .join("\n");
    const loads = flat
      ? names.map(
          (nm, j) => `  let ${nm} = f32(in_${nm}[${(strides[j][0] ?? 0) === 0 ? "0" : "i"}]);`,
        )
      : names.map((nm) => `  let ${nm} = f32(in_${nm}[off_${nm}]);`);
    const index = flat ? "" : `  ${stridedOffsets(rank, names)}\n`;
    return {
      name: `${opName} (rank ${rank})`,
      uniforms: [{ name: "size", type: "i32" }, ...(flat ? [] : stridedFields(rank, names))],
      wgsl: /* wgsl */ `
struct Params {
  size: i32,
  ${flat ? "" : stridedStructMembers(rank, names)}
}
@group(0) @binding(0) var<uniform> u: Params;
${decls}
@group(0) @binding(${names.length + 1}) var<storage, read_write> out: array<f32>;
${NAN_HELPERS}
${helpers}
${flatMain(`${index}${loads.join("\n")}\n  out[i] = ${body};`)}`,
    };
  });
  const buffers: Record<string, GPUBuffer> = { out: out.buffer };
  const uniforms: Record<string, number | number[]> = { size: n };
  names.forEach((nm, j) => {
    buffers[`in_${nm}`] = bufferOf(inputs[j]);
    if (!flat) uniforms[`st_${nm}`] = packed(strides[j]);
  });
  if (!flat) uniforms.shape = packed(shape);
  ctx.rt.dispatch(k, buffers, uniforms, flatGroups(n));
  return out;
}

export function binary(
  ctx: KernelContext,
  op: BinaryOp,
  a: TensorInfo,
  b: TensorInfo,
  outShape: readonly number[],
): GpuData {
  return broadcastKernel(ctx, op, [a, b], ["a", "b"], outShape, BINARY_HELPERS, binaryExpr(op));
}

export function select(
  ctx: KernelContext,
  cond: TensorInfo,
  a: TensorInfo,
  b: TensorInfo,
  outShape: readonly number[],
): GpuData {
  // cond != 0 on the bit pattern: NaN counts as true and -0 as false, as in the CPU backend.
  const test = cond.dtype === "int32" ? "c != 0.0" : "(bitcast<u32>(c) & 0x7fffffffu) != 0u";
  return broadcastKernel(
    ctx,
    "select",
    [cond, a, b],
    ["c", "a", "b"],
    outShape,
    "",
    `select(b, a, ${test})`,
  );
}
